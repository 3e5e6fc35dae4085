"""What ingestion remembers, in SQLite next to the index (`sources.sqlite3`): the articles it
stored (by URL and by text), the feeds followed, and each feed item fetched."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import NewsbotError

FILE_NAME = "sources.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    path TEXT PRIMARY KEY,          -- relative to the corpus directory
    url TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT ''  -- the URL fetched or the file read ('': the url itself)
);
CREATE INDEX IF NOT EXISTS articles_url ON articles (url);
CREATE INDEX IF NOT EXISTS articles_text ON articles (text_sha256);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    etag TEXT,
    last_modified TEXT,
    added_at TEXT NOT NULL,
    checked_at TEXT,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS items (
    feed_url TEXT NOT NULL,
    link TEXT NOT NULL,
    fingerprint TEXT NOT NULL,      -- of the feed entry: a new one means the item changed
    etag TEXT,
    last_modified TEXT,
    path TEXT NOT NULL DEFAULT '',
    fetched_at TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,  -- transient failures since the last success
    first_failed TEXT,              -- the first of them
    PRIMARY KEY (feed_url, link)
);
"""
# Columns added since the first release, for a sources.sqlite3 made before them.
_ADDED_COLUMNS = {
    "articles": (("origin", "TEXT NOT NULL DEFAULT ''"),),
    "items": (
        ("failures", "INTEGER NOT NULL DEFAULT 0"),
        ("first_failed", "TEXT"),
    ),
}


@dataclass(frozen=True)
class Feed:
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    added_at: str
    checked_at: str | None
    last_error: str
    items: int


@dataclass(frozen=True)
class Item:
    link: str
    fingerprint: str
    etag: str | None
    last_modified: str | None
    path: str
    failures: int = 0  # transient failures since the last success: to be fetched again
    first_failed: str | None = None


_ITEM_COLUMNS = "link, fingerprint, etag, last_modified, path, failures, first_failed"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SourceState:
    """The SQLite file; one connection, serialised by a lock (used from worker threads)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / FILE_NAME
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._add_missing_columns()
        except (OSError, sqlite3.Error) as error:
            raise NewsbotError(f"cannot open {self.path}: {error}") from None
        self._lock = threading.Lock()
        # Text digest -> file of every article in the corpus: `pages.store` reads it once a run.
        self.corpus_texts: dict[str, str] | None = None

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns:
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SourceState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # Articles
    def article_by_url(self, url: str) -> tuple[str, str] | None:
        """(file, origin: the URL fetched or the file read, '' for the url itself) of the
        article stored under `url`, if any."""
        rows = self._run(
            "SELECT path, origin FROM articles WHERE url = ? ORDER BY stored_at", (url,)
        )
        return rows[0] if rows else None

    def articles_by_text(self, text_sha256: str) -> list[str]:
        rows = self._run("SELECT path FROM articles WHERE text_sha256 = ?", (text_sha256,))
        return [row[0] for row in rows]

    def remember_article(self, path: str, url: str, text_sha256: str, origin: str = "") -> None:
        self._run(
            "INSERT OR REPLACE INTO articles (path, url, text_sha256, stored_at, origin)"
            " VALUES (?, ?, ?, ?, ?)",
            (path, url, text_sha256, now(), origin),
        )

    # Feeds
    def add_feed(self, url: str, title: str) -> bool:
        """Follow a feed; False if it was followed already (its title is refreshed)."""
        with self._lock:
            known = self._db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone()
            if known:
                self._db.execute("UPDATE feeds SET title = ? WHERE url = ?", (title, url))
                return False
            self._db.execute(
                "INSERT INTO feeds (url, title, added_at) VALUES (?, ?, ?)", (url, title, now())
            )
            return True

    def remove_feed(self, url: str) -> bool:
        with self._lock:
            removed = self._db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount
            self._db.execute("DELETE FROM items WHERE feed_url = ?", (url,))
        return bool(removed)

    def feeds(self) -> list[Feed]:
        rows = self._run(
            "SELECT f.url, f.title, f.etag, f.last_modified, f.added_at, f.checked_at,"
            " f.last_error, (SELECT COUNT(*) FROM items i WHERE i.feed_url = f.url)"
            " FROM feeds f ORDER BY f.rowid"
        )
        return [Feed(*row) for row in rows]

    def feed_checked(
        self,
        url: str,
        *,
        title: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str = "",
    ) -> None:
        """Record a fetch of the feed: its validators on success, the error otherwise."""
        if error:
            self._run(
                "UPDATE feeds SET checked_at = ?, last_error = ? WHERE url = ?", (now(), error, url)
            )
            return
        self._run(
            "UPDATE feeds SET checked_at = ?, last_error = '', etag = ?, last_modified = ?,"
            " title = COALESCE(NULLIF(?, ''), title) WHERE url = ?",
            (now(), etag, last_modified, title or "", url),
        )

    # Feed items
    def item(self, feed_url: str, link: str) -> Item | None:
        rows = self._run(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed_url = ? AND link = ?", (feed_url, link)
        )
        return Item(*rows[0]) if rows else None

    def remember_item(
        self,
        feed_url: str,
        link: str,
        fingerprint: str,
        etag: str | None,
        last_modified: str | None,
        path: str,
        failures: int = 0,
        first_failed: str | None = None,
    ) -> None:
        """Record a fetch of the item's page; `failures` > 0: it failed for a reason that may
        pass, and is fetched again at the next update."""
        self._run(
            "INSERT INTO items (feed_url, link, fingerprint, etag, last_modified, path,"
            " fetched_at, first_seen, failures, first_failed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed_url, link) DO UPDATE"
            " SET fingerprint = excluded.fingerprint, etag = excluded.etag,"
            " last_modified = excluded.last_modified, path = excluded.path,"
            " fetched_at = excluded.fetched_at, failures = excluded.failures,"
            " first_failed = excluded.first_failed",
            (
                feed_url,
                link,
                fingerprint,
                etag,
                last_modified,
                path,
                now(),
                now(),
                failures,
                first_failed,
            ),
        )

    def pending_items(self, feed_url: str) -> list[Item]:
        """The feed's items whose last fetch failed for a reason that may pass."""
        rows = self._run(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed_url = ? AND failures > 0 ORDER BY link",
            (feed_url,),
        )
        return [Item(*row) for row in rows]

    def recent_items(self, feed_url: str, since: str) -> list[Item]:
        """The feed's items stored as articles and first seen at `since` or later."""
        rows = self._run(
            f"SELECT {_ITEM_COLUMNS} FROM items"
            " WHERE feed_url = ? AND path != '' AND first_seen >= ? ORDER BY link",
            (feed_url, since),
        )
        return [Item(*row) for row in rows]
