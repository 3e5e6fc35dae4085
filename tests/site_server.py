"""A small news site on 127.0.0.1 for the ingestion tests: article pages with boilerplate, an
RSS and an Atom feed, a dead link, a binary file, a page that changes, a page that never
answers, a page that never stops dripping bytes, one that never stops dripping its headers, a
feed that is not XML, a feed cut short, a
feed with an overlong link, binary bytes served as HTML, a page in Windows-1252 and a huge page.

Pages and feeds carry an ETag and answer a matching If-None-Match with 304, as real servers
do; every request is counted by path, with its headers kept. A path can be made to fail for a
while (`site.failures`), as a busy or restarting server does."""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scripts/bench_feeds.py uses the site without pytest
    import pytest

SITE = Path(__file__).resolve().parent / "data" / "site"


def newsbot_on_site(env: pytest.MonkeyPatch, root: Path) -> None:
    """Point newsbot at `root`'s corpus and index, and at 127.0.0.1 directly, past any proxy
    the machine has."""
    env.setenv("NEWSBOT_CORPUS", str(root / "corpus"))
    env.setenv("NEWSBOT_INDEX", str(root / "index"))
    env.setenv("NO_PROXY", "127.0.0.1")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.delenv(name, raising=False)


HUGE_BYTES = 6_000_000
LONG_LINK = "/news/" + "a" * 70_000  # longer than any server accepts
FERRY = (
    b"<html><head><title>Ferry fares rise in Port Ellery</title>"
    b'<meta property="og:site_name" content="Harbour Gazette"></head><body><article>'
    b"<h1>Ferry fares rise in Port Ellery</h1><p>Ferry fares between Port Ellery and Skerry "
    b"Island will rise by eleven percent in April, the ferry operator Skerry Lines said.</p>"
    b"<p>Skerry Lines blamed the price of fuel, which it said had doubled in two years.</p>"
    b"</article></body></html>"
)

FERRY_FR = (  # the ferry story, in French
    "<html><head><title>Les tarifs du ferry augmentent</title></head><body><article>"
    "<h1>Les tarifs du ferry augmentent</h1><p>Les tarifs du ferry entre Port Ellery et l'île "
    "de Skerry augmenteront de onze pour cent en avril, a annoncé mardi la compagnie Skerry "
    "Lines.</p><p>La compagnie explique cette hausse par le prix du carburant, qui a doublé en "
    "deux ans selon elle. Les habitants de l'île, qui dépendent du ferry pour leurs courses et "
    "pour se rendre au travail, se disent inquiets.</p></article></body></html>"
).encode()


# path -> (status, headers, body) given the host: responses that break a rule.
ODD_RESPONSES = {
    "/gzip-lie": lambda host: (
        200,
        [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        b"<html><body><p>not gzip at all</p></body></html>",
    ),
    "/redirect-to-file": lambda host: (302, [("Location", "file:///etc/hostname")], b""),
    "/redirect-nowhere": lambda host: (302, [("Content-Type", "text/plain")], b"moved"),
    "/redirect-too-long": lambda host: (
        302,
        [("Location", f"http://{host}/news/{'a' * 9000}")],
        b"",
    ),
    "/redirect-bad-host": lambda host: (302, [("Location", f"http://{'a' * 300}.example/")], b""),
    "/redirect-unclosed-bracket": lambda host: (302, [("Location", "http://[bad")], b""),
    "/redirect-bad-ipv6": lambda host: (302, [("Location", "https://[zz]/news")], b""),
    "/redirect-bad-scheme": lambda host: (301, [("Location", "ht!tp://x y")], b""),
    "/redirect-long-bad": lambda host: (302, [("Location", "http://bad host/" + "b" * 200)], b""),
    "/redirect-empty-host": lambda host: (302, [("Location", "http://:80/")], b""),
}


def rss_feed(host: str, items: list[tuple[str, str]]) -> bytes:
    """An RSS feed "Ferries" of (title, path) items on `host`."""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Ferries</title>'
        + "".join(f"<item><title>{t}</title><link>http://{host}{p}</link></item>" for t, p in items)
        + "</channel></rss>"
    ).encode()


def long_link_feed(host: str) -> bytes:
    """An RSS feed of two items: one whose link is far too long, and the ferry story."""
    return rss_feed(host, [("Too long", LONG_LINK), ("Ferry fares rise", "/news/ferry-fares")])


