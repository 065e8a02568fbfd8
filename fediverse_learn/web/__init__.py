"""The web edge: HTTP routes for discovery, actor documents and HTML pages."""

__all__: list[str] = []
