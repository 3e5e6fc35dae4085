"""Talking to Milvus: one client per URI, collection names, and errors a user can act on.

`milvus_uri` is a path (Milvus Lite embedded: one process at a time) or `http://host:port`
(a server: Milvus Lite's `milvus-lite server`, Milvus Standalone or Distributed). Every
failure of the server is turned into one `NewsbotError` line; pymilvus's own logging of it
(a traceback per failed call) is silenced.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings, without_password
from bot.errors import IndexMissingError, NewsbotError

REBUILD_HINT = "run `newsbot index build`"
# gRPC's C core logs connection events (a server asking the client to ping less) straight to
# stderr; the CLI promises one line per error, so it stays quiet unless asked otherwise.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")
# Per call: a server that does not answer in this long is reported as unreachable.
CALL_TIMEOUT = 30.0
# When a server cannot be reached: how long to wait for whatever listens there to say what it is.
PROBE_SECONDS = 3.0
DEFAULT_PORT = 19530  # pymilvus's, for a URI without one
# Milvus speaks gRPC, that is HTTP/2: its client preface and an empty SETTINGS frame, which a
# gRPC server answers with a SETTINGS frame of its own, and a web server with a status line.
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_SETTINGS = 0x04  # the type of an HTTP/2 SETTINGS frame, the 4th byte of its header
_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class StoreUnavailableError(NewsbotError):
    """The Milvus server cannot be reached or refuses us; answers resume when it is back."""


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def lite_file_exists(settings: Settings) -> bool:
    """Whether the Milvus Lite file `milvus_uri` names exists (opening it would create it)."""
    return Path(settings.milvus_address).expanduser().exists()


def describe(settings: Settings) -> str:
    """Where the index lives, for messages: 'Milvus at http://…' or 'Milvus Lite file …'."""
    uri = settings.milvus_shown
    return f"Milvus at {uri}" if is_server(uri) else f"Milvus Lite file {uri}"


def client(settings: Settings) -> Any:
    """The shared client for `settings.milvus_uri` (created on first use; it reconnects by
    itself when a server comes back)."""
    key = (settings.milvus_address, settings.milvus_token)
    with _lock:
        found = _clients.get(key)
        if found is None:
            with translated(settings):
                from pymilvus import MilvusClient

                _quiet_pymilvus()
                uri = settings.milvus_address
                if not is_server(uri):
                    Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
                found = MilvusClient(uri, token=settings.milvus_token, timeout=CALL_TIMEOUT)
            _clients[key] = found
        return found


def forget(settings: Settings) -> None:
    """Drop the cached client (after the embedded file was closed, or in tests)."""
    with _lock:
        found = _clients.pop((settings.milvus_address, settings.milvus_token), None)
    if found is not None:
        with contextlib.suppress(Exception):
            found.close()


def _quiet_pymilvus() -> None:
    # pymilvus logs a full traceback for every failed call, and Milvus Lite one for a file
    # it cannot open; the user gets our one line.
    for name in ("pymilvus", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextlib.contextmanager
def translated(settings: Settings, collection: str | None = None) -> Iterator[None]:
    """Turn pymilvus and gRPC failures into one-line `NewsbotError`s."""
    try:
        yield
    except NewsbotError:
        raise
    except Exception as exc:  # pymilvus raises its own types, gRPC errors and OSErrors
        raise error_for(settings, exc, collection) from None


def error_for(settings: Settings, exc: BaseException, collection: str | None) -> NewsbotError:
    where = describe(settings)
    message = str(getattr(exc, "message", "") or exc)
    lowered = message.lower()
    code = getattr(exc, "code", None)
    if "does not exist" in lowered or "not found" in lowered or "can't find" in lowered:
        name = collection or settings.milvus_collection
        return IndexMissingError(f"no newsbot index {name!r} in {where}; {REBUILD_HINT}")
    if code in (1800, 1801, 1802, 1803) or any(
        word in lowered for word in ("auth", "token", "credential", "password", "permission")
    ):
        return StoreUnavailableError(
            f"{where} refused the credentials (setting milvus_token, env NEWSBOT_MILVUS_TOKEN): "
            f"{_first_line(message)}"
        )
    if code == 2 or "unavailable" in lowered or "connect" in lowered or "deadline" in lowered:
        if other := what_else_answers(settings.milvus_address):
            return StoreUnavailableError(
                f"something answers at {settings.milvus_shown}, but it is not a Milvus server "
                f"({other}); check setting milvus_uri, env NEWSBOT_MILVUS_URI"
            )
        return StoreUnavailableError(
            f"cannot reach {where} (is the server running? setting milvus_uri, "
            "env NEWSBOT_MILVUS_URI)"
        )
    if "lock" in lowered and not is_server(settings.milvus_address):
        return StoreUnavailableError(
            f"{where} is open in another process (an embedded Milvus Lite file serves one "
            "process; run `milvus-lite server` and point milvus_uri at it to share it)"
        )
    return StoreUnavailableError(f"{where} failed: {_first_line(message) or type(exc).__name__}")


def what_else_answers(address: str, timeout: float = PROBE_SECONDS) -> str:
    """How what answers at the server `address` shows it is not Milvus, in a few words ('it
    answered as a web server: HTTP/1.1 400 Bad Request'); '' when nothing listens there, a gRPC
    server (Milvus) answers, or it cannot tell (https, which needs TLS first; no reply in time)."""
    try:
        parsed = urlsplit(address)
        host, port = parsed.hostname, parsed.port or DEFAULT_PORT
    except ValueError:  # a port that is no number: pymilvus said what it thinks of that
        return ""
    if parsed.scheme not in ("http", "tcp", "grpc") or not host:
        return ""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(_HTTP2_HELLO)
            reply = connection.recv(512)
    except OSError:  # refused, unreachable, reset or silent
        return ""
    if not reply or (len(reply) >= 9 and reply[3] == _SETTINGS):
        return ""
    if reply.startswith(b"HTTP/"):
        status = reply.split(b"\r\n", 1)[0].decode("ascii", "replace")
        return f"it answered as a web server: {' '.join(status.split())[:100]}"
    if reply.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html")):
        return "it answered with a web page"
    return "it does not speak gRPC, as Milvus does"


def _first_line(text: str) -> str:
    return without_password(" ".join(text.strip().splitlines()[:1])[:300])


def ensure_loaded(milvus: Any, *names: str) -> None:
    """Load collections into memory for search (a reopened Milvus Lite file starts with them
    released; a server keeps them loaded, so this is one cheap call there)."""
    for name in names:
        if not is_loaded(milvus, name):
            milvus.load_collection(name)


def is_loaded(milvus: Any, name: str) -> bool:
    """Whether collection `name` is loaded for search."""
    state = str(milvus.get_load_state(name).get("state", ""))
    return "Loaded" in state and "NotLoad" not in state
