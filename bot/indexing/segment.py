"""Splitting text into paragraphs and sentences, keeping exact character offsets."""

from __future__ import annotations

import re
from functools import cache

import pysbd

Span = tuple[int, int]
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@cache
def _segmenter() -> pysbd.Segmenter:
    # clean=False keeps the text verbatim so every sentence can be found again in the source.
    return pysbd.Segmenter(language="en", clean=False)


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Non-blank paragraphs of `text[start:end]` (separated by blank lines), whitespace trimmed."""
    end = len(text) if end is None else end
    spans, cursor = [], start
    for match in _BLANK_LINE.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return [trimmed for span in spans if (trimmed := _trim(text, span))]


def sentences(text: str, span: Span) -> list[Span]:
    """Sentences of `text[span[0]:span[1]]`, found by pysbd, as trimmed spans of `text`."""
    start, end = span
    found, cursor = [], start
    for piece in _segmenter().segment(text[start:end]):
        core = piece.strip()
        if not core:
            continue
        position = text.find(core, cursor, end)
        if position < 0:  # pysbd altered the text; fall back to the rest of the paragraph
            found.append((cursor, end))
            break
        found.append((position, position + len(core)))
        cursor = position + len(core)
    return [trimmed for s in found if (trimmed := _trim(text, s))]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
