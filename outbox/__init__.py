"""Sending: composing local activities, audience resolution, the durable delivery queue and its worker."""

__all__: list[str] = []
