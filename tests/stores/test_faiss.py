"""The FAISS store (bot/stores/faiss.py): an index used with its corpus moved elsewhere."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.engine import Newsbot
from bot.indexing import build_index

ARTICLE = (
    "---\ntitle: Bridge opens\n---\n\n"
    "The mayor of Vel opened the Tane bridge on Monday.\n\n"
    "The bridge cost 12 million crowns, the council said.\n"
)


def test_an_index_answers_from_its_corpus_moved_to_another_directory(tmp_path, embedder):
    """A checkout moved elsewhere (corpus and index together): the index cites the files where
    they are now, instead of withholding every answer as changed since the build."""
    (tmp_path / "old" / "corpus").mkdir(parents=True)
    (tmp_path / "old" / "corpus" / "bridge.md").write_text(ARTICLE, encoding="utf-8")
    old = load_settings(
        corpus_dir=tmp_path / "old" / "corpus", index_dir=tmp_path / "old" / "index"
    )
    build_index(old, embedder=embedder)
    shutil.move(tmp_path / "old", tmp_path / "new")
    moved = load_settings(
        corpus_dir=tmp_path / "new" / "corpus", index_dir=tmp_path / "new" / "index"
    )

    newsbot = Newsbot(moved, embedder=embedder)
    answer = newsbot.ask("How much did the bridge cost?")

    assert not answer.abstained, answer.abstain_reason
    assert "12 million crowns" in answer.answer
    assert answer.citations[0].path == str((tmp_path / "new" / "corpus" / "bridge.md").resolve())
    assert newsbot.staleness_warning() is None
    where = ["--corpus", str(moved.corpus_dir), "--index", str(moved.index_dir)]
    status = CliRunner().invoke(app, ["index", "status", *where]).stdout
    assert f"corpus:    {moved.corpus_dir} (indexed from {old.corpus_dir})" in status
    assert "corpus unchanged since the build" in status
