"""Storage: one SQLite file through aiosqlite; SQL lives only in this package's modules."""

from fediverse_learn.store.db import Database, Transaction

__all__ = ["Database", "Transaction"]
