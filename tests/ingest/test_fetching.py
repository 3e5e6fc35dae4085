"""Fetching politely: never more than PER_HOST requests in flight to one host, however many
workers ask at once; a bad URL or a server that never ends is a few words, not a traceback."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.ingest.feeds import WORKERS
from bot.ingest.fetching import PER_HOST, Fetcher, FetchError, valid_location
from tests.site_server import NewsSite

PAGES = 2 * PER_HOST + 1


class CountingSite:
    """A site on 127.0.0.1 that holds each request until PER_HOST are in flight (or every
    page has been asked for) and a moment longer, and records the most it saw at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.arrived = 0
        self._changed = threading.Condition()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hold()
                body = b"<html><body><p>A page.</p></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with site._changed:
                    site.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def hold(self) -> None:
        with self._changed:
            self.in_flight += 1
            self.arrived += 1
            self.most = max(self.most, self.in_flight)
            self._changed.notify_all()
            # Hold until the slots are full (the timeout only keeps a broken fetcher from
            # hanging the test), then give one more request a moment to arrive: a fetcher
            # that allows more shows it here. The moment changes nothing for a correct one.
            self._changed.wait_for(
                lambda: self.in_flight >= PER_HOST or self.arrived == PAGES, timeout=60
            )
            self._changed.wait_for(
                lambda: self.in_flight > PER_HOST or self.arrived == PAGES, timeout=0.5
            )

    def __enter__(self) -> CountingSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_one_host_never_gets_more_than_per_host_requests_at_once() -> None:
    assert WORKERS > PER_HOST  # the feed updater could ask for more at once than allowed
    with CountingSite() as site, Fetcher() as fetcher:
        urls = [f"{site.base}/news/{n}" for n in range(PAGES)]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            fetched = list(pool.map(fetcher.get, urls))
    assert [f.url for f in fetched] == urls and all(f.content for f in fetched)
    # Requests overlapped (two were in flight together), and never more than allowed.
    assert site.most == PER_HOST


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/x", "not a valid URL"),
        ("http://127.0.0.1:9/\x01x", "not a valid URL"),
        ("http:///news", "not a valid URL"),
        ("ftp://127.0.0.1/x", "not an http(s) URL"),
        ("http://127.0.0.1:9/" + "a" * 100_000, "URL too long"),
    ],
)
def test_a_bad_url_fails_in_a_few_words(url: str, reason: str) -> None:
    with Fetcher() as fetcher, pytest.raises(FetchError) as error:
        fetcher.get(url)
    assert str(error.value) == reason


@pytest.mark.parametrize("path", ["/drip", "/slow-headers"], ids=["body", "headers"])
def test_a_server_dripping_bytes_times_out_as_a_whole(path: str) -> None:
    """Each read gets a byte at once, the page (or its headers) never ends: the whole fetch has
    a deadline."""
    found: list[str] = []

    def fetch() -> None:
        try:
            fetcher.get(site.url(path))
        except FetchError as error:
            found.append(str(error))

    with NewsSite() as site, Fetcher(timeout=1) as fetcher:
        worker = threading.Thread(target=fetch, daemon=True)
        worker.start()
        worker.join(timeout=120)  # only keeps a fetcher without a deadline from hanging the test
        assert not worker.is_alive(), "the fetch never ended"
    assert found == ["timed out after 1 s"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/gzip-lie", "the server sent a compressed body that does not decompress"),
        ("/redirect-to-file", "redirected to a URL that is not http(s)"),
        ("/redirect-nowhere", "HTTP 302 redirect with no address to follow"),
        ("/redirect-too-long", "redirected to a URL too long"),
        (
            "/redirect-bad-host",
            f"the server redirected to an address that is not a valid URL (http://{'a' * 93}...)",
        ),
        (
            "/redirect-unclosed-bracket",
            "the server redirected to an address that is not a valid URL (http://[bad)",
        ),
        (
            "/redirect-bad-ipv6",
            "the server redirected to an address that is not a valid URL (https://[zz]/news)",
        ),
        (
            "/redirect-bad-scheme",
            "the server redirected to an address that is not a valid URL (ht!tp://x y)",
        ),
        (
            "/redirect-long-bad",
            f"the server redirected to an address that is not a valid URL (http://bad host/{'b' * 84}...)",
        ),
        (
            "/redirect-empty-host",
            "the server redirected to an address that is not a valid URL (http://:80/)",
        ),
    ],
)
def test_a_response_breaking_the_rules_fails_in_a_few_plain_words(path: str, reason: str) -> None:
    with NewsSite() as site, Fetcher(timeout=5) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get(site.url(path))
    assert str(failed.value) == reason


@pytest.mark.parametrize(
    "location",
    [
        "https://example.org/news/story",
        "/news/a story with spaces",
        "story?page=2#top",
        "//cdn.example.org/x",
        "https://m\u00fcnchen.example/x",
        "http://[::1]:8080/x",
        "http://127.0.0.1:8000/",
        "file:///etc/hostname",  # a URL still, refused for its scheme
    ],
)
def test_ordinary_redirect_addresses_are_valid(location: str) -> None:
    assert valid_location(location)


@pytest.mark.parametrize(
    "location",
    ["http://:80/", "https://:443/news", "http://@/", "http:///news", "http:/news", "//:80/x"],
)
def test_redirect_addresses_with_an_empty_host_are_not_valid(location: str) -> None:
    """httpx would ask the host first asked instead, on the default port."""
    assert not valid_location(location)
