"""Issue 20 in Telegram: a hung question is bounded and blocks no other chat, the Sources
store survives damage while the bot runs, Sources are re-checked against their files when
expanded, and /start never waits for its examples to be checked."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.engine import Newsbot
from bot.telegram import deadline
from bot.telegram.app import TOO_SLOW
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    OTHER_QUESTION,
    QUESTION,
    local_http_only,
    running_bot,
    token_never_logged,
)

HANGING = "Who is Ryan Ding? (hangs)"


class HangsOnRequest(Newsbot):
    """Blocks forever (until the test ends) on questions that say so, as a FIFO at a cited
    path once made `ask` block."""

    release = threading.Event()

    def ask(self, question: str, **options):
        if "(hangs)" in question:
            self.release.wait()
        return super().ask(question, **options)


def test_hung_questions_are_bounded_and_block_no_other_chat(
    seed_settings, seed_bot, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline, "WORKERS", 2)
    monkeypatch.setattr(deadline, "ANSWER_SECONDS", 4.0)
    newsbot = HangsOnRequest(seed_settings, embedder=embedder)
    hung_chats = range(70, 70 + deadline.WORKERS + 1)  # more hung questions than workers

    async def scenario() -> None:
        try:
            await answered_and_bounded()  # the bot stops although the hung threads still hang
        finally:
            HangsOnRequest.release.set()

    async def answered_and_bounded() -> None:
        async with running_bot(seed_settings, newsbot) as (server, _):
            for chat in hung_chats:
                server.message(chat, HANGING)
            await server.wait_for(lambda: bool(server.calls_to("sendChatAction", 70)), 60)
            server.message(80, OTHER_QUESTION)
            [answer] = await server.wait_sent(80, 1, timeout=60)
            assert answer["text"].startswith(seed_bot.ask(OTHER_QUESTION).answer)
            for chat in hung_chats:
                [reply] = await server.wait_sent(chat, 1, timeout=60)
                assert reply["text"] == TOO_SLOW
            server.message(80, QUESTION)  # the slots the hung questions held are free again
            await server.wait_sent(80, 2, timeout=60)

    asyncio.run(scenario())
