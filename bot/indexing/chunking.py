"""Cutting documents into passages: windows of whole sentences that never cross a paragraph."""

from __future__ import annotations

from dataclasses import dataclass

from bot.indexing.corpus import Document
from bot.indexing.segment import Span, paragraphs, sentences


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document, by exact character offsets into the document's text."""

    doc: int
    paragraph: int  # counted from 1
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage: sentences `first..last-1` of the sentence table, all in one paragraph."""

    doc: int
    paragraph: int  # counted from 1
    start: int
    end: int
    first: int
    last: int


def sentence_table(doc_number: int, document: Document) -> list[Sentence]:
    """Every sentence of the document's body, paragraph by paragraph."""
    table = []
    for number, paragraph in enumerate(paragraphs(document.text, document.body_start), start=1):
        for start, end in sentences(document.text, paragraph):
            table.append(Sentence(doc_number, number, start, end))
    return table


def chunk_sentences(
    table: list[Sentence], offset: int, size: int, overlap: int, max_chars: int
) -> list[Chunk]:
    """Windows of up to `size` sentences (sharing `overlap`) within each paragraph.

    `table` holds one document's sentences; `offset` is the index of its first sentence in
    the index-wide sentence table. A window stops early rather than exceed `max_chars`,
    but always holds at least one sentence.
    """
    chunks: list[Chunk] = []
    for group_start, group in _by_paragraph(table):
        first = 0
        while first < len(group):
            last = first + 1
            while (
                last < len(group)
                and last - first < size
                and group[last].end - group[first].start <= max_chars
            ):
                last += 1
            chunks.append(_chunk(group, first, last, offset + group_start))
            if last == len(group):
                break
            first = max(first + 1, last - overlap)
    return chunks


def _by_paragraph(table: list[Sentence]) -> list[tuple[int, list[Sentence]]]:
    """(position of the paragraph's first sentence in `table`, its sentences), in order."""
    groups: list[tuple[int, list[Sentence]]] = []
    for position, sentence in enumerate(table):
        if not groups or groups[-1][1][0].paragraph != sentence.paragraph:
            groups.append((position, []))
        groups[-1][1].append(sentence)
    return groups


def _chunk(group: list[Sentence], first: int, last: int, base: int) -> Chunk:
    span: Span = (group[first].start, group[last - 1].end)
    head = group[0]
    return Chunk(head.doc, head.paragraph, span[0], span[1], base + first, base + last)
