"""Pacing for the Telegram bot: questions per user, messages per Telegram's flood limits, and
updates one chat at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

logger = logging.getLogger(__name__)
LIMITER_USERS_BEFORE_PRUNING = 10_000
MAX_CONCURRENT_UPDATES = 256
# Updates one chat may have waiting: about what Telegram lets the bot send there in a minute
# or two (20 messages a minute in a group, about one a second in a private chat).
GROUP_BACKLOG = 30
PRIVATE_BACKLOG = 60
BUSY = (
    "Too many questions here at once: Telegram lets me send only 20 messages a minute in a "
    "group. I am skipping the newest ones; please ask again in a minute or two."
)
# Calls that deliver something to a chat: abandoned at shutdown rather than waited for.
_ABANDONABLE = frozenset(
    {"sendMessage", "editMessageText", "sendChatAction", "answerCallbackQuery", "answerInlineQuery"}
)


class Abandoned(TelegramError):
    """A reply given up at shutdown while it waited for Telegram's flood limits."""


@dataclass(frozen=True)
class Verdict:
    """Whether a user may ask now; if not, when, and whether to tell them (once per wait)."""

    allowed: bool
    retry_in: float = 0.0
    notify: bool = False


class QuestionLimiter:
    """At most `per_minute` questions per user in any sliding minute (0: no limit)."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._asked: defaultdict[int, deque[float]] = defaultdict(deque)
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> Verdict:
        """Record a question by `user_id` if allowed."""
        if self.per_minute <= 0:
            return Verdict(True)
        now = time.monotonic() if now is None else now
        if len(self._asked) > LIMITER_USERS_BEFORE_PRUNING:
            self._forget_idle(now)
        asked = self._asked[user_id]
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        if len(asked) < self.per_minute:
            asked.append(now)
            self._warned.pop(user_id, None)
            return Verdict(True)
        retry_in = asked[0] + self.window - now
        notify = user_id not in self._warned
        self._warned[user_id] = now
        return Verdict(False, retry_in, notify)

    def _forget_idle(self, now: float) -> None:
        """Drop users with no question in the window, so memory stays bounded."""
        for user_id in [
            u for u, asked in self._asked.items() if not asked or asked[-1] <= now - self.window
        ]:
            del self._asked[user_id]
            self._warned.pop(user_id, None)


class FloodLimiter(AIORateLimiter):
    """Paces messages to Telegram's flood limits; "typing…" actions are not paced nor retried,
    so under load they never take the place of an answer."""

    def abandon(self) -> None:
        """Give up every reply still waiting (and any later one): the bot is stopping."""
        self._stopping().set()

    def _stopping(self) -> asyncio.Event:
        if getattr(self, "_stop_event", None) is None:
            self._stop_event = asyncio.Event()
            self.abandoned = 0
        return self._stop_event

    async def shutdown(self) -> None:
        """Say how many replies were abandoned at shutdown."""
        if getattr(self, "abandoned", 0):
            logger.warning(
                "abandoned %d replies still waiting for Telegram's flood limits", self.abandoned
            )
        await super().shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send chat actions straight away; everything else through AIORateLimiter; replies
        still waiting when the bot stops are abandoned (`Abandoned`)."""
        if endpoint not in _ABANDONABLE:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        stopping = self._stopping()
        if stopping.is_set():
            self.abandoned += 1
            raise Abandoned("the bot is stopping")
        if endpoint == "sendChatAction":
            request = asyncio.ensure_future(callback(*args, **kwargs))
        else:
            request = asyncio.ensure_future(
                super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            )
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({request, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if request.done():
            return request.result()
        request.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await request
        self.abandoned += 1
        raise Abandoned("the bot is stopping")


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat in arrival order.

    Each chat queues on its own: an update waits for its chat's turn before it takes one of
    the shared slots, so a slow (flood-limited) group delays only itself. When a chat's backlog
    exceeds what Telegram lets the bot send there in a minute or two, the newest updates are
    dropped and the chat is told once. At shutdown, queued updates are dropped (`abandon`).
    """

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        group_backlog: int = GROUP_BACKLOG,
        private_backlog: int = PRIVATE_BACKLOG,
    ) -> None:
        super().__init__(max_concurrent_updates)
        # A chat's lock lives while an update of that chat holds or awaits it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._pending: Counter[int] = Counter()
        self._told: set[int] = set()  # chats told about their backlog, until it clears
        self.group_backlog = group_backlog
        self.private_backlog = private_backlog
        self.dropped = 0
        self._abandoned = False

    def abandon(self) -> None:
        """Drop every update still waiting for its chat's turn (the bot is stopping)."""
        self._abandoned = True

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's turn, then for a shared slot, then handle the update."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await super().process_update(update, coroutine)
            return
        limit = self.private_backlog if chat.type == ChatType.PRIVATE else self.group_backlog
        if self._abandoned or self._pending[chat.id] >= limit:
            self._drop(coroutine)
            if not self._abandoned and chat.id not in self._told:
                self._told.add(chat.id)
                logger.warning(
                    "chat %s has %d updates waiting; dropping the newest", chat.id, limit
                )
                await _tell(update, BUSY)
            return
        self._pending[chat.id] += 1
        try:
            lock = self._locks.get(chat.id)
            if lock is None:
                lock = self._locks[chat.id] = asyncio.Lock()
            async with lock:
                if self._abandoned:
                    self._drop(coroutine)
                    return
                await super().process_update(update, coroutine)
        finally:
            self._pending[chat.id] -= 1
            if self._pending[chat.id] <= 0:
                del self._pending[chat.id]
                self._told.discard(chat.id)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's handlers (the chat's turn was taken in `process_update`)."""
        await coroutine

    def _drop(self, coroutine: Awaitable[Any]) -> None:
        self.dropped += 1
        if asyncio.iscoroutine(coroutine):
            coroutine.close()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Say how many updates were dropped."""
        if self.dropped:
            logger.warning("dropped %d questions that waited too long for their chat", self.dropped)


async def _tell(update: Update, text: str) -> None:
    """A courtesy reply; a failure to send it is not worth more than the dropped question."""
    message = update.effective_message
    if message is None:
        return
    with contextlib.suppress(TelegramError):
        await message.reply_text(text)
