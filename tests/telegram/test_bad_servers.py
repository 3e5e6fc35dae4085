"""`newsbot telegram` pointed at a server that is not a Bot API server (a web server's page, an
API of another shape): one line saying so and exit status 1; no traceback, log line or HTML."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.fake_bot_api import CannedServer
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    TOKEN,
    local_http_only,
    token_never_logged,
)

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
            process = await asyncio.create_subprocess_exec(
                Path(sys.executable).with_name("newsbot"),
                "telegram",
                "--token-file",
                str(token_file),
                "--api-base-url",
                url,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(process.communicate(), 120)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            return url, process.returncode, out, err, server.requests

    url, returncode, out, err, requests = asyncio.run(scenario())
    assert requests == 1  # getMe, and nothing after it
    assert err.decode() == f"newsbot: error: {error.format(url=url)}\n"
    assert returncode == 1 and out == b""
