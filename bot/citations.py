"""The offsets promise, kept at answer time: every citation shown is re-read from its source
file, `open(path, encoding="utf-8").read()[start:end] == text`; one that no longer matches
(the file was edited, moved or removed since the build) is dropped, never shown wrong.

The cited text is the index's own record of the passage, and each check reads the file's bytes
anew: no cache keyed by path, modification time or size, which a same-size edit with its time
restored (`cp -p`, `rsync -t`, `touch -r`) would fool. Only a regular file is ever opened, and
without blocking, so a FIFO or a device at a cited path cannot hang an answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import stat

from bot.answering import Answer, Citation

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular_file(path: str) -> bytes | None:
    """The bytes of `path` if it is a regular file (after links), else None; never blocks on a
    FIFO, socket or device, and checks the file it opened, not only the name."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between the stat and the open
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def why_unreadable(path: str) -> str | None:
    """Why the file at `path` cannot be opened for reading ("permission denied"); None when it
    can, or when it is gone (a removed file is a changed corpus, not an unreadable one)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return (getattr(error, "strerror", None) or type(error).__name__).lower()
    os.close(fd)
    return None


def source_text(path: str) -> str | None:
    """The file's text as text mode reads it (UTF-8, universal newlines), or None if it is not
    a readable regular UTF-8 file. Read anew on every call."""
    raw = read_regular_file(path)
    if raw is None:
        return None
    try:
        return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8").read()
    except UnicodeDecodeError:
        return None


class _Sources:
    """Texts of the files one answer cites, each read once per check."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def holds(self, path: str, start: int, end: int, text: str) -> bool:
        if path not in self._texts:
            self._texts[path] = source_text(path)
        source = self._texts[path]
        return source is not None and source[start:end] == text


def citation_holds(citation: Citation) -> bool:
    """Whether the cited characters of the source file are still exactly the cited text."""
    return _Sources().holds(citation.path, citation.start, citation.end, citation.text)


def checked_citations(answer: Answer) -> Answer:
    """`answer` without citations that no longer match their files, ranks renumbered. If the
    passage holding the answer sentence is dropped, the answer is withdrawn (an abstention,
    confidence 0, the remaining passages shown as the closest found): an answer is never shown
    without its citation."""
    sources = _Sources()
    checked: list[Citation] = []
    changed = False
    answered_from_kept = answer.answer is None
    answer_path = ""  # the file of the dropped passage that held the answer
    for citation in answer.citations:
        if not sources.holds(citation.path, citation.start, citation.end, citation.text):
            changed = True
            if citation.highlight is not None:
                answer_path = citation.path
            continue
        also_in = [o for o in citation.also_in if _also_in_holds(sources, o, citation.text)]
        if len(also_in) != len(citation.also_in) or citation.rank != len(checked) + 1:
            changed = True
            citation = dataclasses.replace(citation, rank=len(checked) + 1, also_in=also_in)
        answered_from_kept = answered_from_kept or citation.highlight is not None
        checked.append(citation)
    if not changed:
        return answer
    if not answered_from_kept:
        return dataclasses.replace(
            answer,
            answer=None,
            abstained=True,
            confidence=0.0,
            citations=checked,
            answer_span=None,
            abstain_reason=_why_withdrawn(answer_path),
            caveats=[],
        )
    return dataclasses.replace(answer, citations=checked)


def _why_withdrawn(path: str) -> str:
    """Why an answer was withdrawn: its article cannot be read now, or it changed."""
    if path and (reason := why_unreadable(path)):
        return (
            f"the article that held the answer cannot be read: {os.path.basename(path)}, {reason}"
        )
    return "the article that held the answer changed since the index was built"


def _also_in_holds(sources: _Sources, other: dict, text: str) -> bool:
    return sources.holds(str(other.get("path", "")), other["start"], other["end"], text)


def recorded_passages(citations: list[Citation]) -> list[dict]:
    """What to re-check before showing these citations again later (e.g. Telegram's Sources
    button): each one's file, offsets and the SHA-256 of the passage the index recorded."""
    return [
        {
            "path": c.path,
            "start": c.start,
            "end": c.end,
            "sha256": hashlib.sha256(c.text.encode("utf-8", "surrogatepass")).hexdigest(),
        }
        for c in citations
    ]


def passages_hold(passages: list[dict]) -> bool:
    """Whether every passage of `recorded_passages` is still exactly in its file."""
    sources: dict[str, str | None] = {}
    for passage in passages:
        try:
            path, start, end = str(passage["path"]), int(passage["start"]), int(passage["end"])
            wanted = str(passage["sha256"])
        except (KeyError, TypeError, ValueError):
            return False
        if path not in sources:
            sources[path] = source_text(path)
        text = sources[path]
        if text is None:
            return False
        found = text[start:end].encode("utf-8", "surrogatepass")
        if hashlib.sha256(found).hexdigest() != wanted:
            return False
    return True
