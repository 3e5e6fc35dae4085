"""Extraction: the article text of a page with boilerplate, and its metadata."""

from __future__ import annotations

from pathlib import Path

from bot.indexing.corpus import looks_like_html
from bot.ingest.extract import decode_html, extract_article

SITE = Path(__file__).resolve().parent.parent / "data" / "site"
BOILERPLATE = (
    "cookies",
    "Sign up",
    "Morning Briefing",
    "Related stories",
    "Ferry timetable",
    "seadog77",
    "bills go down",
    "All rights reserved",
    "Privacy policy",
    "Subscribe",
    "Weather",
)


def page(name: str, host: str = "127.0.0.1:8000") -> bytes:
    return (SITE / name).read_bytes().replace(b"http://HOST/", f"http://{host}/".encode())


def test_the_article_is_kept_and_the_boilerplate_is_not() -> None:
    article = extract_article(decode_html(page("tidal-plant.html")))
    assert article.text.startswith("The Port Ellery tidal plant began feeding electricity")
    assert "The project cost 310 million pounds" in article.text
    assert "Chief engineer Tomasz Reyes said" in article.text
    for words in BOILERPLATE:
        assert words not in article.text, words
    # Paragraphs are separated by blank lines; the headline is not repeated in the body.
    assert article.text.count("\n\n") == 4
    assert "Tidal plant opens in Port Ellery" not in article.text


def test_title_outlet_author_date_and_canonical_url() -> None:
    article = extract_article(decode_html(page("tidal-plant.html")), "http://127.0.0.1:8000/x?a=1")
    assert article.title == "Tidal plant opens in Port Ellery"
    assert article.source == "Harbour Gazette"
    assert article.author == "Mara Quinlan"
    assert article.published == "2024-03-05"
    assert article.url == "http://127.0.0.1:8000/news/tidal-plant"


def test_a_page_in_windows_1252_is_read_as_declared() -> None:
    raw = page("cafe-award-cp1252.html")
    assert b"\x80" in raw  # the euro sign, in Windows-1252
    article = extract_article(decode_html(raw))
    assert article.title == "Café owner wins €50,000 award"
    assert "Zoë François, who runs the Café Rosé" in article.text
    assert article.published == "2024-01-15"
    assert article.source == "Riverside Post"


def test_the_server_charset_wins_over_a_guess() -> None:
    text = "<html><body><p>Na\u00efve caf\u00e9</p></body></html>"
    assert decode_html(text.encode("iso-8859-1"), "iso-8859-1") == text
    assert decode_html(text.encode("utf-8")) == text
    assert decode_html(text.encode("cp1252")) == text  # not UTF-8, no declaration


def test_no_date_is_guessed_from_a_copyright_line() -> None:
    article = extract_article(decode_html(page("gallery.html")))
    assert article.published == ""
    assert len(article.text) < 80  # a gallery has no article text


def test_html_is_recognised_whatever_the_file_is_called() -> None:
    assert looks_like_html(page("library.html"))
    assert looks_like_html(b"\n<!-- saved -->\n<html><body><p>x</p></body></html>")
    assert not looks_like_html(
        b"Title\n\nA story with a <b>bold</b> word and <a href=x>a link</a>."
    )
    assert not looks_like_html(b"")


def test_a_canonical_url_on_another_site_is_not_believed() -> None:
    html = decode_html(page("tidal-plant.html", host="news.example.com"))
    fetched = "http://127.0.0.1:8000/news/tidal-plant"
    assert extract_article(html, fetched).url == fetched
    assert extract_article(html, "https://www.news.example.com/amp/tidal").url == (
        "http://news.example.com/news/tidal-plant"
    )
