"""Incremental builds: unchanged documents are reused, and the result equals a fresh build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Newsbot
from bot.indexing import build_index, store
from bot.onnx_embedding import OnnxEmbedder

PORT = (
    "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay. "
    "The union said the strike would last three days.\n\n"
    "Shipping firms diverted twelve vessels to Antwerp.\n"
)
TEA = "Harvest report\n\nFarmers in Kenya harvested a record tea crop this year.\n"
BANK = (
    "---\ntitle: Central bank holds rates\nsource: Wire\n---\n"
    "The central bank of Norway kept its key rate at 4.5 percent on Thursday. "
    "Governor Ida Wolden Bache said inflation was still too high.\n\n"
    "Economists had expected the pause.\n"
)
QUESTIONS = [
    "Where did the dock workers strike?",
    "How big was the tea harvest in Kenya?",
    "What rate did Norway's central bank keep?",
    "Who is the governor of the Norwegian central bank?",
]


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the build's ONNX encoder embeds, in order."""
    seen: list[str] = []
    encode = OnnxEmbedder.encode

    def counting(self, texts, batch_size=32):
        seen.extend(texts)
        return encode(self, texts, batch_size)

    monkeypatch.setattr(OnnxEmbedder, "encode", counting)
    return seen


def assert_same_index(settings, fresh_settings) -> None:
    """Same documents, sentences, chunks, vectors and answers as a fresh full build."""
    updated, fresh = store.load(settings.index_dir), store.load(fresh_settings.index_dir)
    assert updated.documents == fresh.documents
    for name in fresh.chunks:
        assert np.array_equal(updated.chunks[name], fresh.chunks[name]), name
    for name in fresh.sentences:
        assert np.array_equal(updated.sentences[name], fresh.sentences[name]), name
    n = fresh.chunk_vectors.ntotal
    assert updated.chunk_vectors.ntotal == n
    assert np.allclose(
        updated.chunk_vectors.reconstruct_n(0, n),
        fresh.chunk_vectors.reconstruct_n(0, n),
        atol=1e-6,
    )
    if fresh.sentence_vectors is not None:
        assert np.allclose(updated.sentence_vectors, fresh.sentence_vectors, atol=1e-6)
    assert updated.bm25.vocab_dict == fresh.bm25.vocab_dict
    for name, values in fresh.bm25.scores.items():
        assert np.array_equal(np.asarray(updated.bm25.scores[name]), np.asarray(values)), name
    a, b = Newsbot(settings), Newsbot(fresh_settings)
    for question in QUESTIONS:
        x, y = a.ask(question), b.ask(question)
        assert (x.answer, x.abstained) == (y.answer, y.abstained), question
        assert [(c.doc_id, c.start, c.end) for c in x.citations] == [
            (c.doc_id, c.start, c.end) for c in y.citations
        ], question


def test_add_change_and_remove_documents_equal_a_fresh_build(
    make_corpus, embedded: list[str], tmp_path: Path
) -> None:
    settings = make_corpus({"port.txt": PORT, "tea.txt": TEA})
    first = build_index(settings)
    assert first.full and first.reason == "there is no index yet"
    embedded.clear()

    corpus = settings.corpus_dir
    (corpus / "news").mkdir()
    (corpus / "news" / "bank.md").write_text(BANK, encoding="utf-8")  # added
    (corpus / "tea.txt").write_text(TEA + "\nPickers were paid more.\n", encoding="utf-8")
    report = build_index(settings)
    assert not report.full
    assert (report.reused_documents, report.embedded_documents) == (1, 2)
    assert not any("Rotterdam" in text for text in embedded)  # port.txt was not re-embedded
    assert any("Norway" in text for text in embedded)
    assert any("Pickers" in text for text in embedded)

    fresh = settings.replace(index_dir=tmp_path / "fresh")
    build_index(fresh)
    assert_same_index(settings, fresh)

    embedded.clear()
    (corpus / "tea.txt").unlink()  # removed
    report = build_index(settings)
    assert (report.full, report.removed_documents, report.embedded_documents) == (False, 1, 0)
    assert embedded == []
    build_index(fresh, full=True)
    assert_same_index(settings, fresh)
    assert Newsbot(settings).ask("How big was the tea harvest in Kenya?").abstained


def test_a_settings_change_forces_a_full_build_and_says_why(
    make_corpus, embedded: list[str]
) -> None:
    settings = make_corpus({"port.txt": PORT, "tea.txt": TEA})
    build_index(settings)
    embedded.clear()
    report = build_index(settings.replace(chunk_sentences=2))
    assert report.full and report.embedded_documents == 2
    assert report.reason.startswith("chunking changed")
    assert any("Rotterdam" in text for text in embedded)

    report = build_index(settings.replace(chunk_sentences=2), full=True)
    assert report.full and report.reason == "--full was asked for"


def test_a_file_that_vanishes_while_reading_is_skipped_with_a_warning(
    make_corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_corpus({"port.txt": PORT, "tea.txt": TEA})
    read_bytes = Path.read_bytes

    def vanishing(self: Path) -> bytes:
        if self.name == "tea.txt":
            raise FileNotFoundError(self)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", vanishing)
    report = build_index(settings)
    assert report.documents == 1
    assert any("tea.txt" in w and "removed while reading" in w for w in report.warnings)


def test_a_failed_incremental_build_leaves_the_serving_index(
    make_corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_corpus({"port.txt": PORT})
    build_index(settings)
    before = store.current_build(settings.index_dir)
    (settings.corpus_dir / "tea.txt").write_text(TEA, encoding="utf-8")

    def killed(self, texts, batch_size=32):
        raise KeyboardInterrupt

    monkeypatch.setattr(OnnxEmbedder, "encode", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings)
    assert store.current_build(settings.index_dir) == before
    monkeypatch.undo()
    assert Newsbot(settings).ask("How big was the tea harvest in Kenya?").abstained
    assert not build_index(settings).full  # the next build still reuses port.txt


def test_cli_says_whether_a_build_was_incremental_or_full(make_corpus) -> None:
    settings = make_corpus({"port.txt": PORT})
    args = ["index", "build", "--corpus", str(settings.corpus_dir), "--index"]
    args.append(str(settings.index_dir))
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "Full build: there is no index yet." in first.stderr
    second = runner.invoke(app, args)
    assert "Incremental build: 1 document(s) reused, 0 new or changed" in second.stderr
    forced = runner.invoke(app, [*args, "--full"])
    assert "Full build: --full was asked for." in forced.stderr


def test_an_index_with_sentence_vectors_is_rebuilt_without_them_keeping_the_sentence_table(
    make_corpus, embedded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.indexing.build as build_module

    settings = make_corpus({"port.txt": PORT})
    monkeypatch.setattr(build_module, "SENTENCE_VECTORS", True)  # how older builds were made
    build_index(settings)
    assert (store.current_build(settings.index_dir) / "sentences.npy").exists()
    monkeypatch.setattr(build_module, "SENTENCE_VECTORS", False)
    embedded.clear()
    report = build_index(settings)
    assert report.full and report.reason.startswith("sentence vectors changed")
    assert len(embedded) == report.chunks  # each chunk once, no sentences
    assert not (store.current_build(settings.index_dir) / "sentences.npy").exists()
    data = store.load(settings.index_dir)
    assert data.sentence_vectors is None
    assert [data.sentence_text(i) for i in range(3)] == [
        "Dock workers in Rotterdam walked out on Tuesday over pay.",
        "The union said the strike would last three days.",
        "Shipping firms diverted twelve vessels to Antwerp.",
    ]
    assert not build_index(settings).full  # and later builds reuse it
