"""Storing articles: one document per URL and per text, a changed page replaces its old version,
and a local file becomes an article with front matter; what is not text is not read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.indexing.corpus import parse_document
from bot.ingest.extract import Article
from bot.ingest.fetching import MAX_PAGE_BYTES, Fetched, Fetcher
from bot.ingest.pages import Skipped, add_source, read_file, read_page, store
from bot.ingest.state import SourceState
from tests.ingest.test_fronts import TEASERS, front_page
from tests.test_language import ENGLISH_WITH_FOREIGN, FRENCH, SPANISH

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


def test_a_text_already_in_the_corpus_is_not_stored_again(tmp_path: Path) -> None:
    """The same text as any article in the corpus, stored by newsbot or put there by hand."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    by_hand = corpus / "lighthouse.txt"
    by_hand.write_text("Lighthouse to be repainted\n\n" + TEXT + "\n", encoding="utf-8")
    with SourceState(tmp_path / "index") as state:
        itself = store(corpus, state, read_file(by_hand), str(by_hand))
        from_web = store(corpus, state, article(), "https://example.org/news/lighthouse")
    for outcome in (itself, from_web):
        assert (outcome.status, outcome.path) == ("unchanged", "lighthouse.txt")
        assert outcome.message == "the same text is stored as lighthouse.txt"
    assert [p.name for p in corpus.rglob("*")] == ["lighthouse.txt"]


