"""Reading the corpus: `.txt` and `.md` articles with optional front matter.

The corpus is untrusted input. Symbolic links that leave the corpus root are not followed
unless the `follow_symlinks` setting says so; linked directories, loops, dangling links and
unreadable directories are skipped with a warning. A file that cannot be read is named in
one line; a file that vanishes while it is read is skipped with a warning.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md")
FRONT_MATTER_KEYS = ("title", "source", "url", "published")
# Bump when front matter is read differently: documents are then read afresh (build recipe).
FRONT_MATTER_RULES = "dots-end-folded-values-1"
# Front matter: a `---` line, `key: value` lines, and a `---` line (or YAML's `...` end marker).
_FRONT_MATTER_START = re.compile(r"\A\ufeff?---[ \t]*\n")
_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\n(?:(.*?)\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL
)
_BLOCK_SCALAR = re.compile(r"[|>][+-]?")  # `title: >`: the value is on the indented lines below
_HEADLINE_MAX_CHARS = 200
UNREADABLE = "unreadable"  # what `file_hashes` records for a file it cannot read
WEB_PAGE_SUFFIXES = (".html", ".htm")
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_ROOT = re.compile(rb"<(?:html|head|body)\b[^>]*>", re.I)


def looks_like_html(raw: bytes) -> bool:
    """Whether `raw` is an HTML document: it starts as one, or has <html>, <head> or <body> in
    its first 4 KB (a Markdown article with a few inline tags is not one)."""
    head = raw[:4096]
    return bool(_HTML_START.match(head) or _HTML_ROOT.search(head))


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


@dataclass
class CorpusScan:
    """What a walk of the corpus found: articles to read, other files, and what was skipped."""

    supported: list[Path]
    skipped: list[Path]
    warnings: list[str]


def require_corpus_dir(corpus_dir: Path) -> None:
    """`CorpusError` unless `corpus_dir` is a directory."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus_dir}")


def scan_corpus(corpus_dir: Path, follow_symlinks: bool = False) -> CorpusScan:
    """Walk `corpus_dir` without following links out of it; hidden files are ignored."""
    require_corpus_dir(corpus_dir)
    root = corpus_dir.resolve()
    scan = CorpusScan([], [], [])

    def unreadable_dir(error: OSError) -> None:
        name = _relative(corpus_dir, Path(error.filename or corpus_dir))
        if error.errno != errno.ENOENT:  # a directory removed while walking is simply gone
            scan.warnings.append(f"skipped directory {name}: {_reason(error)}")

    for folder, dirs, files in os.walk(corpus_dir, onerror=unreadable_dir):
        base = Path(folder)
        for name in sorted(dirs):
            path = base / name
            if name.startswith("."):
                dirs.remove(name)
            elif path.is_symlink():
                dirs.remove(name)
                scan.warnings.append(
                    f"skipped {_relative(corpus_dir, path)}: a symbolic link to a directory "
                    "(linked directories are never followed)"
                )
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = base / name
            if path.is_symlink() and not _link_allowed(
                path, root, follow_symlinks, scan, corpus_dir
            ):
                continue
            if not path.is_file():
                continue  # sockets, fifos, devices
            if path.suffix.lower() in SUPPORTED_SUFFIXES and not _holds_html(path):
                scan.supported.append(path)
            elif (
                path.suffix.lower() in SUPPORTED_SUFFIXES
                or path.suffix.lower() in WEB_PAGE_SUFFIXES
            ):
                # Indexed raw, a page would answer with tags; its article is stored by `add`.
                name = _relative(corpus_dir, path)
                what = "a web page" if path.suffix.lower() in WEB_PAGE_SUFFIXES else "it holds HTML"
                scan.warnings.append(
                    f"skipped {name}: {what}; store its article with `newsbot add {path}`"
                )
            else:
                scan.skipped.append(path)
    scan.supported.sort()
    scan.skipped.sort()
    return scan


def _holds_html(path: Path) -> bool:
    """Whether a .txt or .md file is in fact a web page (the build reports one it cannot read)."""
    try:
        with path.open("rb") as handle:
            return looks_like_html(handle.read(4096))
    except OSError:
        return False


