"""Answers off the event loop, each within a time bound (issue 20).

A question runs in a daemon thread of its own, at most `WORKERS` at a time (as many as
asyncio's default executor would run). The handler waits at most `ANSWER_SECONDS` for it to
run: past that the user is told, the slot is freed for other chats, and the thread is left to
finish on its own. Being a daemon, a thread that never finishes cannot keep the process from exiting,
and at shutdown every wait is abandoned at once, so SIGTERM is never held up by an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from bot.telegram.limits import Abandoned

T = TypeVar("T")
ANSWER_SECONDS = 90.0  # generous: 150 chats asking at once were all answered within 15 s
WORKERS = min(32, (os.cpu_count() or 1) + 4)


class AnswerTimeout(Exception):
    """The answer took longer than `ANSWER_SECONDS`."""


_waiting: set[asyncio.Future[Any]] = set()
_running: set[threading.Thread] = set()
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def answer_in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in a worker thread once one is free; `AnswerTimeout` if it
    runs longer than `ANSWER_SECONDS`, `Abandoned` if the bot stops meanwhile."""
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(WORKERS))
    future: asyncio.Future[T] = loop.create_future()
    _waiting.add(future)
    held = False  # whether this answer holds a worker slot

    def release() -> None:
        nonlocal held
        if held:
            held = False
            slots.release()

    def settle(outcome: Callable[[], None]) -> None:
        release()
        if not future.done():
            outcome()

    def run() -> None:
        _running.add(threading.current_thread())
        try:
            outcome = functools.partial(future.set_result, function(*args, **kwargs))
        except BaseException as error:  # handed to the waiting handler
            outcome = functools.partial(future.set_exception, error)
        finally:
            _running.discard(threading.current_thread())
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome)

    try:
        await slots.acquire()
        held = True
        if future.done():  # abandoned while it waited for a worker
            return future.result()
        threading.Thread(target=run, name="newsbot-answer", daemon=True).start()
        return await asyncio.wait_for(future, ANSWER_SECONDS)
    except TimeoutError:
        raise AnswerTimeout(f"no answer within {ANSWER_SECONDS:g} s") from None
    finally:
        release()  # the thread may run on past a timeout, but no longer holds a slot
        _waiting.discard(future)


def abandon_answers() -> None:
    """Stop waiting for every answer still being worked on (the bot is stopping)."""
    for future in list(_waiting):
        if not future.done():
            future.set_exception(Abandoned("the bot is stopping"))


def join_answers(timeout: float) -> None:
    """At exit: let answers still being computed finish (native code must not run on while
    the interpreter exits), waiting at most `timeout` seconds in all for hung ones."""
    deadline = time.monotonic() + timeout
    for thread in list(_running):
        thread.join(max(0.0, deadline - time.monotonic()))
