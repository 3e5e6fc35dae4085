"""Issue 20 in Telegram: a hung question is bounded and blocks no other chat, the Sources
store survives damage while the bot runs, Sources are re-checked against their files when
expanded, and /start never waits for its examples to be checked."""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from bot.config import load_settings
from bot.engine import Newsbot
from bot.indexing import build_index
from bot.telegram import deadline
from bot.telegram.app import APOLOGY, SOURCES_CHANGED, TOO_SLOW
from bot.telegram.sources import ALL, SourcesStore
from bot.telegram.sources import FILE_NAME as SOURCES_FILE
from bot.telegram.state import STATE_KEY
from scripts.bench_integrity import HashEmbedder
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    OTHER_QUESTION,
    QUESTION,
    local_http_only,
    running_bot,
    sent_html,
    settle,
    token_never_logged,
)

HANGING = "Who is Ryan Ding? (hangs)"


class HangsOnRequest(Newsbot):
    """Blocks (until the test ends) on questions that say so, as a FIFO at a cited path once
    made `ask` block; answers the others at once from `canned`, so no real answer can be
    mistaken for a hung one however busy the machine is."""

    release = threading.Event()
    canned: ClassVar[dict[str, object]] = {}

    def ask(self, question: str, **options):
        if "(hangs)" in question:
            self.release.wait()
        return self.canned[question]


def test_hung_questions_are_bounded_and_block_no_other_chat(
    seed_settings, seed_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline, "WORKERS", 2)
    monkeypatch.setattr(deadline, "ANSWER_SECONDS", 10.0)
    HangsOnRequest.canned = {q: seed_bot.ask(q) for q in (QUESTION, OTHER_QUESTION)}
    newsbot = HangsOnRequest(seed_settings, embedder=seed_bot.embedder, reader=seed_bot.reader)
    hung_chats = range(70, 70 + deadline.WORKERS)  # every worker hung

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
            server.message(80, OTHER_QUESTION)  # waits for a worker: the hung ones time out
            [answer] = await server.wait_sent(80, 1, timeout=60)
            assert answer["text"].startswith(seed_bot.ask(OTHER_QUESTION).answer)
            for chat in hung_chats:
                [reply] = await server.wait_sent(chat, 1, timeout=60)
                assert reply["text"] == TOO_SLOW
            server.message(80, QUESTION)  # the slots the hung questions held are free again
            await server.wait_sent(80, 2, timeout=60)

    asyncio.run(scenario())


def _damage_while_open(store: SourcesStore) -> None:
    """Overwrite the file's pages while the store has it open, with a page cache too small to
    hide it (as a store of thousands of answers has)."""
    for n in range(300):
        store.put({ALL: [f"answer {n} " + "x" * 3000]}, chat_id=1, user_id=1)
    store.database.run(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    store.database.run(lambda db: db.execute("PRAGMA cache_size=1"))
    size = store.path.stat().st_size
    with store.path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(random.Random(7).randbytes(size - 4096))


def test_a_sources_store_damaged_while_in_use_is_set_aside_and_started_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SourcesStore(tmp_path / SOURCES_FILE, max_rows=100)
    _damage_while_open(store)
    caplog.clear()
    for n in range(3):
        key = store.put({ALL: [f"after {n}"]}, chat_id=5, user_id=5)
        assert store.get(key).parts == {ALL: [f"after {n}"]}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "moved to" in warnings[0].getMessage()
    assert [p.name for p in tmp_path.glob(f"{SOURCES_FILE}.damaged-*")]


def test_a_damaged_sources_store_does_not_turn_answers_into_apologies(
    seed_settings, seed_bot, tmp_path: Path
) -> None:
    settings = seed_settings.replace(index_dir=tmp_path / "index")
    shutil.copytree(seed_settings.index_dir, settings.index_dir)
    newsbot = Newsbot(settings, embedder=seed_bot.embedder, reader=seed_bot.reader)

    async def scenario() -> None:
        async with running_bot(settings, newsbot) as (server, application):
            server.message(42, QUESTION)
            await server.wait_sent(42, 1)
            _damage_while_open(application.bot_data[STATE_KEY].sources)
            server.message(42, OTHER_QUESTION)
            [_, reply] = await server.wait_sent(42, 2)
            assert reply["text"] != APOLOGY
            [[button]] = reply["reply_markup"]["inline_keyboard"]
            server.press(reply, button["callback_data"])
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)

    asyncio.run(scenario())


def test_sources_are_rechecked_against_their_files_when_expanded(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    port = corpus / "port.txt"
    port.write_text(
        "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay.\n",
        encoding="utf-8",
    )
    (corpus / "tea.txt").write_text("Tea\n\nFarmers in Kenya grew tea.\n", encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=HashEmbedder())
    newsbot = Newsbot(settings, embedder=HashEmbedder())

    async def scenario() -> None:
        async with running_bot(settings, newsbot) as (server, application):
            server.message(42, "Where did the dock workers strike?")
            [reply] = await server.wait_sent(42, 1)
            assert "Rotterdam" in reply["text"]
            port.write_text(port.read_text().replace("Rotterdam", "Amsterdam"))
            [[button]] = reply["reply_markup"]["inline_keyboard"]
            server.press(reply, button["callback_data"])
            await server.wait_for(lambda: len(server.calls_to("answerCallbackQuery")) == 1)
            await settle(server, application)
            assert server.calls_to("answerCallbackQuery")[0].params["text"] == SOURCES_CHANGED
            assert server.calls_to("editMessageText") == []
            assert all("Rotterdam" not in m for m in sent_html(server, 42)[1:])

    asyncio.run(scenario())


class SlowExamples(Newsbot):
    """Checking the /start examples (each is asked) blocks until the test lets it go."""

    checked = threading.Event()

    def ask(self, question: str, **options):
        if question in self.settings.start_examples:
            self.checked.wait()
        return super().ask(question, **options)


def test_start_replies_at_once_while_its_examples_are_checked_in_the_background(
    seed_settings, seed_bot, embedder
) -> None:
    settings = seed_settings.replace(start_examples=("Who is Ryan Ding?",))
    newsbot = SlowExamples(settings, embedder=embedder, reader=seed_bot.reader)

    async def scenario() -> None:
        try:
            async with running_bot(settings, newsbot) as (server, application):
                server.message(42, "/start")  # while the examples are still being checked
                [first] = await server.wait_sent(42, 1, timeout=60)
                assert "Try:" not in first["text"]
                SlowExamples.checked.set()
                state = application.bot_data[STATE_KEY]
                while state.examples is None:
                    await asyncio.sleep(0.05)
                server.message(42, "/start")
                [_, second] = await server.wait_sent(42, 2, timeout=60)
                assert "Try:" in second["text"] and "Who is Ryan Ding?" in second["text"]
        finally:
            SlowExamples.checked.set()

    asyncio.run(scenario())