def _link_allowed(path: Path, root: Path, follow: bool, scan: CorpusScan, corpus_dir: Path) -> bool:
    """Whether to read the file a symbolic link points to; a warning says why not."""
    name = _relative(corpus_dir, path)
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        scan.warnings.append(f"skipped {name}: a symbolic link loop")
        return False
    except OSError:
        scan.warnings.append(f"skipped {name}: a dangling symbolic link")
        return False
    if target.is_dir():
        scan.warnings.append(f"skipped {name}: a symbolic link to a directory")
        return False
    if not target.is_relative_to(root) and not follow:
        scan.warnings.append(
            f"skipped {name}: a symbolic link that leaves the corpus directory "
            "(set follow_symlinks = true, env NEWSBOT_FOLLOW_SYMLINKS=1, to read it)"
        )
        return False
    return True


def scan_warnings(corpus_dir: Path, scan: CorpusScan) -> list[str]:
    """What a build says about the files a scan leaves out, one line each."""
    return [
        *scan.warnings,
        *(
            f"skipped {_relative(corpus_dir, p)}: only {', '.join(SUPPORTED_SUFFIXES)} "
            "files are read"
            for p in scan.skipped
        ),
    ]


def skipped_files(corpus_dir: Path, follow_symlinks: bool = False) -> list[str]:
    """One line per file a build leaves out, saying why (`newsbot index status` lists them)."""
    scan = scan_corpus(corpus_dir, follow_symlinks)
    lines = scan_warnings(corpus_dir, scan)
    for path in scan.supported:
        try:
            if _is_empty_article(path.read_bytes()):
                lines.append(
                    f"skipped {_relative(corpus_dir, path)}: it is empty (no text to index)"
                )
        except OSError as error:
            lines.append(f"cannot read {_relative(corpus_dir, path)}: {_reason(error)}")
    return lines


def corpus_files(corpus_dir: Path, follow_symlinks: bool = False) -> tuple[list[Path], list[Path]]:
    """(supported files, skipped files) under `corpus_dir`, sorted, hidden files ignored."""
    scan = scan_corpus(corpus_dir, follow_symlinks)
    return scan.supported, scan.skipped


def file_hashes(corpus_dir: Path, follow_symlinks: bool = False) -> dict[str, str]:
    """doc_id -> sha256 of every file a build would index: what an index records to detect a
    stale corpus. Empty articles are left out (a build skips them too); a file that cannot be
    read counts as `UNREADABLE`, so it shows as changed, and a file that vanished is left out.
    Never raises for a single file: the staleness check must not stop an answer."""
    hashes = {}
    for path in scan_corpus(corpus_dir, follow_symlinks).supported:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError:
            hashes[_doc_id(corpus_dir, path)] = UNREADABLE
            continue
        if _is_empty_article(raw):
            continue
        hashes[_doc_id(corpus_dir, path)] = hashlib.sha256(raw).hexdigest()
    return hashes


def load_corpus(corpus_dir: Path, follow_symlinks: bool = False) -> Corpus:
    """Load every `.txt`/`.md` file; raise `CorpusError` naming the first unreadable one.

    Empty and whitespace-only articles (front matter alone included) are skipped with a
    warning; files that vanish while the corpus is read are skipped with a warning too."""
    scan = scan_corpus(corpus_dir, follow_symlinks)
    warnings = scan_warnings(corpus_dir, scan)
    documents = []
    for path in scan.supported:
        try:
            document = load_document(corpus_dir, path)
        except FileNotFoundError:
            warnings.append(f"skipped {_relative(corpus_dir, path)}: it was removed while reading")
            continue
        if document.text[document.body_start :].strip():
            documents.append(document)
        else:
            warnings.append(f"skipped {document.doc_id}: it is empty (no text to index)")
    if not documents:
        raise CorpusError(no_articles(corpus_dir, warnings))
    return Corpus(documents, warnings)


def no_articles(corpus_dir: Path, warnings: list[str]) -> str:
    """The error for a corpus with nothing to index, saying why the first file was skipped (the
    build stops before its warnings are shown: "skipped a.md: a symbolic link that leaves...")."""
    message = f"corpus directory {corpus_dir} has no non-empty .txt or .md articles"
    if not warnings:
        return message
    more = f"; {len(warnings) - 1} more skipped" if len(warnings) > 1 else ""
    return f"{message} ({warnings[0]}{more})"


