"""Fetching pages and feeds politely: a timeout, a User-Agent, conditional GET, a size cap and
at most a few requests to one host at a time."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.errors import NewsbotError

USER_AGENT = "newsbot/0.1 (offline news question answering; fetches articles a user asked for)"
TIMEOUT_SECONDS = 20.0  # for connecting, for each read, and for the whole fetch (Deadline)
MAX_PAGE_BYTES = 5_000_000  # a news page is rarely above 1 MB; larger ones are not read
PER_HOST = 2  # requests in flight to one host at once
MAX_REDIRECTS = 5
MAX_URL_CHARS = 8_192  # what common web servers accept in a request line
SHOWN_LOCATION_CHARS = 100  # a bad redirect address is shown cut to this length
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_HOST_LABEL = re.compile(r"[\w-]{1,63}")  # \w: an internationalised name is fine


# HTTP statuses that say "not now" rather than "not here": worth asking again later.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(NewsbotError):
    """A URL could not be fetched; the message says why, in a few words. `transient`: the
    failure may pass (a timeout, a refused or broken connection, a name that did not resolve,
    HTTP 5xx or 429), so the same URL is worth fetching again later."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Fetched:
    """One response: `content` is empty when the server said 304 Not Modified."""

    url: str  # after redirects
    not_modified: bool
    content: bytes
    content_type: str  # e.g. text/html, lower case, no parameters
    charset: str | None
    etag: str | None
    last_modified: str | None


def looks_like_url(text: str) -> bool:
    """Whether `text` is meant as a web address: it starts with http:// or https://."""
    return text.strip().lower().startswith(("http://", "https://"))


def url_problem(url: str) -> str:
    """Why `url` cannot be fetched, in a few words; '' if it can."""
    if len(url) > MAX_URL_CHARS:
        return "URL too long"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "not a valid URL"
    if parsed.scheme not in ("http", "https"):
        return "not an http(s) URL"
    return "" if parsed.host else "not a valid URL"


def too_large(max_bytes: int, what: str = "page") -> str:
    """Why a page (or file) over `max_bytes` is not read."""
    return f"larger than {max_bytes // 1_000_000} MB, the most newsbot reads of a {what}"


