"""The Telegram bot end to end: the real python-telegram-bot Application, over real HTTP, against
a fake Bot API server on 127.0.0.1 that checks what Telegram checks."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Message
from telegram.ext import Application
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.config import Settings, load_settings
from bot.engine import Newsbot
from bot.errors import ConfigError
from bot.indexing import build_index
from bot.telegram.app import ALLOWED_UPDATES, APOLOGY, TEXT_ONLY, build_application, run_bot
from bot.telegram.messages import strip_mentions
from bot.telegram.state import STATE_KEY
from bot.telegram.token import redacted_logs
from tests.fake_bot_api import BOT_USERNAME, FakeBotApi

TOKEN = "987654321:AAF-secret_token_that_must_never_be_logged"
WRONG_TOKEN = "123123123:AAwrong_token_that_must_never_be_logged_either"
QUESTION = "Who is Ryan Ding?"
OTHER_QUESTION = "What does NCSC stand for?"
GROUP = -1001234567


@pytest.fixture(autouse=True)
def local_http_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def token_never_logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]):
    """Every test runs with full debug logging; no token may appear in any of it."""
    caplog.set_level(logging.DEBUG)
    yield
    out, err = capfd.readouterr()
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(
        formatter.format(record)
        for when in ("setup", "call")
        for record in caplog.get_records(when)
    )
    for secret in (TOKEN, WRONG_TOKEN):
        assert secret not in logged
        assert secret not in out + err


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, newsbot: Newsbot
) -> AsyncIterator[tuple[FakeBotApi, Application]]:
    """The fake server and the bot polling it (as `run_bot` runs it, minus the signals)."""
    with redacted_logs(TOKEN):
        async with FakeBotApi(TOKEN) as server:
            application = build_application(
                TOKEN, settings, newsbot=newsbot, base_url=server.base_url
            )
            async with application:
                await application.post_init(application)
                await application.updater.start_polling(timeout=1, allowed_updates=ALLOWED_UPDATES)
                await application.start()
                try:
                    yield server, application
                finally:
                    await application.updater.stop()
                    await application.stop()
            assert server.unknown_methods == []


async def settle(server: FakeBotApi, application: Application) -> None:
    """Wait until every pushed update has been fetched and fully handled."""
    idle_checks = 0
    deadline = time.monotonic() + 15
    while idle_checks < 3:
        assert time.monotonic() < deadline, "the bot did not settle"
        idle = (
            server.pending_updates == 0
            and application.update_queue.empty()
            and application.update_processor.current_concurrent_updates == 0
        )
        idle_checks = idle_checks + 1 if idle else 0
        await asyncio.sleep(0.05)


def sent_html(server: FakeBotApi, chat_id: int) -> list[str]:
    """The HTML of the messages the bot sent to `chat_id`."""
    return [c.params["text"] for c in server.calls_to("sendMessage", chat_id)]


def test_start_help_about_and_registered_commands(seed_settings, seed_bot) -> None:
    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            state = application.bot_data[STATE_KEY]
            while state.examples is None:  # checked in the background since start-up
                await asyncio.sleep(0.05)
            for command in ("/start", "/help", "/about", "/frobnicate"):
                server.message(42, command)
            *replies, unknown = await server.wait_sent(42, 4)
            assert "/help" in unknown["text"]
            commands = server.calls_to("setMyCommands")[0].params["commands"]
        assert {c["command"] for c in commands} == {
            "start",
            "help",
            "about",
            "ask",
            "filter",
            "new",
        }
        return replies

    start, help_text, about = (m["text"] for m in asyncio.run(scenario()))
    examples = [line.removeprefix("• ") for line in start.splitlines() if line.startswith("• ")]
    assert examples, start
    for example in examples:  # drawn from the corpus, and answered by it
        assert not seed_bot.ask(example).abstained
    assert "/ask" in help_text and "/about" in help_text and f"@{BOT_USERNAME}" in help_text
    manifest = seed_bot.manifest
    assert f"{manifest['counts']['documents']} documents" in about
    assert f"{manifest['counts']['chunks']} passages" in about
    assert manifest["built_at"] in about


def test_private_question_gets_a_cited_answer_and_the_sources_button_expands_it(
    seed_settings, seed_bot
) -> None:
    expected = seed_bot.ask(QUESTION)

    async def scenario() -> None:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.message(42, QUESTION)
            [reply] = await server.wait_sent(42, 1)
            call = server.calls_to("sendMessage", 42)[0]
            assert call.params["parse_mode"] == "HTML"
            assert call.params["text"].startswith(f"<b>{html.escape(expected.answer)}</b>")
            for citation in expected.citations:
                assert (
                    f"[{citation.rank}] {citation.title}, paragraph {citation.paragraph}"
                    in (reply["text"])
                )
            [[button]] = reply["reply_markup"]["inline_keyboard"]
            assert button["text"] == "Sources"
            assert len(button["callback_data"].encode()) <= 64

            server.press(reply, button["callback_data"])
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)
            expanded = server.messages[(42, reply["message_id"])]
            for citation in expected.citations:
                assert citation.text in expanded["text"]
            assert "reply_markup" not in expanded  # the button is gone once used

            server.press(reply, button["callback_data"])  # a second tap changes nothing
            await server.wait_for(lambda: len(server.calls_to("answerCallbackQuery")) == 2)
            await settle(server, application)
            assert "already shown" in server.calls_to("answerCallbackQuery")[1].params["text"]
            assert len(server.calls_to("editMessageText")) == 1
            assert len(server.sent(42)) == 1

    asyncio.run(scenario())


def test_abstention_an_overlong_question_and_a_greeting(seed_settings, seed_bot) -> None:
    off_topic = "Who won the 1998 football world cup?"
    assert seed_bot.ask(off_topic).abstained

    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(42, off_topic)
            server.message(42, "why " * 200)
            server.message(42, "hello!")
            return await server.wait_sent(42, 3)

    abstention, too_long, hello = asyncio.run(scenario())
    assert hello["text"].startswith("Hello! Ask me a question about the news")  # not a search
    assert abstention["text"].startswith("The corpus does not say.")
    assert "closest passages" in abstention["text"] and "[1]" in abstention["text"]
    assert "reply_markup" in abstention  # the closest passages can be expanded too
    limit = seed_bot.settings.max_question_chars
    assert f"799 characters long; I take at most {limit}" in too_long["text"]


def test_hostile_corpus_text_is_escaped_and_long_replies_are_split(make_corpus, embedder) -> None:
    liabilities = ", ".join(f"asset {i} & <liability {i}>" for i in range(200))
    settings = make_corpus(
        {
            "evil.txt": '---\ntitle: <script>alert("pwned")</script> & <b>Breaking\n'
            "url: javascript:alert(1)\n---\n"
            'Zorblax & <i>Quuxcorp</i> "merged" on Tuesday, said the <CEO> of AT&T.\n\n'
            f"The merger agreement of Zorblax lists {liabilities}.\n\n"
            "Regulators in Freedonia & Sylvania </blockquote> approved the deal on Friday.\n"
        }
    )
    build_index(settings, embedder=embedder)
    newsbot = Newsbot(settings, embedder=embedder)

    async def scenario() -> None:
        async with running_bot(settings, newsbot) as (server, application):
            server.message(42, "Who merged on Tuesday?")
            [short] = await server.wait_sent(42, 1)
            assert short["text"].startswith(
                'Zorblax & <i>Quuxcorp</i> "merged" on Tuesday, said the <CEO> of AT&T.'
            )
            assert '<script>alert("pwned")</script> & <b>Breaking' in short["text"]

            server.message(42, "What does the merger agreement of Zorblax list?")
            await server.wait_for(lambda: len(server.calls_to("sendMessage", 42)) >= 2)
            await settle(server, application)
            parts = server.sent(42)[1:]
            assert "reply_markup" in parts[-1]  # the Sources button comes last
            shown = " ".join(" ".join(p["text"].split()) for p in parts)
            # A 7,000-character answer sentence is cut (issue 10), escaped all the same.
            assert "asset 0 & <liability 0>" in shown and "…" in shown
            assert sum(len(p["text"]) for p in parts) < 4096

            server.press(
                parts[-1], parts[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            )
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)
            await settle(server, application)
            edited = server.messages[(42, parts[-1]["message_id"])]["text"]
            follow_ups = [m["text"] for m in server.sent(42)[len(parts) + 1 :]]
            assert "approved the deal" in " ".join([edited, *follow_ups])
            for text in sent_html(server, 42):
                assert "<script" not in text and "<a " not in text

    asyncio.run(scenario())


def test_groups_answer_only_commands_mentions_and_replies(seed_settings, seed_bot) -> None:
    mentioned = f"🙂 Who is @{BOT_USERNAME} Ryan Ding? 🙂"

    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            group = {"chat_type": "supergroup"}
            server.message(GROUP, QUESTION, user_id=5, **group)  # not addressed: ignored
            server.message(GROUP, f"/ask@other_bot {QUESTION}", user_id=5, **group)  # ignored
            message = server.message(GROUP, mentioned, user_id=5, **group)
            assert strip_mentions(Message.de_json(message, application.bot)) == (
                "🙂 Who is Ryan Ding? 🙂"
            )
            [answer] = await server.wait_sent(GROUP, 1)
            server.message(GROUP, OTHER_QUESTION, user_id=6, reply_to=answer, **group)
            server.message(GROUP, f"/ask {OTHER_QUESTION}", user_id=7, **group)
            server.message(GROUP, f"@{BOT_USERNAME}", user_id=7, **group)
            await server.wait_sent(GROUP, 4)
            await settle(server, application)
            calls = server.calls_to("sendMessage", GROUP)
            assert all("reply_parameters" in c.params for c in calls)  # replies quote the asker
            return server.sent(GROUP)

    replies = asyncio.run(scenario())
    assert len(replies) == 4
    assert replies[0]["text"].startswith(seed_bot.ask("🙂 Who is Ryan Ding? 🙂").answer)
    assert replies[1]["text"].startswith(seed_bot.ask(OTHER_QUESTION).answer)
    assert replies[2]["text"].startswith(seed_bot.ask(OTHER_QUESTION).answer)
    assert replies[3]["text"].startswith("Yes? Ask me a question")


def test_inline_mode_returns_up_to_five_cited_answers(seed_settings, seed_bot) -> None:
    expected = seed_bot.ask(QUESTION, top_k=5)

    async def scenario() -> dict[str, list[dict]]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            asked = server.inline_query(9, QUESTION)
            empty = server.inline_query(9, "   ")
            nothing = server.inline_query(9, "??")
            greeting = server.inline_query(9, "hi")
            await server.wait_for(lambda: len(server.calls_to("answerInlineQuery")) == 4)
            by_id = {
                c.params["inline_query_id"]: c.params["results"]
                for c in server.calls_to("answerInlineQuery")
            }
            return {
                "asked": by_id[asked],
                "empty": by_id[empty],
                "nothing": by_id[nothing],
                "greeting": by_id[greeting],
            }

    results = asyncio.run(scenario())
    assert results["empty"] == []
    assert results["greeting"] == []  # small talk is not searched: no "closest passages"
    [notice] = results["nothing"]  # a question with nothing to look up is told so
    assert "nothing to look up" in notice["input_message_content"]["message_text"]
    answered = results["asked"]
    assert 1 <= len(answered) <= 5
    assert len(answered) == min(5, len(expected.citations))
    assert len({r["id"] for r in answered}) == len(answered)
    for result, citation in zip(answered, expected.citations, strict=False):
        text = result["input_message_content"]["message_text"]
        assert text.startswith(f"<b>{html.escape(expected.answer)}</b>")
        assert f"[{citation.rank}] <b>{html.escape(citation.title)}</b>" in text
        assert text.count("<blockquote>") == 1  # one citation per result


def test_a_question_of_invisible_characters_gets_the_telegram_hint(seed_settings, seed_bot):
    """Zero-width spaces alone are an empty question: the reply shows how to ask in Telegram,
    not the command line's `newsbot ask`."""
    invisible = "\u200b\u200b\u00ad"

    async def scenario() -> tuple[str, list[dict]]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(9, invisible)
            [reply] = await server.wait_sent(9, 1, timeout=300)  # a safety net only
            server.inline_query(9, invisible)
            await server.wait_for(lambda: bool(server.calls_to("answerInlineQuery")), timeout=300)
            return reply["text"], server.calls_to("answerInlineQuery")[0].params["results"]

    reply, [notice] = asyncio.run(scenario())
    assert reply == "Please ask a question, e.g. /ask Who is the CEO?"
    assert "newsbot ask" not in notice["input_message_content"]["message_text"]


