"""A SQLite file that is a convenience, not a record: when it is damaged, even while it is in
use, it is set aside and started afresh rather than failing every caller (issue 20).

`SelfHealingDatabase.run(operation)` runs `operation(connection)` under a lock. On a database
error (a file that is not a database, a damaged page, a disk I/O error) the connection is
closed, the file and its `-wal`/`-shm` companions are moved to `<name>.damaged-<time>`, a fresh
database with the schema is opened, one warning is logged, and the operation runs once more.
Where the directory cannot be written (a bot running as its own user over an index built by
another), the database lives in memory until restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")
_COMPANIONS = ("-wal", "-shm", "-journal")


class SelfHealingDatabase:
    """One shared connection (WAL) to `path`, created with `schema`; thread-safe."""

    def __init__(
        self,
        path: Path,
        schema: str,
        what: str = "database",
        upgrade: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """`schema`: SQL run on every open (CREATE ... IF NOT EXISTS); `upgrade(connection)`
        then brings a file made by an older version up to date (e.g. adds a column)."""
        self.path = path
        self.schema = schema
        self.upgrade = upgrade
        self.what = what  # named in the warning, e.g. "the Sources store"
        self.in_memory = False
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """`operation(connection)`; after a database error, once more on a fresh database."""
        with self._lock:
            for attempt in range(3):
                try:
                    return operation(self._connect())
                except sqlite3.DatabaseError as error:
                    if _busy(error) or attempt == 2:
                        raise
                    # A fresh file first; if even that fails, memory.
                    self._start_afresh(error, to_memory=attempt == 1)
            raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open(self.path)
            except sqlite3.DatabaseError as error:  # not a database, or damaged: start afresh
                self._start_afresh(error)
                self._db = self._open(":memory:" if self.in_memory else self.path)
        return self._db

    def _start_afresh(self, error: sqlite3.DatabaseError, to_memory: bool = False) -> None:
        """Close, set the damaged file aside (or fall back to memory), and say so once."""
        self.close()
        if self.in_memory:
            logger.warning("%s in memory failed (%s); starting it afresh", self.what, error)
            return
        if to_memory or not (self.path.is_file() and os.access(self.path.parent, os.W_OK)):
            self.in_memory = True
            logger.warning(
                "%s %s cannot be used (%s); it is kept in memory until restart",
                self.what,
                self.path,
                error,
            )
            return
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        try:
            self.path.replace(aside)
            for suffix in _COMPANIONS:
                companion = self.path.with_name(self.path.name + suffix)
                with contextlib.suppress(FileNotFoundError):
                    companion.replace(aside.with_name(aside.name + suffix))
        except OSError as failure:
            self.in_memory = True
            logger.warning(
                "%s %s is unusable (%s) and cannot be moved aside (%s); it is kept in memory "
                "until restart",
                self.what,
                self.path,
                error,
                failure,
            )
            return
        logger.warning(
            "%s %s is unusable (%s); moved to %s and started afresh",
            self.what,
            self.path,
            error,
            aside.name,
        )

    def _open(self, path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, fast commits
            db.executescript(self.schema)
            if self.upgrade is not None:
                self.upgrade(db)
        except sqlite3.DatabaseError:
            db.close()
            raise
        db.isolation_level = "DEFERRED"
        return db


def _busy(error: sqlite3.DatabaseError) -> bool:
    """Another process holds the database: not damage, so nothing is set aside."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