class _Server(ThreadingHTTPServer):
    """A client that goes away (a timeout, a size cap) is expected here, not an error to print:
    socketserver prints its traceback to stderr, which a CLI test captures as the command's."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class NewsSite:
    """Start with `with NewsSite() as site:`; `site.url(path)` gives a full URL."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()  # lets the slow page's request end
        self.budget_version = 1
        # path -> what its next requests get instead of the page, in turn: an HTTP status, or
        # "drop" (the connection closed without an answer).
        self.failures: dict[str, list[int | str]] = {}
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def __enter__(self) -> NewsSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def page(self, path: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) of a path, or None for the slow one."""

        def html(name: str) -> bytes:
            return (
                (SITE / name).read_bytes().replace(b"http://HOST/", f"http://{self.host}/".encode())
            )

        feed = lambda name: (SITE / name).read_bytes().replace(b"HOST", self.host.encode())  # noqa: E731
        routes = {
            "/news/tidal-plant": (
                200,
                "text/html; charset=utf-8",
                lambda: html("tidal-plant.html"),
            ),
            "/news/budget": (
                200,
                "text/html; charset=utf-8",
                lambda: html(f"budget-v{self.budget_version}.html"),
            ),
            "/news/gallery": (200, "text/html; charset=utf-8", lambda: html("gallery.html")),
            "/valley/library-reopens": (200, "text/html", lambda: html("library.html")),
            "/riverside/cafe-award": (200, "text/html", lambda: html("cafe-award-cp1252.html")),
            "/files/tides.pdf": (
                200,
                "application/pdf",
                lambda: b"%PDF-1.4\n" + bytes(range(256)) * 8,
            ),
            "/feeds/rss.xml": (200, "application/rss+xml", lambda: feed("rss.xml")),
            "/feeds/atom.xml": (200, "application/atom+xml", lambda: feed("atom.xml")),
            "/feeds/broken.xml": (
                200,
                "application/rss+xml",
                lambda: b"Service temporarily unavailable; please come back later.\n",
            ),
            "/news/ferry-fares": (200, "text/html", lambda: FERRY),
            "/fr/ferry-fares": (200, "text/html; charset=utf-8", lambda: FERRY_FR),
            "/files/scrambled": (  # binary bytes (NULs) labelled as a web page
                200,
                "text/html",
                lambda: b"<html>\x00\xff\xfe" + bytes(range(256)) * 40,
            ),
            "/feeds/long-link.xml": (
                200,
                "application/rss+xml",
                lambda: long_link_feed(self.host),
            ),
            "/feeds/ferry-twice.xml": (  # one story listed in two sections
                200,
                "application/rss+xml",
                lambda: rss_feed(
                    self.host,
                    [
                        ("Ferry fares rise", "/news/ferry-fares"),
                        ("Fares: ferries", "/news/ferry-fares"),
                    ],
                ),
            ),
            "/feeds/ferry.xml": (
                200,
                "application/rss+xml",
                lambda: rss_feed(self.host, [("Ferry fares rise", "/news/ferry-fares")]),
            ),
            "/feeds/ferry-en-fr.xml": (  # the story in English and in French
                200,
                "application/rss+xml",
                lambda: rss_feed(
                    self.host,
                    [("Ferry fares rise", "/news/ferry-fares"), ("Tarifs", "/fr/ferry-fares")],
                ),
            ),
            "/feeds/cut-short.xml": (
                200,
                "application/rss+xml",
                lambda: (
                    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title>'
                    b"<item><title>A story cut sh"
                ),
            ),
            "/huge": (
                200,
                "text/html",
                lambda: b"<html><body><p>" + b"la " * (HUGE_BYTES // 3) + b"</p></body></html>",
            ),
        }
        if path == "/slow":
            return None
        if path not in routes:
            return 404, "text/html", b"<html><body><h1>Not found</h1></body></html>"
        status, kind, body = routes[path]
        return status, kind, body()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                # A client that closed with a body unread (the size cap) resets the connection;
                # reading its next request then fails. That is the client's right, not an error
                # to print (it would land in the output of the command under test).
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    super().handle()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                site.requests[path] += 1
                site.headers.append(
                    {"path": path, **{k.lower(): v for k, v in self.headers.items()}}
                )
                if path in ODD_RESPONSES:
                    status, headers, body = ODD_RESPONSES[path](site.host)
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if site.failures.get(path):
                    self._fail(site.failures[path].pop(0))
                    return
                if path == "/drip":
                    self._drip()
                    return
                if path == "/slow-headers":
                    self._drip_headers()
                    return
                found = site.page(path)
                if found is None:
                    site.release.wait(60)  # a server that never answers in time
                    found = (200, "text/html", b"<html><body><p>late</p></body></html>")
                status, kind, body = found
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if status == 200:
                    self.send_header("ETag", etag)
                self.end_headers()
                # The client may stop reading (the size cap).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def _fail(self, how: int | str) -> None:
                if how == "drop":
                    self.close_connection = True
                    return
                self.send_response(int(how))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _drip(self) -> None:
                """A byte every 50 ms, never ending (each read is quick, the whole never is)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    while not site.release.wait(0.05):
                        self.wfile.write(b"<")
                        self.wfile.flush()

            def _drip_headers(self) -> None:
                """A header a byte every 50 ms, never ending: the body never comes."""
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Drip: ")
                    self.wfile.flush()
                    while not site.release.wait(0.05):
                        self.wfile.write(b"a")
                        self.wfile.flush()

            def log_message(self, *args: object) -> None:
                pass

        return Handler