def test_an_edited_question_is_answered_anew_quoting_it(seed_settings, seed_bot) -> None:
    """A user who corrects a question by editing it gets the corrected one answered (in a
    private chat, and with /ask in a group), the reply quoting the edited message."""
    safety_net = 300  # seconds; only a hung bot takes this long

    async def scenario() -> list[tuple[dict, list[dict]]]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            chats = []
            for chat_id, text, kind in ((9, "", "private"), (GROUP, "/ask ", "supergroup")):
                asked = server.message(chat_id, text + OTHER_QUESTION, chat_type=kind)
                await server.wait_sent(chat_id, 1, timeout=safety_net)
                server.edit(asked, text + QUESTION)
                await server.wait_sent(chat_id, 2, timeout=safety_net)
                chats.append((asked, [c.params for c in server.calls_to("sendMessage", chat_id)]))
            return chats

    for asked, (first, corrected) in asyncio.run(scenario()):
        assert html.unescape(first["text"]).startswith(f"<b>{seed_bot.ask(OTHER_QUESTION).answer}")
        assert html.unescape(corrected["text"]).startswith(f"<b>{seed_bot.ask(QUESTION).answer}")
        # It quotes the edited question, which may be far up the chat by then.
        assert corrected["reply_parameters"]["message_id"] == asked["message_id"]


