"""Receiving: the inbox endpoint, the durable inbox queue, dispatch and one handler per activity type."""

__all__: list[str] = []
