"""Sources buttons that outlive the bot process, inline results with a Sources button, and the
/start examples a user meets first."""

from __future__ import annotations

import asyncio
import time

from bot.engine import Newsbot
from bot.indexing import build_index
from bot.telegram.sources import FILE_NAME, SourcesStore
from bot.telegram.state import EXAMPLE_MIN_CONFIDENCE, LATEST_NEWS, example_questions
from tests.conftest import CROWDED_CORPUS, SEED_CORPUS
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    QUESTION,
    local_http_only,
    running_bot,
    settle,
    token_never_logged,
)


def test_sources_button_works_after_a_restart_and_only_in_its_chat(seed_settings, seed_bot) -> None:
    settings = seed_settings
    expected = seed_bot.ask(QUESTION)

    async def scenario() -> None:
        async with running_bot(settings, seed_bot) as (server, _):
            server.message(42, QUESTION)
            [reply] = await server.wait_sent(42, 1)
        [[button]] = reply["reply_markup"]["inline_keyboard"]
        # A new process: a new application over the same index directory.
        async with running_bot(settings, seed_bot) as (server, application):
            server.messages[(42, reply["message_id"])] = reply
            stranger = {**reply, "chat": {**reply["chat"], "id": 43}}
            server.messages[(43, reply["message_id"])] = stranger
            server.press(stranger, button["callback_data"])  # the same key from another chat
            await server.wait_for(lambda: len(server.calls_to("answerCallbackQuery")) == 1)
            await settle(server, application)
            assert "expired" in server.calls_to("answerCallbackQuery")[0].params["text"]
            assert server.calls_to("editMessageText") == []

            server.press(reply, button["callback_data"])
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)
            expanded = server.messages[(42, reply["message_id"])]["text"]
            for citation in expected.citations:  # long passages are shown clipped
                assert (
                    f"[{citation.rank}] {citation.title}, paragraph {citation.paragraph}"
                    in expanded
                )

    asyncio.run(scenario())
    assert (settings.index_dir / FILE_NAME).is_file()


def test_inline_results_carry_a_sources_button_for_their_passage(seed_settings, seed_bot) -> None:
    expected = seed_bot.ask(QUESTION, top_k=5)

    async def scenario() -> None:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.inline_query(9, QUESTION)
            await server.wait_for(lambda: len(server.calls_to("answerInlineQuery")) == 1)
            results = server.calls_to("answerInlineQuery")[0].params["results"]
            buttons = [r["reply_markup"]["inline_keyboard"][0][0] for r in results]
            assert {b["text"] for b in buttons} == {"Sources"}
            second = buttons[1]["callback_data"]
            assert len(second.encode()) <= 64
            # Sent into some chat and pressed there by someone else: the passage unfolds.
            server.press_inline("inline-1", second, user_id=77)
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)
            edit = server.calls_to("editMessageText")[0].params
            assert edit["inline_message_id"] == "inline-1"
            assert expected.citations[1].text.split(",")[0] in edit["text"]

    asyncio.run(scenario())


def test_sources_store_is_bounded_and_expires(tmp_path) -> None:
    store = SourcesStore(tmp_path / FILE_NAME, max_rows=3, max_age=60)
    keys = [store.put({"": [f"answer {i}"]}, chat_id=1, user_id=2) for i in range(5)]
    assert [store.get(k) is not None for k in keys] == [False, False, True, True, True]
    assert store.get(keys[-1]).parts == {"": ["answer 4"]}
    store.max_age = 0.05
    time.sleep(0.1)
    assert store.get(keys[-1]) is None
    store.close()
    (tmp_path / FILE_NAME).write_bytes(b"not a database at all" * 100)
    damaged = SourcesStore(tmp_path / FILE_NAME)
    assert damaged.get(damaged.put({"": ["x"]}, chat_id=None, user_id=None)) is not None


def test_start_examples_are_answered_confidently_and_can_be_configured(
    make_corpus, embedder
) -> None:
    article = next(SEED_CORPUS.glob("*.txt")).read_text(encoding="utf-8")
    settings = make_corpus(
        {
            "ncsc.txt": article,
            "cable.txt": "Undersea cable cut\n\nTwo undersea cables were damaged off the west "
            "coast of South Africa, network monitors said on Monday. Repairs may take weeks.\n",
        }
    )
    build_index(settings, embedder=embedder)
    newsbot = Newsbot(settings, embedder=embedder)
    found = example_questions(newsbot)
    assert found and "Who is South Africa?" not in found
    for question in found:
        answer = newsbot.ask(question)
        assert not answer.abstained and answer.confidence >= EXAMPLE_MIN_CONFIDENCE

    chosen = Newsbot(
        settings.replace(
            start_examples=("Who won the 1998 World Cup?", "Who is it?", "Who is Ryan Ding?")
        ),
        embedder=embedder,
    )
    assert example_questions(chosen) == ["Who is Ryan Ding?"]  # the others left out


def test_dated_news_suggests_asking_for_the_latest_first(make_corpus, embedder) -> None:
    settings = make_corpus(
        {p.name: p.read_text(encoding="utf-8") for p in CROWDED_CORPUS.glob("2020-01-0*.md")}
    )
    build_index(settings, embedder=embedder)
    found = example_questions(Newsbot(settings, embedder=embedder))
    assert found[0] == LATEST_NEWS and len(found) > 1