def test_a_private_chat_reads_a_caption_and_says_a_sticker_is_no_question(seed_settings, seed_bot):
    def update(message_id: int, **content) -> dict:
        sender = {"id": 9, "is_bot": False, "first_name": "User9"}
        chat = {"id": 9, "type": "private"}
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        return {"message": {**message, "from": sender, **content}}

    photo = [{"file_id": "p", "file_unique_id": "p1", "width": 90, "height": 90}]
    sticker = {
        "file_id": "s",
        "file_unique_id": "s1",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }

    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(9, "hi")  # the chat begins (the fake server learns of it)
            await server.wait_sent(9, 1, timeout=300)  # a safety net only
            server.raw_update(update(900, photo=photo, caption=QUESTION))
            await server.wait_sent(9, 2, timeout=300)
            server.raw_update(update(901, sticker=sticker))
            return await server.wait_sent(9, 3, timeout=300)

    _, captioned, sticker_reply = asyncio.run(scenario())
    assert captioned["text"].startswith(seed_bot.ask(QUESTION).answer)
    assert sticker_reply["text"] == TEXT_ONLY


def test_allowlist_refuses_other_chats_once_and_nothing_else(seed_settings, seed_bot) -> None:
    settings = seed_settings.replace(allowed_chats=(42,))

    async def scenario() -> None:
        async with running_bot(settings, seed_bot) as (server, application):
            server.message(43, QUESTION)
            server.message(43, "/start")
            server.inline_query(43, QUESTION)
            server.message(42, QUESTION)
            await server.wait_sent(42, 1)
            await settle(server, application)
            [refusal] = server.sent(43)
            assert "only answers in chats its operator has allowed" in refusal["text"]
            assert "43" in refusal["text"]
            assert server.calls_to("sendChatAction", 43) == []
            assert server.calls_to("answerInlineQuery") == []
            assert server.sent(42)[0]["text"].startswith(seed_bot.ask(QUESTION).answer)

    asyncio.run(scenario())


