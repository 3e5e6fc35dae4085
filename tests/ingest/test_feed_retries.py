"""A feed item whose page failed for a reason that may pass (a busy server, a broken
connection) is fetched again at the next `feeds update`, and given up only after a while,
saying so once; a dead link is not asked for again."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ingest import feeds
from bot.ingest.state import FILE_NAME, Item, SourceState
from tests.ingest.test_ingest_cli import json_lines, run
from tests.site_server import NewsSite, newsbot_on_site

FERRY = "/news/ferry-fares"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[NewsSite]:
    """The news site, and an empty corpus following its one-item ferry feed."""
    (tmp_path / "corpus").mkdir()
    with NewsSite() as site, pytest.MonkeyPatch.context() as env:
        newsbot_on_site(env, tmp_path)
        added = run("feeds", "add", site.url("/feeds/ferry.xml"))
        assert added.exit_code == 0, added.output
        yield site


def update() -> list[dict]:
    result = run("feeds", "update", "--json")
    assert result.exit_code == 0, result.output
    return json_lines(result.stdout)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (503, "HTTP 503 Service Unavailable"),
        (429, "HTTP 429 Too Many Requests"),
        ("drop", "the server broke off the response"),
    ],
)
def test_a_page_that_failed_for_now_is_fetched_at_the_next_update(
    site: NewsSite, failure: int | str, reason: str
) -> None:
    site.failures[FERRY] = [failure]
    [first] = update()
    assert (first["status"], first["message"]) == (
        "failed",
        f"{reason} (will retry at the next update)",
    )
    [second] = update()
    assert (second["input"], second["status"]) == (site.url(FERRY), "added")
    answer = json.loads(run("ask", "--json", "How much will ferry fares rise?").stdout)
    assert "eleven percent" in answer["answer"]
    assert run("feeds", "update").stdout.strip() == "Nothing new."


def test_a_page_failing_for_long_is_given_up_once(
    site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds, "RETRY_ATTEMPTS", 2)
    monkeypatch.setattr(feeds, "RETRY_PERIOD", timedelta(0))
    site.failures[FERRY] = [503] * 10
    [first] = update()
    assert first["message"] == "HTTP 503 Service Unavailable (will retry at the next update)"
    [second] = update()
    assert second["status"] == "failed"
    assert second["message"].startswith("HTTP 503 Service Unavailable (failed 2 times since ")
    assert second["message"].endswith("; given up)")
    assert run("feeds", "update").stdout.strip() == "Nothing new."
    assert site.requests[FERRY] == 2  # not asked for again


def test_a_state_file_from_before_retries_is_read(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / FILE_NAME) as old:
        old.execute(
            "CREATE TABLE items (feed_url TEXT NOT NULL, link TEXT NOT NULL, fingerprint TEXT"
            " NOT NULL, etag TEXT, last_modified TEXT, path TEXT NOT NULL DEFAULT '',"
            " fetched_at TEXT NOT NULL, first_seen TEXT NOT NULL, PRIMARY KEY (feed_url, link))"
        )
        old.execute("INSERT INTO items VALUES ('f', 'l', 'x', NULL, NULL, 'p.md', 't', 't')")
    old.close()
    with SourceState(tmp_path) as state:
        assert state.item("f", "l") == Item("l", "x", None, None, "p.md")
        state.remember_item("f", "l", "x", None, None, "", 1, "2024-01-01T00:00:00+00:00")
        assert [i.link for i in state.pending_items("f")] == ["l"]


def test_an_item_the_corpus_could_not_take_is_stored_once_it_can(site: NewsSite) -> None:
    corpus = Path(os.environ["NEWSBOT_CORPUS"])
    (corpus / "web").write_text("in the way\n", encoding="utf-8")
    result = run("feeds", "update", "--json")
    assert "Traceback" not in result.output
    [first] = json_lines(result.stdout)
    assert first["status"] == "failed"
    assert first["message"].startswith("cannot write web/127-0-0-1/ferry-fares-")
    assert first["message"].endswith("(will retry at the next update)")
    (corpus / "web").unlink()
    [second] = update()
    assert (second["input"], second["status"]) == (site.url(FERRY), "added")


def test_a_story_listed_twice_is_one_item(site: NewsSite) -> None:
    assert run("feeds", "remove", site.url("/feeds/ferry.xml")).exit_code == 0
    assert run("feeds", "add", site.url("/feeds/ferry-twice.xml")).exit_code == 0
    [first] = update()
    assert (first["input"], first["status"]) == (site.url(FERRY), "added")
    assert run("feeds", "update").stdout.strip() == "Nothing new."


def test_one_feed_is_followed_once_however_it_is_typed(site: NewsSite) -> None:
    typed = site.url("/feeds/ferry.xml").replace("http://", "HTTP://") + "#top"
    again = run("feeds", "add", typed)
    assert again.stdout.startswith("Already following Ferries")
    listed = json_lines(run("feeds", "list", "--json").stdout)
    assert [f["url"] for f in listed] == [site.url("/feeds/ferry.xml")]
    assert run("feeds", "remove", typed).exit_code == 0
    assert run("feeds", "list").stdout.startswith("No feeds")
