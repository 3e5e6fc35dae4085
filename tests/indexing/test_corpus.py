"""Loading articles: front matter, headlines, and clear errors for files that cannot be read."""

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.indexing import build_index
from bot.indexing.corpus import load_corpus

ARTICLE = "Body sentence one. Body sentence two.\n\nSecond paragraph here.\n"


def test_front_matter_gives_metadata_and_is_not_indexed(tmp_path: Path) -> None:
    text = (
        "---\ntitle: A headline\nsource: Wire\nurl: https://example.org/a\npublished:\n---\n"
        + ARTICLE
    )
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    document = load_corpus(tmp_path).documents[0]
    assert (document.title, document.source, document.url, document.published) == (
        "A headline",
        "Wire",
        "https://example.org/a",
        "",
    )
    assert document.text[document.body_start :].strip() == ARTICLE.strip()


def test_an_impossible_date_is_dropped_and_empty_front_matter_is_no_article(
    make_corpus, embedder
) -> None:
    settings = make_corpus(
        {
            "bridge.md": "---\ntitle: Bridge\npublished: 2024-99-99\n---\n" + ARTICLE,
            "nothing.md": "---\n---",
        }
    )
    report = build_index(settings, embedder=embedder)
    assert [d.published for d in load_corpus(settings.corpus_dir).documents] == [""]
    assert report.warnings == [
        "bridge.md: published '2024-99-99' is no date (YYYY-MM-DD); indexed undated",
        "skipped nothing.md: it is empty (no text to index)",
    ]


def test_front_matter_ended_by_dots_or_with_a_title_over_lines_keeps_its_metadata(
    tmp_path: Path,
) -> None:
    files = {
        "dots.md": "---\ntitle: Dots end\nsource: Harbour Gazette\npublished: 2024-02-15\n...\n",
        "folded.md": "---\ntitle: Crane maker Liftmark\n  promises to cooperate\n"
        "source: Harbour Gazette\npublished: 2024-02-15\n---\n",
        "block.md": "---\ntitle: >\n  Crane maker Liftmark\n  promises to cooperate\n"
        "source: 'Harbour Gazette'\npublished: 2024-02-15\n---\n",
    }
    for name, header in files.items():
        (tmp_path / name).write_text(header + ARTICLE, encoding="utf-8")
    documents = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    expected_titles = {
        "dots.md": "Dots end",
        "folded.md": "Crane maker Liftmark promises to cooperate",
        "block.md": "Crane maker Liftmark promises to cooperate",
    }
    for name, title in expected_titles.items():
        document = documents[name]
        assert (document.title, document.source, document.published) == (
            title,
            "Harbour Gazette",
            "2024-02-15",
        ), name
        assert document.text[document.body_start :] == ARTICLE


def test_front_matter_it_cannot_read_is_named_not_lost_silently(make_corpus, embedder) -> None:
    settings = make_corpus(
        {
            "unindented.md": "---\ntitle: Crane maker\nLiftmark promises\nsource: Gazette\n---\n"
            + ARTICLE,
            "open.md": "---\ntitle: Never closed\n\n" + ARTICLE,
        }
    )
    report = build_index(settings, embedder=embedder)
    assert report.warnings == [
        "open.md: front matter has no closing '---' line; read as text",
        "unindented.md: front matter line 3 ('Liftmark promises') is not 'key: value' (a value "
        "that goes on over lines is indented); ignored",
    ]


def test_a_short_first_line_is_the_title_not_a_passage(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Markets rally on rate hopes\n\n" + ARTICLE, encoding="utf-8")
    document = load_corpus(tmp_path).documents[0]
    assert document.title == "Markets rally on rate hopes"
    assert "Markets rally" not in document.text[document.body_start :]


def test_without_a_headline_the_file_name_is_the_title(tmp_path: Path) -> None:
    (tmp_path / "rate-decision.txt").write_text(ARTICLE, encoding="utf-8")
    document = load_corpus(tmp_path).documents[0]
    assert document.title == "rate decision"
    assert document.body_start == 0


def test_unsupported_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a.txt"]
    assert corpus.warnings == ["skipped notes.pdf: only .txt, .md files are read"]


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 owners said no.".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1\.txt is not valid UTF-8"):
        load_corpus(tmp_path)


def test_binary_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusError, match=r"image\.txt looks binary"):
        load_corpus(tmp_path)


def test_missing_or_empty_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nowhere")
    (tmp_path / "blank.txt").write_text("   \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no non-empty"):
        load_corpus(tmp_path)


def test_crlf_files_keep_offsets_into_text_mode_reads(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"Title line\r\n\r\nFirst para.\r\n\r\nSecond para.\r\n")
    document = load_corpus(tmp_path).documents[0]
    assert document.text == (tmp_path / "w.txt").open(encoding="utf-8").read()