def test_per_user_limit_replies_once_then_stays_quiet(seed_settings, seed_bot) -> None:
    settings = seed_settings.replace(user_questions_per_minute=2)

    async def scenario() -> None:
        async with running_bot(settings, seed_bot) as (server, application):
            for _ in range(4):
                server.message(50, QUESTION)
            server.message(51, QUESTION)  # someone else is not held up
            await settle(server, application)
            first, second, slow_down = server.sent(50)
            assert first["text"].startswith(seed_bot.ask(QUESTION).answer)
            assert second["text"] == first["text"]
            assert "at most 2 questions a minute" in slow_down["text"]
            assert server.sent(51)[0]["text"] == first["text"]

    asyncio.run(scenario())


class FailsOnRequest(Newsbot):
    """Fails on questions that say "explode", with the token in the error, as a bug might."""

    def ask(self, question: str, **options):
        if "explode" in question:
            raise RuntimeError(f"index on fire while using {TOKEN}")
        return super().ask(question, **options)


def test_failing_handlers_apologise_leak_no_token_and_the_bot_keeps_answering(
    seed_settings, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    newsbot = FailsOnRequest(seed_settings, embedder=embedder)

    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, newsbot) as (server, _):
            server.fail("sendMessage", 400, "Bad Request: chat not found")  # Telegram refuses
            server.message(42, QUESTION)
            await server.wait_sent(42, 1)
            server.message(42, "Please explode")  # a bug in answering
            server.message(42, QUESTION)
            return await server.wait_sent(42, 3)

    first_apology, second_apology, answer = asyncio.run(scenario())
    assert first_apology["text"] == second_apology["text"] == APOLOGY
    assert answer["text"].startswith(newsbot.ask(QUESTION).answer)
    assert "failed: BadRequest: Chat not found" in caplog.text
    assert "failed: RuntimeError: index on fire while using <redacted-token>" in caplog.text
    assert "Traceback" in caplog.text  # a bug is logged with its traceback, token scrubbed


