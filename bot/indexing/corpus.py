"""Reading the corpus: `.txt` and `.md` articles with optional front matter."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md")
FRONT_MATTER_KEYS = ("title", "source", "url", "published")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADLINE_MAX_CHARS = 200


@dataclass(frozen=True)
class Document:
    """One article. `text` is the file exactly as `open(path, encoding="utf-8").read()` gives it;
    the body (what gets indexed) is `text[body_start:]`."""

    doc_id: str
    path: Path
    title: str
    source: str
    url: str
    published: str
    text: str
    body_start: int
    sha256: str


@dataclass
class Corpus:
    """The loaded documents, plus warnings about files that were skipped."""

    documents: list[Document]
    warnings: list[str] = field(default_factory=list)


def corpus_files(corpus_dir: Path) -> tuple[list[Path], list[Path]]:
    """(supported files, skipped files) under `corpus_dir`, sorted, hidden files ignored."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus_dir}")
    supported, skipped = [], []
    for path in sorted(corpus_dir.rglob("*")):
        relative = path.relative_to(corpus_dir)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        (supported if path.suffix.lower() in SUPPORTED_SUFFIXES else skipped).append(path)
    return supported, skipped


def file_hashes(corpus_dir: Path) -> dict[str, str]:
    """doc_id -> sha256 of every supported file: what an index records to detect a stale corpus."""
    supported, _ = corpus_files(corpus_dir)
    return {_doc_id(corpus_dir, p): hashlib.sha256(p.read_bytes()).hexdigest() for p in supported}


def load_corpus(corpus_dir: Path) -> Corpus:
    """Load every `.txt`/`.md` file; raise `CorpusError` naming the first unreadable one."""
    supported, skipped = corpus_files(corpus_dir)
    warnings = [
        f"skipped {p.relative_to(corpus_dir)}: only {', '.join(SUPPORTED_SUFFIXES)} files are read"
        for p in skipped
    ]
    documents = [load_document(corpus_dir, path) for path in supported]
    documents = [doc for doc in documents if doc.text[doc.body_start :].strip()]
    if not documents:
        raise CorpusError(f"corpus directory {corpus_dir} has no non-empty .txt or .md articles")
    return Corpus(documents, warnings)


def load_document(corpus_dir: Path, path: Path) -> Document:
    """Read one article, its front matter and its headline."""
    raw = path.read_bytes()
    name = path.relative_to(corpus_dir)
    if b"\x00" in raw[:8192]:
        raise CorpusError(f"corpus file {name} looks binary (it contains NUL bytes)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"corpus file {name} is not valid UTF-8 (byte {exc.start})") from None
    # Offsets are promised into the text as Python's text mode reads it (universal newlines).
    text = path.read_text(encoding="utf-8")
    meta, body_start = _front_matter(text)
    title = meta.get("title", "")
    if not title:
        title, body_start = _headline(text, body_start, default=path.stem.replace("-", " "))
    return Document(
        doc_id=_doc_id(corpus_dir, path),
        path=path.resolve(),
        title=title,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        published=meta.get("published", ""),
        text=text,
        body_start=body_start,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _doc_id(corpus_dir: Path, path: Path) -> str:
    return path.relative_to(corpus_dir).as_posix()


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 1 if text.startswith("\ufeff") else 0
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in FRONT_MATTER_KEYS:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, match.end()


def _headline(text: str, body_start: int, default: str) -> tuple[str, int]:
    """Use a short first line followed by a blank line as the title; it is then not indexed."""
    rest = text[body_start:]
    stripped = rest.lstrip()
    offset = body_start + len(rest) - len(stripped)
    first, newline, after = stripped.partition("\n")
    line = first.strip().lstrip("#").strip()
    is_headline = (
        newline
        and after.strip()
        and after.startswith(("\n", "\r\n"))
        and 0 < len(line) <= _HEADLINE_MAX_CHARS
        and not line.endswith((".", "?", "!", '"', "”"))
    )
    if is_headline:
        return line, offset + len(first) + 1
    return default, body_start
