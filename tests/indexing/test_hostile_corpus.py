"""Issue 10, corpus: symbolic links never carry files from outside the corpus into answers
unless the operator says so, and every link that is not followed is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine import Newsbot
from bot.errors import NewsbotError
from bot.indexing import build_index, index_status
from bot.indexing.corpus import load_corpus

NEWS = "Tea harvest\n\nFarmers in Kenya harvested a record tea crop this year.\n"
PRIVATE = "Private diary\n\nThe vault combination is 4-8-15-16-23-42, kept in the study.\n"


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A corpus with one article and links of every kind; a private file lives outside."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.txt").write_text(NEWS)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "diary.txt").write_text(PRIVATE)
    (corpus / "diary.txt").symlink_to(outside / "diary.txt")  # leaves the corpus
    (corpus / "same.txt").symlink_to(corpus / "news.txt")  # stays inside: harmless
    (corpus / "folder").symlink_to(outside, target_is_directory=True)
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (corpus / "loop.txt").symlink_to(corpus / "loop.txt")
    return corpus


def test_links_out_of_the_corpus_are_skipped_and_every_skip_is_named(linked: Path) -> None:
    loaded = load_corpus(linked)
    assert sorted(d.doc_id for d in loaded.documents) == ["news.txt", "same.txt"]
    assert all("vault" not in d.text for d in loaded.documents)
    warnings = "\n".join(loaded.warnings)
    assert "diary.txt: a symbolic link that leaves the corpus directory" in warnings
    assert "folder: a symbolic link to a directory" in warnings
    assert "dangling.txt: a dangling symbolic link" in warnings
    assert "loop.txt: a symbolic link loop" in warnings


def test_a_corpus_of_links_out_of_it_says_why_nothing_was_indexed(tmp_path: Path, embedder) -> None:
    """Articles linked in from elsewhere: the error names the setting that reads them, not
    only "no articles" (the build stops before its warnings would be shown)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "b.txt"):
        (outside / name).write_text(NEWS)
        (corpus / name).symlink_to(outside / name)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    with pytest.raises(NewsbotError) as raised:
        build_index(settings, embedder=embedder)
    message = str(raised.value)
    assert "has no non-empty .txt or .md articles" in message
    assert "a.txt: a symbolic link that leaves the corpus directory" in message
    assert "NEWSBOT_FOLLOW_SYMLINKS=1" in message and "1 more skipped" in message
    assert "\n" not in message


def test_a_private_file_linked_into_the_corpus_is_never_served(linked: Path, embedder) -> None:
    settings = load_settings(corpus_dir=linked, index_dir=linked.parent / "index")
    report = build_index(settings, embedder=embedder)
    assert any("diary.txt" in w for w in report.warnings)
    answer = Newsbot(settings, embedder=embedder).ask("What is the vault combination?")
    assert all("vault" not in c.text for c in answer.citations)
    assert index_status(settings).changed_files == []  # the skipped link is not "changed"


def test_following_links_out_of_the_corpus_is_an_explicit_setting(
    linked: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_FOLLOW_SYMLINKS", "true")
    settings = load_settings(corpus_dir=linked, index_dir=linked.parent / "index")
    assert settings.follow_symlinks
    build_index(settings, embedder=embedder)
    answer = Newsbot(settings, embedder=embedder).ask("What is the vault combination?")
    assert "4-8-15-16-23-42" in answer.citations[0].text
    assert index_status(settings).changed_files == []
    citation = answer.citations[0]
    with open(citation.path, encoding="utf-8") as fh:
        assert fh.read()[citation.start : citation.end] == citation.text
    os.unlink(linked / "diary.txt")
    assert index_status(settings).changed_files == ["diary.txt"]