def test_a_429_from_the_server_is_waited_out_and_retried(seed_settings, seed_bot) -> None:
    async def scenario() -> None:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            server.message(42, QUESTION)
            [answer] = await server.wait_sent(42, 1)
            await settle(server, application)
            refused, delivered = server.calls_to("sendMessage", 42)
            assert delivered.at - refused.at >= 1.0
            assert answer["text"].startswith(seed_bot.ask(QUESTION).answer)
            assert len(server.sent(42)) == 1  # no apology, no duplicate

    asyncio.run(scenario())


class SlowOnRequest(Newsbot):
    """Holds QUESTION until `release` is set, as a heavy question would take long (the others
    are as fast as ever)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def ask(self, question: str, **options):
        if question == QUESTION:
            self.release.wait(timeout=60)  # a safety net: the test releases it
        return super().ask(question, **options)


def test_a_slow_question_shows_typing_stalls_no_other_chat_and_replies_stay_in_order(
    seed_settings, seed_bot, embedder
) -> None:
    """Waits on what the bot does, never on how long it takes: the slow question is held until
    another chat has been answered and "typing…" has shown, then let go."""
    slow_question = QUESTION
    newsbot = SlowOnRequest(seed_settings, embedder=embedder)
    safety_net = 300  # seconds; only a hung bot takes this long

    async def scenario() -> None:
        async with running_bot(seed_settings, newsbot) as (server, _):
            server.message(60, slow_question)
            server.message(60, "/about")  # must wait for the slow answer: one chat, in order
            server.message(61, OTHER_QUESTION)
            # Another chat is answered while the slow question is still held.
            await server.wait_sent(61, 1, timeout=safety_net)
            assert server.calls_to("sendMessage", 60) == []
            # "typing…" shows while the slow question is worked on.
            await server.wait_for(
                lambda: bool(server.calls_to("sendChatAction", 60)), timeout=safety_net
            )
            newsbot.release.set()
            await server.wait_sent(60, 2, timeout=safety_net)
            first, about = server.sent(60)
            assert first["text"].startswith(seed_bot.ask(slow_question).answer)
            assert about["text"].startswith("Indexed")
            first_reply = server.calls_to("sendMessage", 60)[0]
            # ... and never after its reply (/about shows none).
            typing = server.calls_to("sendChatAction", 60)
            assert all(c.params["action"] == "typing" for c in typing)
            assert typing[-1].at < first_reply.at

    asyncio.run(scenario())


ARTICLE = """---
title: Freedonia moves its capital
---
Freedonia's parliament voted on Monday to move the seat of government.

The capital of Freedonia is {capital}, the parliament said in a statement.

