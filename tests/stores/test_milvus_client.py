"""Errors from Milvus, as the user reads them; settings for the store."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pymilvus.exceptions import MilvusException

from bot.config import load_settings
from bot.errors import ConfigError
from bot.stores.milvus.client import StoreUnavailableError, error_for, what_else_answers
from bot.stores.milvus.lite import free_port
from bot.stores.milvus.schema import decode_term, encode_term
from tests.hostile import newsbot, one_error_line


def test_a_refused_token_names_the_setting_and_not_the_token(monkeypatch) -> None:
    # milvus-lite has no authentication, so the server's refusal is built as Milvus sends it.
    settings = load_settings(milvus_uri="http://127.0.0.1:19530", milvus_token="root:s3cret")
    refused = MilvusException(code=1800, message="user hasn't authenticated")
    error = error_for(settings, refused, None)
    assert isinstance(error, StoreUnavailableError)
    assert str(error).startswith(
        "Milvus at http://127.0.0.1:19530 refused the credentials (setting milvus_token"
    )
    assert "s3cret" not in str(error)


def test_store_settings_come_from_env_and_are_checked(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NEWSBOT_STORE", "milvus")
    monkeypatch.setenv("NEWSBOT_MILVUS_URI", "http://127.0.0.1:19530")
    monkeypatch.setenv("NEWSBOT_MILVUS_TOKEN", "root:s3cret")
    settings = load_settings(index_dir=tmp_path)
    assert (settings.store, settings.milvus_address, settings.milvus_collection) == (
        "milvus",
        "http://127.0.0.1:19530",
        "newsbot",
    )
    assert "milvus_token" not in settings.to_json()  # never written into a manifest
    assert load_settings(index_dir=tmp_path, milvus_uri="").milvus_address == str(
        tmp_path / "milvus.db"
    )
    with pytest.raises(ConfigError, match="store must be faiss or milvus"):
        load_settings(store="redis")
    with pytest.raises(ConfigError, match="milvus_collection"):
        load_settings(milvus_collection="news-bot")


def test_terms_are_single_tokens_for_milvus_and_come_back_unchanged() -> None:
    for term in ["huawei", "5g", "u.s", "co-op", "café", "x-ray", "$2", "ncsc's", "例え"]:
        token = encode_term(term)
        assert token.isalnum() and token.isascii()
        assert decode_term(token) == term
    assert encode_term("europe").startswith(encode_term("europ"))


def test_a_file_that_is_no_milvus_lite_store_is_one_line(seed_settings, tmp_path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 20)
    result = newsbot(
        ["ask", "--store", "milvus", "--milvus-uri", str(garbage), "Who is Ryan Ding?"],
        seed_settings,
    )
    one_error_line(result, f"Milvus Lite file {garbage} failed")


def test_asking_a_milvus_lite_file_that_is_not_there_creates_nothing(
    seed_settings, tmp_path
) -> None:
    new = tmp_path / "nowhere" / "new.db"
    asked = newsbot(
        ["ask", "--store", "milvus", "--milvus-uri", str(new), "Who is Ryan Ding?"],
        seed_settings,
    )
    one_error_line(asked, f"no newsbot index 'newsbot' in Milvus Lite file {new}")
    status = newsbot(["index", "status", "--store", "milvus", "--milvus-uri", str(new)])
    assert status.returncode == 1 and b"No index at" in status.stdout, status
    assert not (tmp_path / "nowhere").exists()


def test_a_password_in_the_milvus_uri_is_never_shown(seed_settings) -> None:
    uri = "http://root:S3cretPw@127.0.0.1:9"  # nothing listens on port 9
    result = newsbot(
        ["ask", "--store", "milvus", "--milvus-uri", uri, "Who is Ryan Ding?"], seed_settings
    )
    line = one_error_line(result, "cannot reach Milvus at http://root:***@127.0.0.1:9")
    assert "S3cretPw" not in line and b"S3cretPw" not in result.stdout


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _StatusLineHandler(socketserver.StreamRequestHandler):
    """Answers anything with an HTTP/1.1 status line, as nginx answers what it cannot parse."""

    def handle(self) -> None:
        self.request.recv(512)
        self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@contextlib.contextmanager
def serving(server: socketserver.TCPServer) -> Iterator[str]:
    """Run `server` (bound to 127.0.0.1) in a thread; yields its http:// address."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_given_as_milvus_uri_is_named_as_not_milvus(seed_settings, tmp_path) -> None:
    web = ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _QuietHandler(*a, directory=str(tmp_path))
    )
    with serving(web) as uri:
        for command in (["ask", "Who is Ryan Ding?"], ["index", "status"]):
            result = newsbot([*command, "--store", "milvus", "--milvus-uri", uri], seed_settings)
            line = one_error_line(result, f"something answers at {uri}, but it is not a Milvus")
            assert "cannot reach" not in line and "setting milvus_uri" in line


def test_what_answers_in_place_of_milvus() -> None:
    with serving(socketserver.TCPServer(("127.0.0.1", 0), _StatusLineHandler)) as uri:
        assert what_else_answers(uri) == "it answered as a web server: HTTP/1.1 400 Bad Request"
        settings = load_settings(milvus_uri=uri.replace("//", "//root:pw@"))
        refused = MilvusException(code=2, message="Fail connecting to server")
        assert str(error_for(settings, refused, None)) == (
            f"something answers at {uri.replace('//', '//root:***@')}, but it is not a Milvus "
            "server (it answered as a web server: HTTP/1.1 400 Bad Request); check setting "
            "milvus_uri, env NEWSBOT_MILVUS_URI"
        )
    nothing = f"http://127.0.0.1:{free_port()}"
    assert what_else_answers(nothing) == ""  # nothing listens: "cannot reach", as before
    assert what_else_answers("https://127.0.0.1:1") == ""  # TLS first: it cannot tell
