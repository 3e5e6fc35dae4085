"""Following RSS and Atom feeds (feedparser): fetch each feed conditionally, then the pages of
its new and changed items, and store their articles."""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.errors import CorpusError, NewsbotError
from bot.ingest.extract import one_line
from bot.ingest.fetching import Fetched, Fetcher, FetchError, looks_like_url
from bot.ingest.pages import Outcome, Skipped, read_page, store
from bot.ingest.state import Item, SourceState, now

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
# Stories are corrected in their first days, often without the feed saying so: the pages of
# items first seen this recently are asked again at each update (conditional GET: a 304
# costs the server next to nothing).
RECHECK_DAYS = 3
# An item whose page failed for a reason that may pass (a timeout, HTTP 503) is fetched again
# at each update, and given up only once it has failed this many times over at least this long.
RETRY_ATTEMPTS = 5
RETRY_PERIOD = timedelta(days=2)
WORKERS = 8  # pages fetched at once, over all hosts (each host gets at most PER_HOST)
_storing = threading.Lock()  # one article stored at a time: the same text twice is one file


class FeedError(NewsbotError):
    """A feed URL that cannot be followed; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One item of a feed."""

    link: str
    title: str
    published: str  # ISO date from the feed, used when the page has none
    fingerprint: str  # changes when the feed says the item changed


def parse_feed(fetched: Fetched) -> tuple[str, list[Entry]]:
    """(feed title, entries with a link) of an RSS or Atom document; `FeedError` if it is not
    one, or is so broken (truncated, malformed XML) that no item with a link can be read."""
    import feedparser

    parsed = feedparser.parse(fetched.content, response_headers={"content-location": fetched.url})
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS or Atom feed")
    with warnings.catch_warnings():
        # feedparser warns that it maps `updated` to a missing `published`; that is fine here.
        warnings.simplefilter("ignore", DeprecationWarning)
        title, entries = one_line(parsed.feed.get("title", "")), _entries(parsed.entries)
    broken = parsed.bozo and not isinstance(
        parsed.get("bozo_exception"), feedparser.ThingsNobodyCaresAboutButMe
    )
    if broken and not entries:
        raise FeedError("not a valid RSS or Atom feed")
    return title, entries


