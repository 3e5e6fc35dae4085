"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp), for tests and the load benchmark.

It implements the methods the bot uses, checks what Telegram checks (the token, HTML that
Telegram can parse, message and callback-data lengths), records every call, and lets a test
push updates (served by long polling with offsets) and inject failures such as a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777000
BOT_USERNAME = "newsbot_test_bot"
MAX_POLL_SECONDS = 5.0
# Parameters the Bot API takes as JSON; python-telegram-bot sends them as JSON strings.
JSON_PARAMS = {
    "reply_markup",
    "results",
    "commands",
    "allowed_updates",
    "reply_parameters",
    "link_preview_options",
    "entities",
    "button",
    "scope",
}
INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "user_id"}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)([^<>]*)>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|[<>&]"
)


class RawFailure(Exception):
    """A failure that is not the Bot API's JSON, e.g. a proxy's HTML error page."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def parse_html(text: str) -> str:
    """The text Telegram would show for `text` in HTML parse mode; ApiError where Telegram fails."""
    shown: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _HTML_TOKEN.finditer(text):
        shown.append(text[position : match.start()])
        position = match.end()
        closing, tag, _attributes, entity = match.groups()
        if tag is not None:
            tag = tag.lower()
            if tag not in ALLOWED_TAGS:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag {tag!r}")
            if closing:
                if not stack or stack[-1] != tag:
                    raise ApiError(
                        400, f"Bad Request: can't parse entities: unmatched end tag {tag!r}"
                    )
                stack.pop()
            else:
                stack.append(tag)
        elif entity is not None:
            if entity.startswith("#"):
                shown.append(html.unescape(f"&{entity};"))
            elif entity in NAMED_ENTITIES:
                shown.append(NAMED_ENTITIES[entity])
            else:
                raise ApiError(
                    400, f"Bad Request: can't parse entities: unsupported entity {entity!r}"
                )
        else:
            raise ApiError(400, f"Bad Request: can't parse entities: unescaped {match.group()!r}")
    shown.append(text[position:])
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag {stack[-1]!r}")
    return "".join(shown)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi:
    """`async with FakeBotApi(token) as server:`; the bot talks to `server.base_url`."""

    def __init__(self, token: str, *, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Newsbot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        self.unknown_methods: list[str] = []
        self.rejected_tokens = 0
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._failures: dict[str, list[ApiError | RawFailure]] = {}
        self._hanging: set[str] = set()
        # The update kinds the bot asked for in getUpdates; Telegram never delivers the others.
        self.allowed_updates: list[str] | None = None
        self.hung: list[str] = []  # the calls left unanswered, by method
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Short shutdown: an open long poll must not hold the test up.
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """python-telegram-bot's `base_url` for this server."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what a test does --------------------------------------------------------------------

    def fail(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        """Answer the next call of `method` with an error (429 with `retry_after`)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures.setdefault(method, []).append(ApiError(code, description, parameters))

    def hang(self, method: str) -> None:
        """Never answer calls of `method` from now on (a stuck or very slow server); each is
        noted in `hung` as it arrives."""
        self._hanging.add(method)

    def fail_raw(self, method: str, status: int, body: str) -> None:
        """Answer the next call of `method` with `status` and a non-JSON `body` (a proxy's page)."""
        self._failures.setdefault(method, []).append(RawFailure(status, body))

    def message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Push a message update from a user; commands and @mentions get their entities."""
        chat = self._chat(chat_id, chat_type)
        user_id = user_id if user_id is not None else chat_id
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "text": text,
        }
        message["entities"] = entities if entities is not None else auto_entities(text)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.messages[(chat_id, message["message_id"])] = message
        self._push({"message": message})
        return message

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Push an edited_message update: the user changed `message` (one they sent) to `text`."""
        edited = dict(message, text=text, edit_date=int(time.time()))
        edited["entities"] = auto_entities(text)
        self.messages[(message["chat"]["id"], message["message_id"])] = edited
        self._push({"edited_message": edited})
        return edited

    def raw_update(self, update: dict[str, Any]) -> None:
        """Queue `update` as it is (its update_id added), however malformed."""
        self._push(update)

    def press(self, message: dict[str, Any], data: str, *, user_id: int | None = None) -> None:
        """Push a callback query: a user pressing a button of the bot's `message`."""
        chat_id = message["chat"]["id"]
        user_id = user_id if user_id is not None else chat_id
        self._push(
            {
                "callback_query": {
                    "id": str(next(self._update_ids) * 1000),
                    "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                    "chat_instance": str(chat_id),
                    "message": message,
                    "data": data,
                }
            }
        )

    def press_inline(self, inline_message_id: str, data: str, *, user_id: int) -> None:
        """Push a callback query: a user pressing a button of a message sent in inline mode
        (Telegram gives no chat or message then, only the inline message's id)."""
        self._push(
            {
                "callback_query": {
                    "id": str(next(self._update_ids) * 1000),
                    "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                    "chat_instance": "inline",
                    "inline_message_id": inline_message_id,
                    "data": data,
                }
            }
        )

    def inline_query(self, user_id: int, query: str) -> str:
        """Push an inline query; returns its id."""
        query_id = f"iq{next(self._update_ids)}"
        self._push(
            {
                "inline_query": {
                    "id": query_id,
                    "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                    "query": query,
                    "offset": "",
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by a later getUpdates offset."""
        return len(self._updates)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        """The calls of `method` (to `chat_id`), in order."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to `chat_id` (Message objects as returned), in order."""
        return [
            self.messages[(chat_id, c.params["_message_id"])]
            for c in self.calls_to("sendMessage", chat_id)
            if "_message_id" in c.params
        ]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        """Return once `condition()` holds (checked after every call); TimeoutError otherwise."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 15.0) -> list[dict]:
        """Wait until the bot sent `count` messages to `chat_id`; returns them."""
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    # -- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.rejected_tokens += 1
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ConnectionResetError:  # the client gave up on this call (e.g. at shutdown)
            return _error(ApiError(400, "Bad Request: connection lost"))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.unknown_methods.append(method)
            return _error(ApiError(404, "Not Found"))
        call = Call(method, params)
        if method in self._hanging:
            async with self._changed:
                self.hung.append(method)
                self._changed.notify_all()
                await self._changed.wait_for(lambda: self._closing)
            return _error(ApiError(500, "Internal Server Error: shutting down"))
        try:
            if method != "getUpdates":
                self.calls.append(call)
                if self._failures.get(method):
                    raise self._failures[method].pop(0)
            result = await handler(params)
        except ApiError as error:
            return _error(error)
        except RawFailure as failure:
            return web.Response(status=failure.status, text=failure.body, content_type="text/html")
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.user

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if params.get("allowed_updates"):
            self.allowed_updates = list(params["allowed_updates"])
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        self._drop_undeliverable(offset)
        if not self._updates and timeout > 0 and not self._closing:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing),
                        timeout,
                    )
            self._drop_undeliverable(offset)
        return self._updates[:limit]

    def _drop_undeliverable(self, offset: int) -> None:
        """Forget the updates confirmed by `offset`, and those of kinds the bot did not ask
        for (Telegram never delivers them)."""
        self._updates = [
            u
            for u in self._updates
            if u["update_id"] >= offset
            and (self.allowed_updates is None or _kind(u) in self.allowed_updates)
        ]

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._chat_of(params)
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_of(params)
        text = _checked_text(params)
        _check_markup(params)
        message = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user,
            "text": text,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        params["_message_id"] = message["message_id"]
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text = _checked_text(params)
        _check_markup(params)
        if "inline_message_id" in params:
            return True
        chat = self._chat_of(params)
        key = (chat["id"], int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = dict(self.messages[key])
        if message["text"] == text and message.get("reply_markup") == params.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        message["text"] = text
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        message["edit_date"] = int(time.time())
        self.messages[key] = message
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        results = params["results"]
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [r["id"] for r in results]
        if len(set(ids)) != len(ids) or any(len(i.encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for result in results:
            content = result["input_message_content"]
            if content.get("parse_mode") == "HTML":
                _checked_text(content, field_name="message_text")
        return True

    # -- helpers -----------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        if chat_id not in self.chats:
            chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = f"User{chat_id}"
            else:
                chat["title"] = f"Group {chat_id}"
            self.chats[chat_id] = chat
        return self.chats[chat_id]

    def _chat_of(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))


class CannedServer:
    """`async with CannedServer(status, body, content_type) as server:` answers every request,
    on any path, alike: a server that is not a Bot API server (a web server's page, an API
    of another shape). `server.url` is its address, `server.requests` counts what it got."""

    def __init__(self, status: int, body: str, content_type: str) -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> CannedServer:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=self.status, text=self.body, content_type=self.content_type)


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading /command and @mentions (UTF-16 offsets)."""
    entities = []
    for match in re.finditer(r"(?<![\w/])/[a-zA-Z0-9_]+(?:@\w+)?|(?<!\w)@\w{5,32}", text):
        if match.group().startswith("/") and match.start() != 0:
            continue
        entities.append(
            {
                "type": "bot_command" if match.group().startswith("/") else "mention",
                "offset": utf16_length(text[: match.start()]),
                "length": utf16_length(match.group()),
            }
        )
    return entities


def _checked_text(params: dict[str, Any], field_name: str = "text") -> str:
    text = params.get(field_name, "")
    shown = parse_html(text) if params.get("parse_mode") == "HTML" else text
    if not shown.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(shown) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return shown


def _check_markup(params: dict[str, Any]) -> None:
    for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode("utf-8")) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw = await request.json()
    else:
        raw = dict(await request.post())
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str) and name in JSON_PARAMS:
            value = json.loads(value)
        elif isinstance(value, str) and name in INT_PARAMS:
            with contextlib.suppress(ValueError):
                value = int(value)
        params[name] = value
    return params


def _error(error: ApiError) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


def _kind(update: dict[str, Any]) -> str:
    """An update's kind: its one field besides update_id ("message", "edited_message", ...)."""
    return next((key for key in update if key != "update_id"), "")
