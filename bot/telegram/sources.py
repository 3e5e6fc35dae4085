"""What the Sources buttons expand into, kept in SQLite next to the index so the buttons keep
working across restarts: bounded in rows, expired after some days, each key bound to the chat
(or, for inline results, the user) it was made for, and each carrying the passages it shows so
they are re-checked against their files before they are shown."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.sqlite_file import SelfHealingDatabase

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
    parts TEXT NOT NULL,
    checks TEXT
);
CREATE INDEX IF NOT EXISTS sources_created ON sources (created);
"""


@dataclass(frozen=True)
class Sources:
    """One stored expansion: messages (Telegram HTML) by part name, and who may open them."""

    chat_id: int | None
    user_id: int | None
    parts: dict[str, list[str]]
    checks: dict[str, list[dict]] = field(default_factory=dict)  # part -> passages it shows


class SourcesStore:
    """Sources by a short random key, in SQLite (thread-safe; one connection, WAL). The store is
    a convenience: damaged, even while the bot runs, it is set aside and started afresh
    (`bot.sqlite_file`), so answers never fail because of it."""

    def __init__(
        self, path: Path, max_rows: int = MAX_ROWS, max_age: float = MAX_AGE_SECONDS
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self.max_age = max_age
        self.database = SelfHealingDatabase(path, _SCHEMA, "the Sources store", _upgrade)

    def put(
        self,
        parts: dict[str, list[str]],
        *,
        chat_id: int | None,
        user_id: int | None,
        checks: dict[str, list[dict]] | None = None,
    ) -> str:
        """Keep `parts` for `chat_id` (None: any chat) and `user_id`, with the passages each
        part shows (`checks`, re-checked against their files when it is opened); returns the
        key (12 URL-safe characters). The oldest and the expired entries make room."""
        key = secrets.token_urlsafe(9)
        now = time.time()
        row = (
            key,
            chat_id,
            user_id,
            now,
            json.dumps(parts, ensure_ascii=False),
            json.dumps(checks or {}, ensure_ascii=False),
        )

        def insert(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT INTO sources (key, chat_id, user_id, created, parts, checks) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
                db.execute("DELETE FROM sources WHERE created < ?", (now - self.max_age,))
                db.execute(
                    "DELETE FROM sources WHERE key IN (SELECT key FROM sources "
                    "ORDER BY created DESC LIMIT -1 OFFSET ?)",
                    (self.max_rows,),
                )

        self.database.run(insert)
        return key

    def get(self, key: str) -> Sources | None:
        """The entry under `key`; None if unknown, evicted or expired."""
        row = self.database.run(
            lambda db: db.execute(
                "SELECT chat_id, user_id, created, parts, checks FROM sources WHERE key = ?",
                (key,),
            ).fetchone()
        )
        if row is None or row[2] < time.time() - self.max_age:
            return None
        return Sources(row[0], row[1], json.loads(row[3]), json.loads(row[4] or "{}"))

    def forget(self, key: str) -> None:
        """Drop the entry under `key` (its button has been used up)."""

        def delete(db: sqlite3.Connection) -> None:
            with db:
                db.execute("DELETE FROM sources WHERE key = ?", (key,))

        self.database.run(delete)

    def close(self) -> None:
        self.database.close()


def _upgrade(db: sqlite3.Connection) -> None:
    """Stores written before Sources were re-checked have no `checks` column."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(sources)")}
    if "checks" not in columns:
        db.execute("ALTER TABLE sources ADD COLUMN checks TEXT")
