"""`newsbot telegram` pointed at a server that is not a Bot API server (a web server's page, an
API of another shape): one line saying so and exit status 1; no traceback, log line or HTML.
Stopped while a stuck server keeps it waiting: one line too, and no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fake_bot_api import CannedServer, FakeBotApi
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    TOKEN,
    local_http_only,
    token_never_logged,
)


@contextlib.asynccontextmanager
async def newsbot_telegram(
    url: str, env: dict[str, str], *options: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`newsbot telegram --api-base-url URL [options]` as a subprocess, killed if the block
    leaves it running."""
    process = await asyncio.create_subprocess_exec(
        Path(sys.executable).with_name("newsbot"),
        "telegram",
        "--api-base-url",
        url,
        *options,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


PAGE = "<!DOCTYPE HTML>\n<html><body><h1>Error response</h1>\n<p>Not found</p></body></html>\n"
NOT_BOT_API = "(not a Bot API server?)"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error"),
    [
        (200, "{}", "application/json", "the Bot API server at {url} gave an unexpected reply"),
        (
            200,
            '{"ok": true, "result": {}}',
            "application/json",
            "the Bot API server at {url} gave an unexpected reply",
        ),
        (
            200,
            '{"ok": false}',
            "application/json",
            "the Bot API server at {url} gave an unexpected reply",
        ),
        (
            200,
            PAGE,
            "text/html",
            f"cannot reach the Bot API server at {{url}}: the reply is not JSON {NOT_BOT_API}",
        ),
        (
            404,
            PAGE,
            "text/html",
            f"cannot reach the Bot API server at {{url}}: HTTP 404 {NOT_BOT_API}",
        ),
        (
            404,
            '{"detail": "Not Found"}',
            "application/json",
            f"cannot reach the Bot API server at {{url}}: HTTP 404 {NOT_BOT_API}",
        ),
        (502, PAGE, "text/html", "cannot reach the Bot API server at {url}: HTTP 502"),
    ],
    ids=[
        "empty-json",
        "no-bot-user",
        "ok-false-200",
        "html-200",
        "html-404",
        "other-json-404",
        "html-502",
    ],
)
def test_a_server_that_is_not_a_bot_api_server_is_one_clear_line(
    tmp_path: Path, status: int, body: str, content_type: str, error: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "NEWSBOT_CORPUS": str(tmp_path / "corpus"),
        "NEWSBOT_INDEX": str(tmp_path / "index"),
        "HF_HUB_OFFLINE": "1",
    }

    async def scenario() -> tuple[str, int | None, bytes, bytes, int]:
        async with CannedServer(status, body, content_type) as server:
            url = f"{server.url}/empty"
            async with newsbot_telegram(url, env, "--token-file", str(token_file)) as process:
                out, err = await asyncio.wait_for(process.communicate(), 120)
            return url, process.returncode, out, err, server.requests

    url, returncode, out, err, requests = asyncio.run(scenario())
    assert requests == 1  # getMe, and nothing after it
    assert err.decode() == f"newsbot: error: {error.format(url=url)}\n"
    assert returncode == 1 and out == b""


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) \S+: .*")


def stop_while_stuck(
    settings: Settings, method: str, stop_signal: signal.Signals
) -> tuple[int | None, str, list[str]]:
    """Run `newsbot telegram` against a server that never answers `method`, send `stop_signal`
    once the call has arrived; (exit status, the server's address, stderr's lines)."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "NEWSBOT_CORPUS": str(settings.corpus_dir),
        "NEWSBOT_INDEX": str(settings.index_dir),
        "HF_HUB_OFFLINE": "1",
    }

    async def scenario() -> tuple[int | None, str, bytes]:
        async with FakeBotApi(TOKEN) as server:
            server.hang(method)
            url = f"http://127.0.0.1:{server.port}"
            async with newsbot_telegram(url, env) as process:
                await server.wait_for(lambda: method in server.hung, 120)
                process.send_signal(stop_signal)
                _, err = await asyncio.wait_for(process.communicate(), 120)
            return process.returncode, url, err

    returncode, url, err = asyncio.run(scenario())
    return returncode, url, err.decode().splitlines()


@pytest.mark.parametrize(
    ("stop_signal", "status", "how"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")],
    ids=["SIGINT", "SIGTERM"],
)
def test_stopped_while_getme_waits_for_the_server_is_one_line(
    seed_settings: Settings, stop_signal: signal.Signals, status: int, how: str
) -> None:
    returncode, url, lines = stop_while_stuck(seed_settings, "getMe", stop_signal)
    assert lines == [
        f"newsbot: {how} while connecting to the Bot API server at {url}; the bot did not start"
    ]
    assert returncode == status


def test_interrupted_while_starting_up_is_one_line_after_the_log(seed_settings: Settings) -> None:
    # The index is loaded and the commands registered; deleteWebhook, before polling, is stuck.
    returncode, url, lines = stop_while_stuck(seed_settings, "deleteWebhook", signal.SIGINT)
    assert lines[-1] == (
        f"newsbot: interrupted while starting (loading the index, then polling {url}); "
        "the bot did not start"
    )
    assert all(LOG_LINE.fullmatch(line) for line in lines[:-1]), lines
    assert returncode == 130


def test_stopped_while_polling_a_stuck_server_logs_one_line_about_it(
    seed_settings: Settings,
) -> None:
    # Polling has started, and getUpdates never comes back: the last one, which tells the server
    # which updates were handled, fails at the stop too.
    returncode, url, lines = stop_while_stuck(seed_settings, "getUpdates", signal.SIGINT)
    assert all(LOG_LINE.fullmatch(line) for line in lines), lines
    warnings = [line.split(" WARNING ", 1)[1] for line in lines if " WARNING " in line]
    assert warnings == [
        f"telegram.ext.Updater: could not tell the Bot API server at {url} which updates were "
        "handled (TimedOut: Timed out); they may come again at the next start"
    ]
    assert returncode == 0  # a running bot stopped as asked
