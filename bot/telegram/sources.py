"""What the Sources buttons expand into, kept in SQLite next to the index so the buttons keep
working across restarts: bounded in rows, expired after some days, each key bound to the chat
(or, for inline results, the user) it was made for."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)
FILE_NAME = "telegram-sources.sqlite3"
MAX_ROWS = 10_000  # answers whose Sources can still be expanded (inline queries count too)
MAX_AGE_SECONDS = 7 * 24 * 3600  # a button older than this says the sources expired
ALL = ""  # the key of an entry's full expansion; inline results use their citation's rank

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    key TEXT PRIMARY KEY,
    chat_id INTEGER,
    user_id INTEGER,
    created REAL NOT NULL,
    parts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_created ON sources (created);
"""


@dataclass(frozen=True)
class Sources:
    """One stored expansion: messages (Telegram HTML) by part name, and who may open them."""

    chat_id: int | None
    user_id: int | None
    parts: dict[str, list[str]]


class SourcesStore:
    """Sources by a short random key, in SQLite (thread-safe; one connection, WAL)."""

    def __init__(
        self, path: Path, max_rows: int = MAX_ROWS, max_age: float = MAX_AGE_SECONDS
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self.max_age = max_age
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def put(self, parts: dict[str, list[str]], *, chat_id: int | None, user_id: int | None) -> str:
        """Keep `parts` for `chat_id` (None: any chat) and `user_id`; returns the key
        (12 URL-safe characters). The oldest and the expired entries make room."""
        key = secrets.token_urlsafe(9)
        now = time.time()
        with self._lock:
            db = self._connect()
            with db:
                db.execute(
                    "INSERT INTO sources (key, chat_id, user_id, created, parts) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, chat_id, user_id, now, json.dumps(parts, ensure_ascii=False)),
                )
                db.execute("DELETE FROM sources WHERE created < ?", (now - self.max_age,))
                db.execute(
                    "DELETE FROM sources WHERE key IN (SELECT key FROM sources "
                    "ORDER BY created DESC LIMIT -1 OFFSET ?)",
                    (self.max_rows,),
                )
        return key

    def get(self, key: str) -> Sources | None:
        """The entry under `key`; None if unknown, evicted or expired."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT chat_id, user_id, created, parts FROM sources WHERE key = ?", (key,)
                )
                .fetchone()
            )
        if row is None or row[2] < time.time() - self.max_age:
            return None
        return Sources(row[0], row[1], json.loads(row[3]))

    def forget(self, key: str) -> None:
        """Drop the entry under `key` (its button has been used up)."""
        with self._lock:
            db = self._connect()
            with db:
                db.execute("DELETE FROM sources WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open(self.path)
            except sqlite3.DatabaseError as error:  # not a database, or damaged: start afresh
                if not (self.path.is_file() and os.access(self.path.parent, os.W_OK)):
                    # The index directory is not writable by this user (e.g. a bot running as
                    # its own account over an index built by another): keep Sources in memory.
                    logger.warning(
                        "%s cannot be opened (%s); Sources are kept in memory until restart",
                        self.path,
                        error,
                    )
                    self._db = self._open(":memory:")
                    return self._db
                aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
                logger.warning("%s is unusable (%s); moved to %s", self.path, error, aside.name)
                self.path.replace(aside)
                self._db = self._open(self.path)
        return self._db

    def _open(self, path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, fast commits
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        db.isolation_level = "DEFERRED"
        return db
