"""Chunks are windows of whole sentences within one paragraph, with exact offsets."""

from pathlib import Path

from bot.indexing.chunking import chunk_sentences, sentence_table
from bot.indexing.corpus import load_corpus
from tests.conftest import SEED_CORPUS


def test_every_sentence_and_chunk_of_the_seed_article_maps_back_to_the_file() -> None:
    corpus = load_corpus(SEED_CORPUS)
    for number, document in enumerate(corpus.documents):
        file_text = open(document.path, encoding="utf-8").read()  # noqa: SIM115
        table = sentence_table(number, document)
        chunks = chunk_sentences(table, 0, size=3, overlap=1, max_chars=900)
        assert table and chunks
        for sentence in table:
            assert (
                file_text[sentence.start : sentence.end]
                == document.text[sentence.start : sentence.end]
            )
            assert sentence.start >= document.body_start
        for chunk in chunks:
            inside = table[chunk.first : chunk.last]
            assert {s.paragraph for s in inside} == {chunk.paragraph}
            assert (chunk.start, chunk.end) == (inside[0].start, inside[-1].end)


def test_windows_overlap_and_cover_every_sentence(tmp_path: Path) -> None:
    paragraph = " ".join(f"Sentence number {i} is here." for i in range(1, 8))
    (tmp_path / "a.txt").write_text(paragraph + "\n\nA second paragraph.\n", encoding="utf-8")
    document = load_corpus(tmp_path).documents[0]
    table = sentence_table(0, document)
    chunks = chunk_sentences(table, 0, size=3, overlap=1, max_chars=10_000)
    assert [(c.first, c.last) for c in chunks] == [(0, 3), (2, 5), (4, 7), (7, 8)]
    assert [c.paragraph for c in chunks] == [1, 1, 1, 2]


def test_max_chars_shortens_windows_but_keeps_whole_sentences(tmp_path: Path) -> None:
    paragraph = " ".join(f"Sentence number {i} is here." for i in range(1, 5))
    (tmp_path / "a.txt").write_text(paragraph, encoding="utf-8")
    document = load_corpus(tmp_path).documents[0]
    table = sentence_table(0, document)
    chunks = chunk_sentences(table, 10, size=3, overlap=1, max_chars=60)
    assert all(c.last - c.first <= 2 for c in chunks)
    assert chunks[0].first == 10  # offset into the index-wide sentence table
    covered = {i for c in chunks for i in range(c.first, c.last)}
    assert covered == set(range(10, 14))