Officials expect the move to take two years and to cost about $3 billion.
"""


def test_a_rebuilt_index_is_used_on_the_next_question_without_a_restart(
    make_corpus, embedder
) -> None:
    settings = make_corpus({"freedonia.md": ARTICLE.format(capital="Sylvania City")})
    build_index(settings, embedder=embedder)
    newsbot = Newsbot(settings, embedder=embedder)
    question = "What is the capital of Freedonia?"

    async def scenario() -> list[dict]:
        async with running_bot(settings, newsbot) as (server, _):
            server.message(42, question)
            await server.wait_sent(42, 1)
            (settings.corpus_dir / "freedonia.md").write_text(
                ARTICLE.format(capital="Marxburg"), encoding="utf-8"
            )
            await asyncio.to_thread(build_index, settings, embedder=embedder)
            server.message(42, question)
            return await server.wait_sent(42, 2)

    before, after = asyncio.run(scenario())
    assert before["text"].startswith("The capital of Freedonia is Sylvania City")
    assert after["text"].startswith("The capital of Freedonia is Marxburg")


def test_run_bot_turns_a_rejected_token_into_one_clear_error(seed_settings, seed_bot) -> None:
    async def scenario() -> ConfigError:
        async with FakeBotApi(TOKEN) as server:
            with pytest.raises(ConfigError) as caught:
                await asyncio.to_thread(
                    run_bot,
                    WRONG_TOKEN,
                    seed_settings,
                    base_url=server.base_url,
                    newsbot=seed_bot,
                    stop_signals=None,
                )
            assert server.rejected_tokens == 1
            return caught.value

    error = asyncio.run(scenario())
    assert "rejected the token" in str(error)
    assert WRONG_TOKEN not in str(error) and "\n" not in str(error)


def test_cli_token_errors_are_one_line_and_never_show_the_token(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli_app, ["telegram"], env={"TELEGRAM_BOT_TOKEN": ""})
    assert missing.exit_code == 1
    assert "set TELEGRAM_BOT_TOKEN or pass --token-file" in missing.output
    token_file = tmp_path / "token"
    token_file.write_text("not a token " + WRONG_TOKEN, encoding="utf-8")
    malformed = runner.invoke(cli_app, ["telegram", "--token-file", str(token_file)])
    assert malformed.exit_code == 1
    assert "malformed" in malformed.output and WRONG_TOKEN not in malformed.output
    assert len(malformed.output.strip().splitlines()) == 1
    token_file.write_text("\n", encoding="utf-8")  # passed, but empty: not "pass --token-file"
    empty = runner.invoke(cli_app, ["telegram", "--token-file", str(token_file)])
    assert empty.exit_code == 1
    assert empty.output.strip().splitlines() == [
        f"newsbot: error: the token file {token_file} is empty; put the bot token from "
        "@BotFather in it (or set TELEGRAM_BOT_TOKEN and drop --token-file)"
    ]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_newsbot_telegram_answers_then_stops_cleanly_on_a_signal(
    seed_settings, stop_signal: signal.Signals
) -> None:
    script = Path(sys.executable).with_name("newsbot")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "NEWSBOT_CORPUS": str(seed_settings.corpus_dir),
        "NEWSBOT_INDEX": str(seed_settings.index_dir),
    }

    async def scenario() -> tuple[int | None, float, str]:
        async with FakeBotApi(TOKEN) as server:
            process = await asyncio.create_subprocess_exec(
                script,
                "telegram",
                "--api-base-url",
                f"http://127.0.0.1:{server.port}",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                await server.wait_for(lambda: bool(server.calls_to("setMyCommands")), 120)
                server.message(42, QUESTION)
                [answer] = await server.wait_sent(42, 1, timeout=60)
                assert "Ryan Ding" in answer["text"]
                stop = time.monotonic()
                process.send_signal(stop_signal)
                _, err = await asyncio.wait_for(process.communicate(), 30)
                return process.returncode, time.monotonic() - stop, err.decode()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    returncode, seconds, stderr = asyncio.run(scenario())
    assert returncode == 0, stderr
    assert seconds < 5
    assert TOKEN not in stderr
    assert "Application started" in stderr  # the log is there, just without the token


def test_telegram_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_ALLOWED_CHATS", " 42, -1001234567 ,")
    monkeypatch.setenv("NEWSBOT_USER_QUESTIONS_PER_MINUTE", "3")
    settings = load_settings()
    assert settings.allowed_chats == (42, -1001234567)
    assert settings.user_questions_per_minute == 3
    monkeypatch.setenv("NEWSBOT_ALLOWED_CHATS", "42,my-group")
    with pytest.raises(ConfigError, match="comma-separated list of integers"):
        load_settings()
