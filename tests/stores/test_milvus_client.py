"""Errors from Milvus, as the user reads them; settings for the store."""

from __future__ import annotations

import pytest
from pymilvus.exceptions import MilvusException

from bot.config import load_settings
from bot.errors import ConfigError
from bot.stores.milvus.client import StoreUnavailableError, error_for
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


def test_a_password_in_the_milvus_uri_is_never_shown(seed_settings) -> None:
    uri = "http://root:S3cretPw@127.0.0.1:9"  # nothing listens on port 9
    result = newsbot(
        ["ask", "--store", "milvus", "--milvus-uri", uri, "Who is Ryan Ding?"], seed_settings
    )
    line = one_error_line(result, "cannot reach Milvus at http://root:***@127.0.0.1:9")
    assert "S3cretPw" not in line and b"S3cretPw" not in result.stdout
