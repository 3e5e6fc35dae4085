"""Telegram conversations: one per private chat, and one per reply thread in groups, kept in
SQLite next to the Sources store so that a restart does not forget them; each expires after
`conversation_minutes` without a question. Each chat's /filter is kept there too, until it is
changed or cleared."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from telegram import Message
from telegram.constants import ChatType

from bot.conversation import Conversation, Turn
from bot.filters import SearchFilter
from bot.sqlite_file import SelfHealingDatabase

FILE_NAME = "telegram-conversations.sqlite3"
PRIVATE_THREAD = 0  # a private chat is one conversation
MAX_THREADS = 100_000  # conversations kept at most (the least recently used go first)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    chat_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    updated REAL NOT NULL,
    turn TEXT NOT NULL,
    PRIMARY KEY (chat_id, thread_id)
);
CREATE INDEX IF NOT EXISTS threads_updated ON threads (updated);
CREATE TABLE IF NOT EXISTS messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    created REAL NOT NULL,
    turn TEXT,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created);
CREATE TABLE IF NOT EXISTS chat_filters (
    chat_id INTEGER PRIMARY KEY,
    since TEXT,
    until TEXT,
    source TEXT
);
"""


class ConversationStore:
    """The last turn of each conversation by (chat, thread), and which thread each of the bot's
    answers belongs to and the turn it answered (a reply to it continues from that turn, even
    after others in the group went on from the same answer). Thread-safe; a damaged file is
    set aside and started afresh, as the Sources store's is (bot/sqlite_file.py).

    `clock` (seconds, like `time.time`) decides expiry; tests pass their own."""

    def __init__(self, path: Path, max_age: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_age = max_age
        self.clock = clock
        self.database = SelfHealingDatabase(path, _SCHEMA, "the conversations store", _upgrade)

    @property
    def enabled(self) -> bool:
        """False when `conversation_minutes` is 0: every question is asked on its own."""
        return self.max_age > 0

    def load(self, chat_id: int, thread_id: int, replying_to: int | None = None) -> Conversation:
        """The conversation of this thread; a fresh one if there is none or it expired. Given
        the bot's answer `replying_to` (a group's reply), the conversation goes on from the turn
        that answer answered, not from the thread's latest turn: two people who reply to one
        answer each go on from it, and not from each other's follow-ups; in a private chat, a
        reply to an earlier answer goes back to it."""
        if not self.enabled:
            return Conversation()
        if replying_to is not None:
            answered = self._answered_turn(chat_id, thread_id, replying_to)
            if answered is not None:
                return Conversation(answered)
        row = self.database.run(
            lambda db: db.execute(
                "SELECT updated, turn FROM threads WHERE chat_id = ? AND thread_id = ?",
                (chat_id, thread_id),
            ).fetchone()
        )
        if row is None or row[0] < self.clock() - self.max_age:
            return Conversation()
        try:
            turn = Turn.from_json(json.loads(row[1]))
        except (ValueError, TypeError):
            turn = None
        return Conversation(turn)

    def _answered_turn(self, chat_id: int, thread_id: int, message_id: int) -> Turn | None:
        """The turn the bot's message `message_id` answered in this thread; None if unknown,
        expired, or its thread was ended by /new."""
        row = self.database.run(
            lambda db: db.execute(
                "SELECT created, turn FROM messages "
                "WHERE chat_id = ? AND message_id = ? AND thread_id = ?",
                (chat_id, message_id, thread_id),
            ).fetchone()
        )
        if row is None or row[1] is None or row[0] < self.clock() - self.max_age:
            return None
        try:
            return Turn.from_json(json.loads(row[1]))
        except (ValueError, TypeError):
            return None

    def save(
        self, chat_id: int, thread_id: int, conversation: Conversation, answers: Iterable[int]
    ) -> None:
        """Keep the conversation's last turn, and remember that the bot's messages `answers`
        belong to this thread. Expired threads and the oldest beyond MAX_THREADS make room."""
        if not self.enabled or conversation.last is None:
            return
        now = self.clock()
        turn = json.dumps(conversation.last.to_json(), ensure_ascii=False)

        def save(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO threads (chat_id, thread_id, updated, turn) "
                    "VALUES (?, ?, ?, ?)",
                    (chat_id, thread_id, now, turn),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO messages "
                    "(chat_id, message_id, thread_id, created, turn) VALUES (?, ?, ?, ?, ?)",
                    [(chat_id, message_id, thread_id, now, turn) for message_id in answers],
                )
                db.execute("DELETE FROM threads WHERE updated < ?", (now - self.max_age,))
                db.execute("DELETE FROM messages WHERE created < ?", (now - self.max_age,))
                db.execute(
                    "DELETE FROM threads WHERE rowid IN (SELECT rowid FROM threads "
                    "ORDER BY updated DESC LIMIT -1 OFFSET ?)",
                    (MAX_THREADS,),
                )

        self.database.run(save)

    def thread_of(self, chat_id: int, message_id: int) -> int | None:
        """The thread the bot's message `message_id` answered in; None if unknown or expired."""
        if not self.enabled:
            return None
        row = self.database.run(
            lambda db: db.execute(
                "SELECT thread_id, created FROM messages WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            ).fetchone()
        )
        if row is None or row[1] < self.clock() - self.max_age:
            return None
        return int(row[0])

    def forget(self, chat_id: int, thread_id: int) -> None:
        """End a conversation (/new): its next question starts afresh."""

        def forget(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "DELETE FROM threads WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id)
                )
                db.execute(  # its answers still lead to the thread, but to no turn
                    "UPDATE messages SET turn = NULL WHERE chat_id = ? AND thread_id = ?",
                    (chat_id, thread_id),
                )

        self.database.run(forget)

    def filter_of(self, chat_id: int) -> SearchFilter:
        """The chat's /filter (an inactive one if it set none)."""
        row = self.database.run(
            lambda db: db.execute(
                "SELECT since, until, source FROM chat_filters WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        )
        if row is None:
            return SearchFilter()
        since, until, source = row
        try:
            return SearchFilter(
                date.fromisoformat(since) if since else None,
                date.fromisoformat(until) if until else None,
                source or None,
            )
        except ValueError:  # written by hand or by another version: no filter
            return SearchFilter()

    def set_filter(self, chat_id: int, chosen: SearchFilter) -> None:
        """Keep the chat's /filter; an inactive one clears it."""

        def store(db: sqlite3.Connection) -> None:
            with db:
                if not chosen.active:
                    db.execute("DELETE FROM chat_filters WHERE chat_id = ?", (chat_id,))
                    return
                db.execute(
                    "INSERT OR REPLACE INTO chat_filters (chat_id, since, until, source) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        chat_id,
                        chosen.since.isoformat() if chosen.since else None,
                        chosen.until.isoformat() if chosen.until else None,
                        chosen.source,
                    ),
                )

        self.database.run(store)

    def close(self) -> None:
        self.database.close()


def _upgrade(db: sqlite3.Connection) -> None:
    """Stores written before answers kept their turn have no `turn` column in `messages`."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    if "turn" not in columns:
        db.execute("ALTER TABLE messages ADD COLUMN turn TEXT")


def answer_replied_to(message: Message) -> int | None:
    """The id of the bot's message that `message` replies to (quotes); None otherwise."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    return replied.message_id if replied.from_user.id == message.get_bot().id else None


def conversation_thread(
    message: Message, conversations: ConversationStore | None, *, continuing_only: bool = False
) -> int | None:
    """The conversation `message` belongs to: its private chat's; in a group, the thread of the
    bot's answer it replies to, else a new thread of its own (None with `continuing_only`)."""
    if message.chat.type == ChatType.PRIVATE:
        return PRIVATE_THREAD
    replied = message.reply_to_message
    to_bot = (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == message.get_bot().id
    )
    if conversations is not None and to_bot:
        thread = conversations.thread_of(message.chat_id, replied.message_id)
        if thread is not None:
            return thread
    return None if continuing_only else message.message_id