class Fetcher:
    """A shared HTTP client; safe to use from several threads."""

    def __init__(
        self,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_PAGE_BYTES,
        per_host: int = PER_HOST,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT},
            # A new connection per fetch, so that its Deadline knows the socket to cut.
            limits=httpx.Limits(max_keepalive_connections=0),
            event_hooks={"request": [_check_redirect], "response": [_check_location]},
        )
        self._per_host = per_host
        self._hosts: dict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(self._per_host)
        )
        self._hosts_lock = threading.Lock()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    ) -> Fetched:
        """GET `url` (conditionally, given a previous ETag or Last-Modified); `FetchError`
        for a bad URL, a network error, a timeout (the whole fetch may take `timeout` seconds),
        an HTTP error status or a body over the size cap."""
        url = url.strip()
        if problem := url_problem(url):
            raise FetchError(problem)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._host_slot(url), Deadline(self.timeout) as deadline:
            try:
                with self._client.stream(
                    "GET", url, headers=headers, extensions={"trace": deadline.trace}
                ) as response:
                    return self._read(response, deadline)
            except httpx.TimeoutException:
                raise FetchError(self._timed_out(), transient=True) from None
            except httpx.TooManyRedirects:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
            except (httpx.InvalidURL, UnicodeError):  # UnicodeError: a host IDNA cannot encode
                raise FetchError("not a valid URL") from None
            except (httpx.HTTPError, ValueError) as error:
                if deadline.passed:  # its connection was cut: the server broke off, it seems
                    raise FetchError(self._timed_out(), transient=True) from None
                raise FetchError(_network_reason(error), transient=_passing(error)) from None

    def _read(self, response: httpx.Response, deadline: Deadline) -> Fetched:
        kind, _, _ = response.headers.get("content-type", "").partition(";")
        common = {
            "url": str(response.url),
            "content_type": kind.strip().lower(),
            "charset": response.charset_encoding,
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
        if response.status_code == 304:
            return Fetched(not_modified=True, content=b"", **common)
        if 300 <= response.status_code < 400:  # a redirect with no Location
            raise FetchError(f"HTTP {response.status_code} redirect with no address to follow")
        if response.status_code >= 400:
            raise FetchError(
                f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                transient=response.status_code in TRANSIENT_STATUSES,
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(too_large(self.max_bytes))
        body = bytearray()
        for block in response.iter_bytes():
            body += block
            if len(body) > self.max_bytes:
                raise FetchError(too_large(self.max_bytes))
            if deadline.passed:  # a server dripping bytes: each read is quick
                raise FetchError(self._timed_out(), transient=True)
        return Fetched(not_modified=False, content=bytes(body), **common)

    def _timed_out(self) -> str:
        return f"timed out after {self.timeout:g} s"

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        with self._hosts_lock:
            return self._hosts[httpx.URL(url).host]

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Deadline:
    """The end of one fetch, `seconds` from its start. httpx limits each connect and each read
    only, so a server dripping its headers or its body a byte at a time would never time out:
    when the deadline passes, the fetch's connection is shut down and its next read fails.

    Give `trace` to the request as httpx's "trace" extension: it notes each new connection's
    socket (the TLS one once TLS is on, since the plain one is then detached)."""

    def __init__(self, seconds: float) -> None:
        self.ends_at = time.monotonic() + seconds
        self._cut = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def passed(self) -> bool:
        """Whether the deadline has passed (and the connection been cut)."""
        return self._cut or time.monotonic() >= self.ends_at

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: keep the socket of each connection it opens, and forget
        it once its response is closed (the connection may then be closed and its number
        reused)."""
        if event.endswith(".response_closed.started"):
            with self._lock:
                self._socket = None
        elif event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            found = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._socket = found
                if self._cut:
                    _shut_down(found)

    def _expire(self) -> None:
        with self._lock:
            self._cut = True
            if self._socket is not None:
                _shut_down(self._socket)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._socket = None  # closed with its response; never cut after the fetch


def _shut_down(connection: socket.socket | None) -> None:
    """End both directions of `connection` from another thread: a blocked read returns at once.
    The plain socket's own method, also for a TLS one (whose override also drops its state)."""
    if connection is not None:
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(connection, socket.SHUT_RDWR)


def _passing(error: Exception) -> bool:
    """Whether a network failure may pass: a refused, reset or broken connection, a name that
    did not resolve (not a URL httpx cannot ask for at all)."""
    return isinstance(error, (httpx.NetworkError, httpx.RemoteProtocolError))


def _check_redirect(request: httpx.Request) -> None:
    """httpx's request hook: a redirect is held to what a URL given is (http(s), not too long)."""
    if len(str(request.url)) > MAX_URL_CHARS:
        raise FetchError("redirected to a URL too long")


def _check_location(response: httpx.Response) -> None:
    """httpx's response hook: a redirect to an address that is no URL says so (httpx would
    fail it as a protocol error, or ask for it as a path or a host it cannot be)."""
    if response.has_redirect_location:
        location = response.headers["location"]
        if not valid_location(location):
            raise FetchError(
                f"the server redirected to an address that is not a valid URL ({shown(location)})"
            )


def valid_location(location: str) -> bool:
    """Whether a redirect's Location is a URL, absolute or relative. Spaces in its path are
    let through (browsers and httpx encode them); in its scheme or host they are not."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in location):
        return False
    head = re.split(r"[/?#]", location, maxsplit=1)[0]
    if ":" in head and not _SCHEME.fullmatch(head.partition(":")[0]):
        return False  # "ht!tp://x": no scheme, and no relative path may look like one
    try:
        parts = urlsplit(location)
        parts.port  # noqa: B018 - raises for a port that is not a number
        httpx.URL(location)
    except (ValueError, httpx.InvalidURL):  # an unclosed IPv6 bracket, a port "8o"
        return False
    host = parts.hostname or ""
    if not host:
        # A relative one ("/news") is fine. An http(s) URL must name its host (RFC 9110): for
        # "http://:80/" httpx would ask the host first asked, on the port named or the default
        # one, and the fetch would end in "could not connect".
        return parts.scheme.lower() not in ("http", "https") and not location.startswith("//")
    if host.startswith("[") or ":" in host:
        return True  # an IPv6 address urlsplit checked
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in host.split("."))


def shown(value: str) -> str:
    """`value` for a one-line message: control characters escaped, cut to about 100 characters."""
    value = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in value)
    if len(value) > SHOWN_LOCATION_CHARS:
        return f"{value[:SHOWN_LOCATION_CHARS]}..."
    return value


def _network_reason(error: Exception) -> str:
    """A few words for a network failure (no traceback, no library jargon)."""
    if isinstance(error, httpx.ConnectError):
        return "could not connect"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the server broke off the response"
    if isinstance(error, httpx.UnsupportedProtocol):
        return "redirected to a URL that is not http(s)"
    if isinstance(error, httpx.DecodingError):
        return "the server sent a compressed body that does not decompress"
    if isinstance(error, httpx.NetworkError):
        return "the connection failed"
    return f"the request failed ({type(error).__name__})"
