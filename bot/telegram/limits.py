"""Pacing for the Telegram bot: questions per user, messages per Telegram's flood limits, and
updates one chat at a time."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

LIMITER_USERS_BEFORE_PRUNING = 10_000
MAX_CONCURRENT_UPDATES = 256


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

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send chat actions straight away; everything else through AIORateLimiter."""
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat in arrival order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # A chat's lock lives while an update of that chat holds or awaits it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await `coroutine` under its chat's lock (asyncio locks are first come, first served)."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
