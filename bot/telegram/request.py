"""HTTP to the Bot API server that refuses replies which are not the Bot API's, before
python-telegram-bot reads them: it would log and echo a web page's raw HTML, take an HTML 404
for a rejected token, and fail with a KeyError on JSON without a "result"."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)


class NotBotApi(NetworkError):
    """The server answered with something other than the Bot API's JSON (e.g. a web page)."""


class UnexpectedReply(NotBotApi):
    """The server answered 2xx with JSON that is not a Bot API result."""


class BotApiRequest(HTTPXRequest):
    """python-telegram-bot's HTTPXRequest, checking each reply with `check_reply`."""

    async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, *args, **kwargs)
        check_reply(code, payload)
        if url.endswith("/getUpdates") and HTTPStatus.OK <= code <= 299:
            payload = readable_updates(payload)
        return code, payload


def readable_updates(payload: bytes) -> bytes:
    """A getUpdates reply with each update python-telegram-bot cannot read (a message with no
    date, say) replaced by its bare update_id: it is skipped and acknowledged, instead of
    failing the whole batch again and again and stopping the bot."""
    reply = json.loads(payload.decode("utf-8", "replace"))
    updates = reply.get("result")
    if not isinstance(updates, list):
        return payload
    readable = []
    for update in updates:
        try:
            Update.de_json(update, None)
            readable.append(update)
        except Exception:  # whatever the library trips on in a malformed update
            if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                logger.warning("skipped update %s: it is malformed", update["update_id"])
                readable.append({"update_id": update["update_id"]})
    if readable == updates:
        return payload
    return json.dumps({**reply, "result": readable}).encode("utf-8")


def check_reply(code: int, payload: bytes) -> None:
    """Raise NotBotApi unless `payload` is a Bot API reply: a JSON object with a "result" on
    success, with `"ok": false` on failure. The message never carries the body."""
    success = HTTPStatus.OK <= code <= 299
    try:
        reply = json.loads(payload.decode("utf-8", "replace"))
    except ValueError:
        reply = None
    if isinstance(reply, dict) and ("result" in reply if success else reply.get("ok") is False):
        return
    if not success:
        # A 5xx page may come from a proxy before a real Bot API server (Telegram's own included).
        raise NotBotApi(f"HTTP {code}" if code >= 500 else f"HTTP {code} (not a Bot API server?)")
    if reply is None:
        raise NotBotApi("the reply is not JSON (not a Bot API server?)")
    raise UnexpectedReply("the reply is not a Bot API result")
