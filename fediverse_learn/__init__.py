"""fediverse-learn: a learning commons on the fediverse (core package: config, storage, signatures, fetching)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
