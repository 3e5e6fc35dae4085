"""The offsets promise, kept at answer time: every citation shown is re-read from its source
file, `open(path, encoding="utf-8").read()[start:end] == text`; one that no longer matches
(the file was edited, moved or removed since the build) is dropped, never shown wrong."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from pathlib import Path

from bot.answering import Answer, Citation

_CACHE_FILES = 64
_cache: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_lock = threading.Lock()


def source_text(path: str) -> str | None:
    """The file's text as text mode reads it, or None if it cannot be read; cached by
    (path, modification time, size), so a file is re-read only when it changes."""
    try:
        stat = Path(path).stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    with _lock:
        _cache[key] = text
        while len(_cache) > _CACHE_FILES:
            _cache.popitem(last=False)
    return text


def citation_holds(citation: Citation) -> bool:
    """Whether the cited characters of the source file are still exactly the cited text."""
    text = source_text(citation.path)
    return text is not None and text[citation.start : citation.end] == citation.text


def checked_citations(answer: Answer) -> Answer:
    """`answer` without citations that no longer match their files, ranks renumbered. If the
    passage holding the answer sentence is dropped, the answer is withdrawn (an abstention,
    confidence 0, the remaining passages shown as the closest found): an answer is never shown
    without its citation."""
    checked: list[Citation] = []
    changed = False
    answered_from_kept = answer.answer is None
    for citation in answer.citations:
        if not citation_holds(citation):
            changed = True
            continue
        also_in = [o for o in citation.also_in if _also_in_holds(o, citation.text)]
        if len(also_in) != len(citation.also_in) or citation.rank != len(checked) + 1:
            changed = True
            citation = dataclasses.replace(citation, rank=len(checked) + 1, also_in=also_in)
        answered_from_kept = answered_from_kept or citation.highlight is not None
        checked.append(citation)
    if not changed:
        return answer
    if not answered_from_kept:
        return dataclasses.replace(
            answer, answer=None, abstained=True, confidence=0.0, citations=checked
        )
    return dataclasses.replace(answer, citations=checked)


def _also_in_holds(other: dict, text: str) -> bool:
    source = source_text(str(other.get("path", "")))
    return source is not None and source[other["start"] : other["end"]] == text
