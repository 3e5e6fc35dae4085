"""One source (a file or an article URL) in, one stored article out.

An article is stored in the corpus as Markdown with front matter (title, source, author,
published, url) followed by its extracted text: that file is what gets indexed and cited. The
same URL, or the same text, is one document: a URL already stored is rewritten in place when
its page changed, and a text already stored under another name is not stored again.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import CorpusError
from bot.indexing.corpus import looks_like_html, parse_document, scan_corpus
from bot.ingest.extract import (
    MIN_ARTICLE_CHARS,
    Article,
    decode_html,
    extract_article,
    one_line,
    same_site,
)
from bot.ingest.fetching import (
    MAX_PAGE_BYTES,
    MAX_URL_CHARS,
    Fetched,
    Fetcher,
    FetchError,
    looks_like_url,
    too_large,
)
from bot.ingest.state import SourceState
from bot.language import not_english

STATUSES = ("added", "updated", "unchanged", "skipped", "failed")
FILE_SUFFIXES = (".html", ".htm", ".txt", ".md")
HTML_TYPES = ("text/html", "application/xhtml+xml")
WEB_FOLDER = "web"  # corpus/web/<host>/...: articles from URLs
FILES_FOLDER = "files"  # corpus/files/...: articles from local files with no URL


@dataclass(frozen=True)
class Outcome:
    """What became of one source: the `--json` object of `newsbot add` and `feeds update`."""

    input: str
    status: str  # one of STATUSES
    path: str = ""  # the stored file
    title: str = ""
    source: str = ""  # the outlet
    published: str = ""  # ISO date or ''
    url: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", shown_source(self.input))

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def shown_source(source: str) -> str:
    """A URL or path as shown: no URL or path is longer than MAX_URL_CHARS, so one pasted by
    mistake is shortened."""
    if len(source) > MAX_URL_CHARS:
        return f"{source[:80]}... ({len(source):,} characters)"
    return source


class Skipped(Exception):
    """The source was read but holds no article newsbot can store; the message says why."""


def read_file(path: Path, max_bytes: int = MAX_PAGE_BYTES) -> Article:
    """The article in a local `.html`, `.htm`, `.txt` or `.md` file; a text file holding HTML
    is read as HTML. `CorpusError` if it cannot be read, `Skipped` if it is not an article."""
    if path.is_dir():
        raise CorpusError(f"a directory, not a file; name the files in it, e.g. {path}/*.html")
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise Skipped(f"only {', '.join(FILE_SUFFIXES)} files are read")
    try:
        # Non-blocking, so that opening a named pipe does not wait for a writer.
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            kind = os.fstat(handle.fileno()).st_mode
            if stat.S_ISDIR(kind):
                raise CorpusError("a directory, not a file")
            if not stat.S_ISREG(kind):
                raise Skipped("not a regular file")
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise CorpusError("no such file") from None
    except OSError as error:
        raise CorpusError((error.strerror or type(error).__name__).lower()) from None
    if len(raw) > max_bytes:
        raise Skipped(too_large(max_bytes, "file"))
    if _is_binary(raw):
        raise Skipped("a binary file, not text")
    if path.suffix.lower() in (".html", ".htm") or looks_like_html(raw):
        return extract_article(decode_html(raw))
    try:
        document = parse_document(path.parent, path, raw)
    except CorpusError as error:
        raise Skipped(str(error).replace(f"corpus file {path.name} ", "it ")) from None
    return Article(
        text=document.text[document.body_start :].strip(),
        title=one_line(document.title),
        source=one_line(document.source),
        published=document.published[:10],
        url=document.url,
    )


def read_page(fetched: Fetched) -> Article:
    """The article of a fetched page; `Skipped` if it is not HTML."""
    is_html = fetched.content_type in HTML_TYPES or (
        fetched.content_type in ("", "text/plain", "application/octet-stream")
        and looks_like_html(fetched.content)
    )
    if not is_html:
        kind = fetched.content_type or "unknown content type"
        raise Skipped(f"not an HTML page ({kind})")
    if _is_binary(fetched.content, fetched.charset):
        raise Skipped(f"binary data, not text (served as {fetched.content_type})")
    return extract_article(decode_html(fetched.content, fetched.charset), fetched.url)


def render(article: Article) -> str:
    """The stored file: front matter, a blank line, the text."""
    fields = {
        "title": article.title,
        "source": article.source,
        "author": article.author,
        "published": article.published,
        "url": article.url,
    }
    head = "\n".join(f"{key}: {one_line(value)}" for key, value in fields.items() if value)
    return f"---\n{head}\n---\n\n{article.text.strip()}\n"


def text_digest(text: str) -> str:
    """The identity of an article's text: its words, whatever the spacing."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def store(
    corpus_dir: Path,
    state: SourceState,
    article: Article,
    source: str,
    in_corpus: bool = False,
    origin: str = "",
) -> Outcome:
    """Write `article` into the corpus unless the same URL or text is stored already as it is;
    `in_corpus`: the source is a file in the corpus, so its text is there already; `origin`:
    the URL fetched or the file read ('': the article's own URL). `CorpusError` if the file
    cannot be written (nothing is then changed). A page that is no article, or not in
    English, is skipped, saying why."""
    if article.not_article:
        return _outcome(source, "skipped", article, message=article.not_article)
    if len(article.text) < MIN_ARTICLE_CHARS:
        return _outcome(source, "skipped", article, message="no article text found on the page")
    if language := not_english(article.text):
        return _outcome(source, "skipped", article, message=language)
    digest = text_digest(article.text)
    by_url = state.article_by_url(article.url) if article.url else None
    if by_url is not None and not may_replace(by_url[1], origin, article.url):
        if by_url[0] in state.articles_by_text(digest):
            message = f"the same text is stored as {by_url[0]}"
            return _outcome(source, "unchanged", article, by_url[0], message)
        message = (
            f"its canonical URL {article.url} is stored already from another source "
            f"({by_url[0]}); not replaced"
        )
        return _outcome(source, "skipped", article, message=message)
    relative = by_url[0] if by_url is not None else _new_name(article, digest)
    target = corpus_dir / relative
    if in_corpus or not target.exists():
        same_text = [p for p in state.articles_by_text(digest) if (corpus_dir / p).is_file()]
        other = same_text[0] if same_text else _corpus_texts(corpus_dir, state).get(digest)
        if other:
            return _outcome(
                source, "unchanged", article, other, f"the same text is stored as {other}"
            )
    content = render(article)
    before = _read_text(target)
    if before == content:
        state.remember_article(relative, article.url, digest, origin)
        return _outcome(source, "unchanged", article, relative)
    try:
        _write_atomically(target, content)
    except OSError as error:
        why = (error.strerror or type(error).__name__).lower()
        raise CorpusError(f"cannot write {relative} in the corpus: {why}") from None
    state.remember_article(relative, article.url, digest, origin)
    return _outcome(source, "updated" if before is not None else "added", article, relative)


