"""Storing articles: one document per URL and per text, a changed page replaces its old version,
and a local file becomes an article with front matter."""

from __future__ import annotations

from pathlib import Path

from bot.indexing.corpus import parse_document
from bot.ingest.extract import Article
from bot.ingest.pages import read_file, store
from bot.ingest.state import SourceState

TEXT = (
    "The lighthouse on Gull Point will be repainted in June, the harbour trust said on Friday.\n\n"
    "Scaffolding goes up on the first of the month."
)


def article(url: str = "https://example.org/news/lighthouse", text: str = TEXT) -> Article:
    return Article(
        text=text,
        title="Lighthouse to be repainted",
        source="Harbour Gazette",
        author="Mara Quinlan",
        published="2024-04-02",
        url=url,
    )


def test_stored_file_is_indexed_with_its_metadata(tmp_path: Path) -> None:
    with SourceState(tmp_path / "index") as state:
        outcome = store(tmp_path / "corpus", state, article(), "https://example.org/x")
    assert outcome.status == "added"
    assert outcome.path.startswith("web/example-org/lighthouse-")
    path = tmp_path / "corpus" / outcome.path
    document = parse_document(tmp_path / "corpus", path, path.read_bytes())
    assert (document.title, document.source, document.published, document.url) == (
        "Lighthouse to be repainted",
        "Harbour Gazette",
        "2024-04-02",
        "https://example.org/news/lighthouse",
    )
    assert document.text[document.body_start :].strip() == TEXT


def test_same_url_or_same_text_is_one_document_and_a_change_replaces_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    with SourceState(tmp_path / "index") as state:
        first = store(corpus, state, article(), "a")
        again = store(corpus, state, article(), "b")
        copy = store(corpus, state, article(url="https://mirror.example.net/lighthouse"), "c")
        spaced = store(
            corpus,
            state,
            article(url="https://amp.example.org/l", text=TEXT.replace(" ", "  ")),
            "d",
        )
        changed = store(corpus, state, article(text=TEXT.replace("June", "July")), "e")
    assert [o.status for o in (first, again, copy, spaced, changed)] == [
        "added",
        "unchanged",
        "unchanged",
        "unchanged",
        "updated",
    ]
    assert copy.path == first.path and copy.message == f"the same text is stored as {first.path}"
    assert changed.path == first.path
    [only] = list(corpus.rglob("*.md"))
    assert "repainted in July" in only.read_text(encoding="utf-8")


def test_a_text_file_is_stored_with_its_headline_and_front_matter(tmp_path: Path) -> None:
    plain = tmp_path / "ferry.txt"
    plain.write_text("Ferry fares rise\n\n" + TEXT, encoding="utf-8")
    found = read_file(plain)
    assert (found.title, found.text) == ("Ferry fares rise", TEXT)
    marked = tmp_path / "notes.md"
    marked.write_text(
        "---\ntitle: Gull Point\nsource: Harbour Gazette\npublished: 2024-04-02\n---\n" + TEXT,
        encoding="utf-8",
    )
    found = read_file(marked)
    assert (found.title, found.source, found.published) == (
        "Gull Point",
        "Harbour Gazette",
        "2024-04-02",
    )
