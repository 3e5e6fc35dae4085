"""Issue 10, Telegram: Sources keys bound to their chat, the allowlist on every update, long
links and huge sentences that cannot break a reply, a busy group that delays only itself, a
stop within seconds despite a backlog, and a token that never leaks in any letter case."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.engine import Newsbot
from bot.indexing import build_index
from bot.telegram.app import APOLOGY
from bot.telegram.limits import BUSY
from tests.fake_bot_api import FakeBotApi
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    GROUP,
    QUESTION,
    TOKEN,
    local_http_only,
    running_bot,
    settle,
    token_never_logged,
)


def _no_token_anywhere(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]):
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(r) for r in caplog.get_records("call"))
    out, err = capfd.readouterr()
    everything = (logged + out + err).lower()
    assert TOKEN.lower() not in everything
    assert TOKEN.split(":")[1].lower() not in everything
    return logged


def test_a_sources_key_only_opens_in_the_chat_it_was_sent_to(seed_settings, seed_bot) -> None:
    async def scenario() -> None:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.message(42, QUESTION)
            server.message(43, "Who is New Zealand's prime minister?")
            [mine] = await server.wait_sent(42, 1)
            [theirs] = await server.wait_sent(43, 1)
            key = mine["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            server.press(theirs, key, user_id=43)  # chat 43 presents chat 42's key
            await server.wait_for(lambda: len(server.calls_to("answerCallbackQuery")) == 1)
            await settle(server, application)
            assert (
                "already shown or have expired"
                in (server.calls_to("answerCallbackQuery")[0].params["text"])
            )
            assert server.calls_to("editMessageText") == []
            shown_in_43 = [
                c.params.get("text", "") for c in server.calls if c.params.get("chat_id") == 43
            ]
            assert shown_in_43 and all("Ryan Ding" not in text for text in shown_in_43)
            server.press(mine, key)  # the key still opens where it belongs
            await server.wait_for(lambda: len(server.calls_to("editMessageText")) == 1)
            assert server.calls_to("editMessageText")[0].params["chat_id"] == 42

    asyncio.run(scenario())


def test_the_allowlist_covers_buttons_without_a_chat(seed_settings, seed_bot) -> None:
    settings = seed_settings.replace(allowed_chats=(42,))

    async def scenario() -> None:
        async with running_bot(settings, seed_bot) as (server, application):
            server._push(
                {
                    "callback_query": {
                        "id": "cb-outsider",
                        "from": {"id": 666, "is_bot": False, "first_name": "Outsider"},
                        "chat_instance": "1",
                        "inline_message_id": "inline-1",
                        "data": "sources:AAAAAAAAAAAA",
                    }
                }
            )
            await settle(server, application)
            assert server.calls_to("answerCallbackQuery") == []  # not even looked at

    asyncio.run(scenario())


def test_a_huge_link_or_sentence_never_breaks_a_reply(make_corpus, embedder) -> None:
    words = " ".join(f"word{i}" for i in range(14_000))
    settings = make_corpus(
        {
            "long-link.md": "---\ntitle: Harbour news\nsource: Gazette\n"
            f"url: https://example.org/{'a' * 5000}\n---\n"
            "The harbour master of Valletta retired on Friday after forty years.\n",
            "endless.txt": f"Endless\n\nThe lighthouse keeper said {words}\n",
        }
    )
    build_index(settings, embedder=embedder)
    newsbot = Newsbot(settings, embedder=embedder)

    async def scenario() -> None:
        async with running_bot(settings, newsbot) as (server, application):
            server.message(42, "Who retired in Valletta on Friday?")
            [answer] = await server.wait_sent(42, 1)
            assert answer["text"] != APOLOGY and "Harbour news" in answer["text"]
            server.inline_query(7, "Who retired in Valletta on Friday?")
            await server.wait_for(lambda: bool(server.calls_to("answerInlineQuery")))
            assert server.calls_to("answerInlineQuery")[0].params["results"]

            server.message(43, "What did the lighthouse keeper say?")
            [reply] = await server.wait_sent(43, 1)
            await settle(server, application)
            assert len(server.sent(43)) == 1 and len(reply["text"]) < 3000
            key = reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            server.press(reply, key)
            await server.wait_for(lambda: bool(server.calls_to("editMessageText")))
            await settle(server, application)
            assert len(server.sent(43)) <= 2  # the Sources: at most one more message

    asyncio.run(scenario())


def test_the_token_never_leaks_in_any_case_and_bad_answers_are_one_line(
    seed_settings, seed_bot, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with FakeBotApi(TOKEN) as server:
            server.fail("setMyCommands", 400, f"bad request: cannot parse /bot{TOKEN.lower()}/x")
            from bot.telegram.app import ALLOWED_UPDATES, build_application
            from bot.telegram.token import redacted_logs

            with redacted_logs(TOKEN):
                application = build_application(
                    TOKEN, seed_settings, newsbot=seed_bot, base_url=server.base_url
                )
                async with application:
                    await application.post_init(application)  # a failed menu: one line, go on
                    await application.updater.start_polling(
                        timeout=1, allowed_updates=ALLOWED_UPDATES
                    )
                    await application.start()
                    server.fail("sendMessage", 400, f"bad request: chat /bot{TOKEN.lower()}")
                    server.message(42, QUESTION)
                    await server.wait_sent(42, 1)  # the apology
                    server.fail_raw("sendMessage", 502, "<html><body>502 Bad Gateway</body></html>")
                    server.message(42, QUESTION)
                    await server.wait_for(lambda: len(server.calls_to("sendMessage", 42)) >= 4)
                    server.message(42, QUESTION)
                    await server.wait_for(lambda: len(server.sent(42)) >= 3)
                    await application.updater.stop()
                    await application.stop()

    asyncio.run(scenario())
    logged = _no_token_anywhere(caplog, capfd)
    assert "could not register the command menu" in logged
    noisy = [
        line for line in logged.splitlines() if "JSONDecodeError" in line or "Traceback" in line
    ]
    assert noisy == []
    assert all(r.exc_info is None for r in caplog.get_records("call") if r.levelno >= 30)


def test_a_busy_group_delays_only_itself(seed_settings, seed_bot) -> None:
    async def scenario() -> float:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            for user in range(30):
                for _ in range(10):
                    server.message(
                        GROUP, f"/ask {QUESTION}", user_id=1000 + user, chat_type="group"
                    )
            await asyncio.sleep(0.5)
            asked = time.monotonic()
            server.message(42, QUESTION)
            await server.wait_sent(42, 1, timeout=10)
            waited = time.monotonic() - asked
            await server.wait_for(
                lambda: any(
                    BUSY in c.params["text"] for c in server.calls_to("sendMessage", GROUP)
                ),
                timeout=10,
            )
            application.bot.rate_limiter.abandon()  # as SIGTERM does: leave the paced backlog
            application.update_processor.abandon()
            return waited

    assert asyncio.run(scenario()) < 10


def test_stopping_with_a_group_backlog_takes_seconds(seed_settings) -> None:
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
                for user in range(30):
                    server.message(
                        GROUP, f"/ask {QUESTION}", user_id=2000 + user, chat_type="group"
                    )
                await server.wait_sent(GROUP, 20, timeout=60)  # 20 a minute: the rest wait
                stop = time.monotonic()
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), 60)
                return process.returncode, time.monotonic() - stop, err.decode()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    returncode, seconds, stderr = asyncio.run(scenario())
    assert returncode == 0, stderr
    assert seconds < 10, stderr
    assert re.search(r"(abandoned|dropped) \d+ ", stderr), stderr  # says how many
    assert TOKEN not in stderr


def test_a_damaged_rebuild_does_not_turn_answers_into_apologies(make_corpus, embedder) -> None:
    settings = make_corpus(
        {"port.txt": "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay.\n"}
    )
    build_index(settings, embedder=embedder)
    newsbot = Newsbot(settings, embedder=embedder)
    (settings.corpus_dir / "more.txt").write_text("Weather\n\nIt rained in Oslo all week.\n")
    fresh = build_index(settings, embedder=embedder).location  # CURRENT now names it
    damaged = fresh / "chunks.faiss"
    damaged.write_bytes(damaged.read_bytes()[:-100])

    async def scenario() -> list[dict]:
        async with running_bot(settings, newsbot) as (server, _):
            server.message(42, "Where did the dock workers walk out?")
            server.message(42, "Who walked out over pay?")
            return await server.wait_sent(42, 2)

    for reply in asyncio.run(scenario()):
        assert reply["text"] != APOLOGY and "Rotterdam" in reply["text"]


def test_the_bot_starts_and_answers_with_an_unreadable_corpus_file(embedder) -> None:
    from bot.config import load_settings
    from tests.hostile import as_user, shared_tmp

    with shared_tmp() as root:
        corpus = root / "corpus"
        corpus.mkdir()
        (corpus / "port.txt").write_text(
            "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay.\n"
        )
        settings = load_settings(corpus_dir=corpus, index_dir=root / "index")
        build_index(settings, embedder=embedder)
        secret = corpus / "secret.txt"
        secret.write_text("Private notes.\n")
        secret.chmod(0o000)  # root reads it anyway: the bot runs as nobody
        script = Path(sys.executable).with_name("newsbot")
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "NEWSBOT_CORPUS": str(corpus),
            "NEWSBOT_INDEX": str(settings.index_dir),
            "HOME": str(root),
        }

        async def scenario() -> tuple[str, str]:
            async with FakeBotApi(TOKEN) as server:
                process = await asyncio.create_subprocess_exec(
                    *as_user("nobody"),
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
                    server.message(42, "Where did the dock workers walk out?")
                    [answer] = await server.wait_sent(42, 1, timeout=60)
                    process.send_signal(signal.SIGTERM)
                    _, err = await asyncio.wait_for(process.communicate(), 30)
                    return answer["text"], err.decode()
                finally:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()

        text, stderr = asyncio.run(scenario())
    assert "Rotterdam" in text, stderr
    assert "Traceback" not in stderr and "secret.txt" in stderr  # named as changed, once


def test_a_malformed_update_is_skipped_and_the_next_question_answered(
    seed_settings, seed_bot
) -> None:
    async def scenario() -> list[dict]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.raw_update({"message": {"message_id": 1}})  # no date, no chat: unreadable
            server.raw_update({"message": "not even an object"})
            server.message(42, "Who is Ryan Ding?")
            return await server.wait_sent(42, 1)

    [reply] = asyncio.run(scenario())
    assert "Ryan Ding" in reply["text"] and reply["text"] != APOLOGY