def test_only_regular_files_are_read_and_no_more_than_a_page(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)  # reading it would wait for a writer forever
    zeros = tmp_path / "zeros.txt"
    zeros.symlink_to("/dev/zero")  # reading it would never end
    big = tmp_path / "big.txt"
    big.write_text("Tides. " * (MAX_PAGE_BYTES // 7 + 1), encoding="utf-8")
    for path, reason in (
        (pipe, "not a regular file"),
        (zeros, "not a regular file"),
        (big, "larger than 5 MB, the most newsbot reads of a file"),
    ):
        with pytest.raises(Skipped) as why:
            read_file(path, MAX_PAGE_BYTES)
        assert str(why.value) == reason


def test_binary_bytes_served_as_a_web_page_are_not_an_article() -> None:
    page = Fetched(
        url="http://127.0.0.1/scrambled",
        not_modified=False,
        content=b"<html>\x00\xff\xfe" + bytes(range(256)) * 40,
        content_type="text/html",
        charset=None,
        etag=None,
        last_modified=None,
    )
    with pytest.raises(Skipped) as why:
        read_page(page)
    assert str(why.value) == "binary data, not text (served as text/html)"


def kelmouth_page(outcome: str) -> str:
    return (
        "<html><head><title>Kelmouth mayor election</title>"
        '<link rel="canonical" href="https://news.example.com/kelmouth-mayor"></head><body>'
        f"<article><p>The mayor of Kelmouth, Dafydd Rhys, {outcome} on Thursday, the returning "
        "officer said.</p><p>Turnout was 44 percent, down from 52 percent.</p></article>"
        "</body></html>"
    )


def test_a_page_naming_another_articles_url_does_not_replace_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    real, fake = tmp_path / "real.html", tmp_path / "fake.html"
    real.write_text(kelmouth_page("was re-elected"), encoding="utf-8")
    fake.write_text(kelmouth_page("lost the election"), encoding="utf-8")
    with SourceState(tmp_path / "index") as state, Fetcher() as fetcher:
        first = add_source(corpus, state, fetcher, str(real))
        spoof = add_source(corpus, state, fetcher, str(fake))
        real.write_text(kelmouth_page("was re-elected with 61 percent"), encoding="utf-8")
        edited = add_source(corpus, state, fetcher, str(real))
        by_web = store(corpus, state, article(url=first.url), "https://elsewhere.example/k")
        spoof_from_web = store(
            corpus,
            state,
            article(url=first.url, text=TEXT + " Again."),
            "https://elsewhere.example/k",
            origin="https://elsewhere.example/k",
        )
    assert (first.status, first.url) == ("added", "https://news.example.com/kelmouth-mayor")
    assert (spoof.status, spoof.message) == (
        "skipped",
        f"its canonical URL {first.url} is stored already from another source "
        f"({first.path}); not replaced",
    )
    assert edited.status == "updated"
    # The site itself (a fetch from news.example.com) speaks for its pages; others do not.
    assert by_web.status == "updated"
    assert spoof_from_web.status == "skipped"
    [only] = list(corpus.rglob("*.md"))
    assert "Lighthouse" in only.read_text(encoding="utf-8")


NOT_ARTICLES = {
    "consent.html": (
        "<html><head><title>Before you continue</title></head><body><div class='consent'>"
        "<h1>Before you continue to Kelmouth Chronicle</h1><p>We and our 847 partners use "
        "cookies and data to deliver and maintain services, measure audience engagement and "
        "show personalised ads.</p><p>Select Reject all to decline. Select More options to see "
        "additional information.</p><button>Accept all</button></div></body></html>",
        "a cookie-consent notice, not an article",
    ),
    "front.html": (
        "<html><head><title>Kelmouth Chronicle - Home</title></head><body><nav>"
        + " ".join(f"<a href='/s{i}'>Section {i}</a>" for i in range(50))
        + "</nav><div class='cookie'>We use cookies to improve your experience. Accept all "
        "cookies.</div><footer>Copyright 2024 Kelmouth Chronicle.</footer></body></html>",
        "only short lines (links or headlines: a section front?), not an article",
    ),
    "home.html": (
        front_page(TEASERS["linked heading"]),
        "a front page of headlines, not one article",
    ),
    "paywall.html": (
        "<html><head><title>Council budget row deepens</title></head><body><article><h1>"
        "Council budget row deepens</h1><p>The council's budget row deepened on Monday as the "
        "finance chief resigned.</p><div class='paywall'><p>Subscribe to continue reading. "
        "Already a subscriber? Log in. Get unlimited access to Kelmouth Chronicle for just 1 "
        "pound a week. Cancel anytime.</p></div></article></body></html>",
        "a paywall (subscribe to read on), not an article",
    ),
    "missing.html": (
        "<html><head><title>Page not found | Kelmouth Chronicle</title></head><body><main>"
        "<h1>Sorry, we couldn't find that page</h1><p>The page you are looking for may have "
        "been moved, deleted or never existed. Try searching our site or go back to the "
        "homepage to find the latest news.</p></main></body></html>",
        "a 'page not found' page, not an article",
    ),
}


def test_pages_that_are_not_articles_are_refused_saying_what_they_are(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    teaser = tmp_path / "teaser.html"  # an article with a subscription notice after it
    teaser.write_text(
        "<html><head><title>Lighthouse to be repainted</title></head><body><article>"
        + "".join(f"<p>{p}</p>" for p in TEXT.split("\n\n"))
        + "<p>Subscribe to continue reading. Already a subscriber? Log in.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    with SourceState(tmp_path / "index") as state, Fetcher() as fetcher:
        for name, (html, reason) in NOT_ARTICLES.items():
            (tmp_path / name).write_text(html, encoding="utf-8")
            outcome = add_source(corpus, state, fetcher, str(tmp_path / name))
            assert (outcome.status, outcome.message) == ("skipped", reason), name
        stored = add_source(corpus, state, fetcher, str(teaser))
    assert stored.status == "added"
    [only] = list(corpus.rglob("*.md"))
    assert "repainted in June" in only.read_text(encoding="utf-8")
    assert "Subscribe" not in only.read_text(encoding="utf-8")


def test_a_page_in_utf16_without_a_byte_order_mark_is_read_as_declared() -> None:
    html = f"<html><body><article><p>{TEXT}</p></article></body></html>"
    page = Fetched(
        url="http://127.0.0.1/lighthouse",
        not_modified=False,
        content=html.encode("utf-16-le"),
        content_type="text/html",
        charset="utf-16le",
        etag=None,
        last_modified=None,
    )
    assert "repainted in June" in read_page(page).text


def test_a_page_or_file_not_in_english_is_skipped_saying_which_language(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    pages = {"monde.html": FRENCH, "mundo.txt": SPANISH, "english.html": ENGLISH_WITH_FOREIGN}
    for name, text in pages.items():
        body = "".join(f"<p>{s}.</p>" for s in text.split(". "))
        html = f"<html><head><title>{name}</title></head><body><article>{body}</article></body>"
        (tmp_path / name).write_text(html if name.endswith(".html") else text, encoding="utf-8")
    with SourceState(tmp_path / "index") as state, Fetcher() as fetcher:
        found = {name: add_source(corpus, state, fetcher, str(tmp_path / name)) for name in pages}
    reason = "an article in {}, not English (newsbot reads English only)"
    assert (found["monde.html"].status, found["monde.html"].message) == (
        "skipped",
        reason.format("French"),
    )
    assert (found["mundo.txt"].status, found["mundo.txt"].message) == (
        "skipped",
        reason.format("Spanish"),
    )
    assert found["english.html"].status == "added"
    [only] = list(corpus.rglob("*.md"))
    assert "Emmanuel Macron" in only.read_text(encoding="utf-8")