def may_replace(stored_origin: str, origin: str, url: str) -> bool:
    """Whether an article read from `origin` may replace the one stored under its URL `url`
    (read from `stored_origin`; '' means from `url` itself): only when read from the same
    place, or fetched from `url`'s own site, which speaks for its pages. A page elsewhere or a
    local file naming that URL as its canonical one does not."""
    origin, stored_origin = origin or url, stored_origin or url
    return origin == stored_origin or (looks_like_url(origin) and same_site(origin, url))


def add_source(corpus_dir: Path, state: SourceState, fetcher: Fetcher, source: str) -> Outcome:
    """Fetch or read one source and store its article; never raises for a bad source."""
    if not source.strip():
        return Outcome(source, "failed", message="an empty name; give a file or an http(s) URL")
    try:
        if looks_like_url(source):
            fetched = fetcher.get(source)
            article, origin = read_page(fetched), fetched.url
            if not article.url:
                article = replace(article, url=fetched.url)
            in_corpus = False
        else:
            path = Path(source).expanduser()
            article, origin = read_file(path, fetcher.max_bytes), str(path.resolve())
            in_corpus = path.resolve().is_relative_to(corpus_dir.resolve())
        return store(corpus_dir, state, article, source, in_corpus, origin)
    except (FetchError, CorpusError) as error:
        return Outcome(source, "failed", message=str(error))
    except Skipped as why:
        return Outcome(source, "skipped", message=str(why))


def _outcome(
    source: str, status: str, article: Article, path: str = "", message: str = ""
) -> Outcome:
    return Outcome(
        source,
        status,
        path,
        article.title,
        article.source,
        article.published,
        article.url,
        message,
    )


def _is_binary(raw: bytes, declared: str | None = None) -> bool:
    """NUL bytes near the start, and neither a UTF-16 byte-order mark nor a declared UTF-16 or
    UTF-32 charset that reads them: not text."""
    if b"\x00" not in raw[:8192] or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    try:
        codec = codecs.lookup(declared or "").name
        raw.decode(codec)
    except (LookupError, UnicodeDecodeError):
        return True
    return not codec.startswith(("utf-16", "utf-32"))


def _corpus_texts(corpus_dir: Path, state: SourceState) -> dict[str, str]:
    """Text digest -> file, for every article in the corpus, stored by newsbot or not; read
    once per run (kept on `state`), when a new file would be written."""
    if state.corpus_texts is None:
        state.corpus_texts = {}
        found = scan_corpus(corpus_dir).supported if corpus_dir.is_dir() else []
        for path in found:
            try:
                document = parse_document(corpus_dir, path, path.read_bytes())
            except (OSError, CorpusError):
                continue  # the build reports it
            digest = text_digest(document.text[document.body_start :])
            state.corpus_texts.setdefault(digest, document.doc_id)
    return state.corpus_texts


def _new_name(article: Article, digest: str) -> str:
    """web/<host>/<slug>-<hash>.md for an article with a URL, files/<slug>-<hash>.md otherwise;
    the hash (of the URL, else of the text) keeps names apart."""
    if article.url:
        parts = urlsplit(article.url)
        host = _slug((parts.hostname or "unknown").removeprefix("www."), 60) or "unknown"
        stem = _slug(Path(parts.path).stem or parts.path, 60) or _slug(article.title, 60)
        key = hashlib.sha256(article.url.encode("utf-8")).hexdigest()[:8]
        return f"{WEB_FOLDER}/{host}/{stem or 'article'}-{key}.md"
    stem = _slug(article.title, 60) or "article"
    return f"{FILES_FOLDER}/{stem}-{digest[:8]}.md"


def _slug(text: str, limit: int) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:limit].strip("-")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_atomically(path: Path, content: str) -> None:
    """Write via a temporary file and a rename: a reader (or a build) sees old or new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".newsbot-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
