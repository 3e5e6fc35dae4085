"""Exporting the query encoder at build time: cached by weights, never trusted when damaged."""

from __future__ import annotations

import logging

import pytest

from bot.engine import Newsbot
from bot.indexing import build_index, store
from bot.onnx_embedding import ENCODER_FILE, OnnxEmbedder, sha256_file
from bot.onnx_export import cache_dir

ARTICLE = (
    "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay. "
    "The union said the strike would last three days.\n\n"
    "Shipping firms diverted twelve vessels to Antwerp.\n"
)
QUESTION = "Where did the dock workers strike?"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return cache_dir()


def encoder_entry(settings) -> dict:
    return store.read_manifest(settings.index_dir)["query_encoder"]


def test_first_build_exports_later_builds_reuse_and_a_damaged_cache_is_redone(
    make_corpus, embedder, empty_cache
) -> None:
    settings = make_corpus({"port.txt": ARTICLE})
    build_index(settings, embedder=embedder)
    assert encoder_entry(settings)["from_cache"] is False
    assert len(list(empty_cache.glob("*.onnx"))) == 1

    build_index(settings, embedder=embedder)
    assert encoder_entry(settings)["from_cache"] is True

    cached = next(empty_cache.glob("*.onnx"))
    cached.write_bytes(cached.read_bytes()[:-100])  # truncated, as by a full disk
    build_index(settings, embedder=embedder)
    entry = encoder_entry(settings)
    assert entry["from_cache"] is False
    build = store.current_build(settings.index_dir)
    assert sha256_file(build / ENCODER_FILE) == entry["model"]["sha256"]

    bot = Newsbot(settings)
    answer = bot.ask(QUESTION)
    assert isinstance(bot.embedder, OnnxEmbedder)
    assert answer.answer == Newsbot(settings, embedder=embedder).ask(QUESTION).answer
    assert "Rotterdam" in answer.answer


def test_a_failed_export_still_builds_and_says_questions_use_sentence_transformers(
    make_corpus, embedder, empty_cache, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    import torch

    def exporter_broken(*args, **kwargs):
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(torch.onnx, "export", exporter_broken)
    settings = make_corpus({"port.txt": ARTICLE})
    report = build_index(settings, embedder=embedder)
    assert any(
        "exporter unavailable" in w and "sentence-transformers" in w for w in report.warnings
    )
    assert "query_encoder" not in store.read_manifest(settings.index_dir)
    assert not (store.current_build(settings.index_dir) / ENCODER_FILE).exists()

    with caplog.at_level(logging.WARNING, logger="bot.engine"):
        answer = Newsbot(settings).ask(QUESTION)
    assert "Rotterdam" in answer.answer
    assert any("no ONNX query encoder" in r.getMessage() for r in caplog.records)
