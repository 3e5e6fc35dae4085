"""A small news site on 127.0.0.1 for the ingestion tests: article pages with boilerplate, an
RSS and an Atom feed, a dead link, a binary file, a page that changes, a page that never
answers, a feed that is not XML, a page in Windows-1252 and a huge page.

Pages and feeds carry an ETag and answer a matching If-None-Match with 304, as real servers
do; every request is counted by path, with its headers kept."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = Path(__file__).resolve().parent / "data" / "site"
HUGE_BYTES = 6_000_000


class NewsSite:
    """Start with `with NewsSite() as site:`; `site.url(path)` gives a full URL."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()  # lets the slow page's request end
        self.budget_version = 1
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                site.requests[path] += 1
                site.headers.append(
                    {"path": path, **{k.lower(): v for k, v in self.headers.items()}}
                )
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

            def log_message(self, *args: object) -> None:
                pass

        return Handler