def _entries(items: list) -> list[Entry]:
    """The entries with an http(s) link, each link once (a story listed in two sections is
    one item: the first entry)."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for entry in items:
        link = (entry.get("link") or "").strip()
        if not looks_like_url(link) or link in seen:
            continue  # a malformed http(s) link is kept: fetching it fails, in one line
        seen.add(link)
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = time.strftime("%Y-%m-%d", stamp) if stamp else ""
        marker = "\n".join(
            str(entry.get(key, "")) for key in ("id", "title", "updated", "published", "summary")
        )
        entries.append(
            Entry(
                link,
                one_line(entry.get("title", "")),
                published,
                hashlib.sha256(marker.encode("utf-8")).hexdigest(),
            )
        )
    return entries


def feed_url(url: str) -> str:
    """The feed's address as followed: scheme and host in lower case, no #fragment (which
    is never sent), so one feed is followed once however it was typed."""
    url = url.strip()
    try:
        return str(httpx.URL(url).copy_with(fragment=None))
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return url  # fetching it says what is wrong


def check_feed(fetcher: Fetcher, url: str) -> tuple[str, int]:
    """(title, number of items) of the feed at `url`; `FeedError` or `FetchError` if it is not one."""
    if not looks_like_url(url):
        raise FeedError(f"not an http(s) URL: {url}")
    title, entries = parse_feed(fetcher.get(url, accept=FEED_ACCEPT))
    return title, len(entries)


def update_feeds(corpus_dir: Path, state: SourceState, fetcher: Fetcher) -> list[Outcome]:
    """Fetch every feed and store its new and changed items; one outcome per feed problem and
    per item looked at. A feed not modified since the last update costs one request."""
    outcomes: list[Outcome] = []
    work: list[tuple[str, Entry, bool]] = []  # (feed, entry, whether it is only a recheck)
    recent = (datetime.now(UTC) - timedelta(days=RECHECK_DAYS)).isoformat(timespec="seconds")
    for feed in state.feeds():
        listed: set[str] = set()
        pending = state.pending_items(feed.url)
        try:
            # With items to retry, the whole feed is asked for: their entries are in it.
            fetched = fetcher.get(
                feed.url,
                etag=None if pending else feed.etag,
                last_modified=None if pending else feed.last_modified,
                accept=FEED_ACCEPT,
            )
            if fetched.not_modified:
                state.feed_checked(feed.url, etag=feed.etag, last_modified=feed.last_modified)
                entries = []
            else:
                title, entries = parse_feed(fetched)
        except (FetchError, FeedError) as error:
            state.feed_checked(feed.url, error=str(error))
            outcomes.append(Outcome(feed.url, "failed", message=f"feed: {error}"))
            continue
        for entry in entries:
            known = state.item(feed.url, entry.link)
            if known is None or known.fingerprint != entry.fingerprint or known.failures:
                work.append((feed.url, entry, False))
                listed.add(entry.link)
        # Items gone from the feed: a failed one is retried still, a stored one rechecked.
        for item, recheck in [(i, False) for i in pending] + [
            (i, True) for i in state.recent_items(feed.url, recent)
        ]:
            if item.link not in listed:
                work.append((feed.url, Entry(item.link, "", "", item.fingerprint), recheck))
                listed.add(item.link)
        if not fetched.not_modified:
            # Saved last: a run cut short fetches this feed again next time.
            state.feed_checked(
                feed.url, title=title, etag=fetched.etag, last_modified=fetched.last_modified
            )
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = pool.map(lambda job: (job[2], _item(corpus_dir, state, fetcher, *job[:2])), work)
        # A recheck that found the page as it was is not news: it is left out of the report.
        outcomes += [o for recheck, o in done if not (recheck and o.status == "unchanged")]
    return outcomes


def _item(
    corpus_dir: Path, state: SourceState, fetcher: Fetcher, feed_url: str, entry: Entry
) -> Outcome:
    known = state.item(feed_url, entry.link)
    try:
        fetched = fetcher.get(
            entry.link,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        if fetched.not_modified and known is not None:
            state.remember_item(
                feed_url, entry.link, entry.fingerprint, known.etag, known.last_modified, known.path
            )
            return Outcome(entry.link, "unchanged", known.path, entry.title, message="not modified")
        article = read_page(fetched)
    except FetchError as error:
        if error.transient:
            return _failed_for_now(state, feed_url, entry, known, error)
        _remember_dead(state, feed_url, entry)
        return Outcome(entry.link, "failed", title=entry.title, message=str(error))
    except Skipped as why:
        _remember_dead(state, feed_url, entry)
        return Outcome(entry.link, "skipped", title=entry.title, message=str(why))
    article = replace(
        article,
        url=article.url or entry.link,
        title=article.title or entry.title,
        published=article.published or entry.published,
    )
    try:
        with _storing:
            outcome = store(corpus_dir, state, article, entry.link, origin=fetched.url)
    except CorpusError as error:  # the corpus cannot be written to: try again next time
        return _failed_for_now(state, feed_url, entry, known, error)
    state.remember_item(
        feed_url, entry.link, entry.fingerprint, fetched.etag, fetched.last_modified, outcome.path
    )
    return outcome


def _remember_dead(state: SourceState, feed_url: str, entry: Entry) -> None:
    """Remember an item whose page is no article (a dead link, not HTML, no text), so it is
    not fetched again until the feed changes the item."""
    state.remember_item(feed_url, entry.link, entry.fingerprint, None, None, "")


def _failed_for_now(
    state: SourceState, feed_url: str, entry: Entry, known: Item | None, error: NewsbotError
) -> Outcome:
    """An item whose page failed (or could not be stored) for a reason that may pass: fetched again at the next update,
    until it has failed RETRY_ATTEMPTS times over RETRY_PERIOD; then remembered as dead, and
    the report says so (once)."""
    failures = (known.failures if known else 0) + 1
    first_failed = (known.first_failed if known and known.failures else None) or now()
    kept = (known.etag, known.last_modified, known.path) if known else (None, None, "")
    since = datetime.fromisoformat(first_failed)
    if failures >= RETRY_ATTEMPTS and datetime.now(UTC) - since >= RETRY_PERIOD:
        state.remember_item(feed_url, entry.link, entry.fingerprint, *kept)
        note = f"failed {failures} times since {first_failed[:10]}; given up"
    else:
        state.remember_item(feed_url, entry.link, entry.fingerprint, *kept, failures, first_failed)
        note = "will retry at the next update"
    return Outcome(entry.link, "failed", title=entry.title, message=f"{error} ({note})")
