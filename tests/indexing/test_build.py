"""Building the index: atomic swaps, failures that lose nothing, status and staleness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine import Newsbot
from bot.errors import CorpusError, IndexMissingError, IndexUnusableError
from bot.indexing import build_index, index_status, store

ARTICLE_A = (
    "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay. "
    "The union said the strike would last three days.\n\n"
    "Shipping firms diverted twelve vessels to Antwerp.\n"
)
ARTICLE_B = "Harvest report\n\nFarmers in Kenya harvested a record tea crop this year.\n"


@pytest.fixture
def built(make_corpus, embedder):
    settings = make_corpus({"port.txt": ARTICLE_A})
    build_index(settings, embedder=embedder)
    return settings


def test_build_records_how_the_index_was_made(built, embedder) -> None:
    manifest = store.read_manifest(built.index_dir)
    assert manifest["model"] == embedder.name
    assert manifest["dimension"] == 384
    assert manifest["chunking"] == built.chunking
    assert manifest["settings"]["corpus_dir"] == str(built.corpus_dir)
    assert manifest["counts"] == {"documents": 1, "chunks": 2, "sentences": 3}
    assert set(manifest["files"]) == {"port.txt"}
    assert not list(Path(built.index_dir, "builds").glob(".tmp-*"))


def test_bad_file_fails_the_build_and_the_old_index_keeps_serving(built, embedder) -> None:
    before = store.current_build(built.index_dir)
    (built.corpus_dir / "broken.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    with pytest.raises(CorpusError, match=r"broken\.txt"):
        build_index(built, embedder=embedder)
    assert store.current_build(built.index_dir) == before
    answer = Newsbot(built, embedder=embedder).ask("Where did the dock workers strike?")
    assert "Rotterdam" in answer.answer


def test_a_crash_while_writing_leaves_the_old_index_and_no_debris(
    built, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store.current_build(built.index_dir)
    (built.corpus_dir / "tea.txt").write_text(ARTICLE_B, encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.writing, "write_file", crash)
    with pytest.raises(store.IndexWriteError, match="previous index keeps serving"):
        build_index(built, embedder=embedder)
    assert store.current_build(built.index_dir) == before
    assert not list(Path(built.index_dir, "builds").glob(".tmp-*"))
    assert Newsbot(built, embedder=embedder).manifest["counts"]["documents"] == 1


def test_a_killed_build_is_cleaned_up_by_the_next(built, embedder) -> None:
    abandoned = built.index_dir / "builds" / ".tmp-20200101T000000-000000000-999999999"
    abandoned.mkdir()
    build_index(built, embedder=embedder)
    assert not abandoned.exists()
    assert len([p for p in (built.index_dir / "builds").iterdir()]) <= 2


def test_status_reports_a_changed_corpus(built) -> None:
    status = index_status(built)
    assert status.exists and not status.stale
    (built.corpus_dir / "tea.txt").write_text(ARTICLE_B, encoding="utf-8")
    (built.corpus_dir / "port.txt").write_text(ARTICLE_A + "\nA new paragraph.\n", encoding="utf-8")
    assert index_status(built).changed_files == ["port.txt", "tea.txt"]


def test_a_rebuilt_index_is_picked_up_without_a_restart(built, embedder) -> None:
    bot = Newsbot(built, embedder=embedder)
    assert bot.ask("How big was the tea harvest in Kenya?").abstained
    (built.corpus_dir / "tea.txt").write_text(ARTICLE_B, encoding="utf-8")
    build_index(built, embedder=embedder)
    answer = bot.ask("How big was the tea harvest in Kenya?")
    assert not answer.abstained
    assert "record tea crop" in answer.answer


def test_missing_corrupt_and_mismatched_indexes_say_to_rebuild(
    built, make_corpus, embedder
) -> None:
    empty = make_corpus({"x.txt": ARTICLE_B})
    with pytest.raises(IndexMissingError, match="newsbot index build"):
        Newsbot(empty.replace(index_dir=built.index_dir.parent / "nothing"), embedder=embedder)

    manifest_path = store.current_build(built.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "some/other-model"  # as another newsbot would build it, checksum and all
    manifest[store.SELF_CHECKSUM] = store._manifest_digest(manifest)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnusableError, match="built with model 'some/other-model'"):
        Newsbot(built, embedder=embedder)

    (store.current_build(built.index_dir) / "chunks.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexUnusableError, match=r"chunks\.faiss is damaged.*newsbot index build"):
        Newsbot(built, embedder=embedder)