def read_article(path: Path, doc_id: str, warnings: list[str]) -> bytes | None:
    """A corpus file's bytes (read once: text and checksum always agree); None, with a warning,
    when it was removed meanwhile; `CorpusError` (one line) when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        warnings.append(f"skipped {doc_id}: it was removed while reading")
        return None
    except OSError as error:
        raise CorpusError(f"cannot read corpus file {doc_id}: {_reason(error)}") from None


def load_document(corpus_dir: Path, path: Path) -> Document:
    """Read one article, its front matter and its headline."""
    name = _relative(corpus_dir, path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise CorpusError(f"cannot read corpus file {name}: {_reason(error)}") from None
    return parse_document(corpus_dir, path, raw)


def parse_document(
    corpus_dir: Path, path: Path, raw: bytes, warnings: list[str] | None = None
) -> Document:
    """The article in `raw`, the bytes of `path` read once: its text and checksum agree. A
    `published:` that is no date (YYYY-MM-DD) is dropped, with a line in `warnings`."""
    name = _relative(corpus_dir, path)
    if b"\x00" in raw[:8192]:
        raise CorpusError(f"corpus file {name} looks binary (it contains NUL bytes)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"corpus file {name} is not valid UTF-8 (byte {exc.start})") from None
    # Offsets are promised into the text as Python's text mode reads it (universal newlines),
    # decoded from the very bytes that were checked and hashed.
    text = _text_mode(raw)
    meta, body_start = _front_matter(text, warnings, _doc_id(corpus_dir, path))
    published = meta.get("published", "")
    if not _is_date(published):
        if warnings is not None:
            warnings.append(
                f"{_doc_id(corpus_dir, path)}: published {published!r} is no date "
                "(YYYY-MM-DD); indexed undated"
            )
        published = ""
    title = meta.get("title", "")
    if not title:
        title, body_start = _headline(text, body_start, default=path.stem.replace("-", " "))
    return Document(
        doc_id=_doc_id(corpus_dir, path),
        path=path.resolve(),
        title=title,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        published=published,
        text=text,
        body_start=body_start,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _is_date(text: str) -> bool:
    if not text:
        return True  # no date is no bad date
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None


def _text_mode(raw: bytes) -> str:
    """`raw` decoded as `open(path, encoding="utf-8").read()` would decode it."""
    return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _is_empty_article(raw: bytes) -> bool:
    """True for a file with no text to index (blank, or front matter alone)."""
    if raw.strip():
        try:
            text = _text_mode(raw)
        except UnicodeDecodeError:
            return False  # not empty: the build reports it
        _, body_start = _front_matter(text)
        return not text[body_start:].strip()
    return True


def _doc_id(corpus_dir: Path, path: Path) -> str:
    return path.relative_to(corpus_dir).as_posix()


def _relative(corpus_dir: Path, path: Path) -> str:
    try:
        return path.relative_to(corpus_dir).as_posix() or "."
    except ValueError:
        return str(path)


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()


def _front_matter(
    text: str, warnings: list[str] | None = None, name: str = ""
) -> tuple[dict[str, str], int]:
    """(the known `key: value`s of the front matter, where the body starts). A value may go
    on over indented lines (YAML folding: joined with spaces), also after `>` or `|`. Lines
    that are not `key: value`, and front matter that is never closed, are named in
    `warnings` (as `name: ...`): the metadata they held is not read."""
    match = _FRONT_MATTER.match(text)
    if not match:
        if warnings is not None and _FRONT_MATTER_START.match(text):
            warnings.append(f"{name}: front matter has no closing '---' line; read as text")
        return {}, 1 if text.startswith("\ufeff") else 0
    values: dict[str, list[str]] = {}
    key = None  # the key whose value an indented line goes on with
    for number, line in enumerate((match.group(1) or "").splitlines(), start=2):
        if key is not None and line[:1] in (" ", "\t"):
            values[key].append(line.strip())
            continue
        field, sep, value = line.partition(":")
        key = field.strip().lower() if sep and field.strip() else None
        if key is not None:
            values[key] = [] if _BLOCK_SCALAR.fullmatch(value.strip()) else [value.strip()]
        elif line.strip() and not line.lstrip().startswith("#") and warnings is not None:
            warnings.append(
                f"{name}: front matter line {number} ({line.strip()[:60]!r}) is not "
                "'key: value' (a value that goes on over lines is indented); ignored"
            )
    meta = {
        key: " ".join(part for part in parts if part).strip().strip("\"'")
        for key, parts in values.items()
        if key in FRONT_MATTER_KEYS
    }
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
