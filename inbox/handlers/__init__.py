"""One small module per activity family; `inbox.dispatch.HANDLERS` maps (activity, object) types to them."""

__all__: list[str] = []
