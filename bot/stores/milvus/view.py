"""One question's slice of a Milvus index, in the shape answering reads from `IndexData`.

Answering (`bot/answering/`) numbers passages and sentences and looks at neighbours by
arithmetic (sentence - 1, sentence + 1, range(first, last)). A `QuestionData` holds only the
retrieved passages, their sentences and the sentence on each side, renumbered 0..n-1 so those
numbers work: each document's sentences that are fetched form runs of consecutive sentences,
and a gap row (document -1) separates runs, so a neighbour that was not fetched is never taken
for one that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GAP = -1


class PartialText:
    """The parts of a document's text that were fetched (its passages and sentences), sliced
    by the document's own character offsets, as answering slices `DocumentRecord.text`."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, str]] = []

    def add(self, start: int, text: str) -> None:
        self._parts.append((start, text))

    def __getitem__(self, span: slice) -> str:
        start, end = span.start or 0, span.stop
        for begin, text in self._parts:
            if begin <= start and (end is None or end <= begin + len(text)):
                return text[start - begin : None if end is None else end - begin]
        raise IndexError(f"characters {start}:{end} were not fetched for this question")


@dataclass(frozen=True)
class ViewDocument:
    """A document as answering and citations read it (`DocumentRecord`'s fields)."""

    doc_id: str
    path: str
    title: str
    source: str
    url: str
    published: str
    sha256: str
    text: PartialText


@dataclass
class QuestionData:
    """`IndexData`'s accessors answering uses: chunks/sentences columns, documents,
    chunk_text(), sentence_text(), chunk_count, manifest, location."""

    location: Path
    manifest: dict[str, Any]
    documents: list[ViewDocument]
    sentences: dict[str, np.ndarray]  # doc, paragraph, start, end (local numbers)
    chunks: dict[str, np.ndarray]  # doc, paragraph, start, end, first, last
    chunk_texts: list[str]
    sentence_texts: list[str]

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_texts)

    def chunk_text(self, chunk: int) -> str:
        return self.chunk_texts[chunk]

    def sentence_text(self, sentence: int) -> str:
        return self.sentence_texts[sentence]


def question_data(
    location: Path, manifest: dict[str, Any], rows: list[dict[str, Any]]
) -> QuestionData:
    """The slice holding `rows` (chunk rows from Milvus, in the order their local numbers
    will have)."""
    doc_numbers: dict[str, int] = {}
    documents: list[ViewDocument] = []
    wanted: dict[int, dict[int, tuple[int, int, int, str]]] = {}  # doc -> n -> sentence
    for row in rows:
        number = doc_numbers.get(row["doc_id"])
        if number is None:
            number = doc_numbers[row["doc_id"]] = len(documents)
            doc = row["doc"]
            documents.append(
                ViewDocument(
                    row["doc_id"],
                    doc["path"],
                    doc["title"],
                    doc["source"],
                    doc["url"],
                    row["published"],
                    doc["sha256"],
                    PartialText(),
                )
            )
            wanted[number] = {}
        documents[number].text.add(int(row["start"]), row["text"])
        found = wanted[number]
        info = row["sentences"]
        for n, (paragraph, start, end) in enumerate(info["rows"], start=int(info["first"])):
            text = row["text"][start - int(row["start"]) : end - int(row["start"])]
            found[n] = (paragraph, start, end, text)
        for extra in (info["before"], info["after"]):
            if extra is not None:
                n, paragraph, start, end, text = extra
                found.setdefault(int(n), (paragraph, start, end, text))
                documents[number].text.add(int(start), text)
    columns: dict[str, list[int]] = {"doc": [], "paragraph": [], "start": [], "end": []}
    texts: list[str] = []
    local: dict[tuple[int, int], int] = {}
    for number, found in wanted.items():
        previous = None
        for n in sorted(found):
            if previous is None or n != previous + 1:
                _append(columns, texts, GAP, GAP, 0, 0, "")
            paragraph, start, end, text = found[n]
            local[(number, n)] = len(texts)
            _append(columns, texts, number, paragraph, start, end, text)
            previous = n
    _append(columns, texts, GAP, GAP, 0, 0, "")
    chunk_columns: dict[str, list[int]] = {
        k: [] for k in ("doc", "paragraph", "start", "end", "first", "last")
    }
    for row in rows:
        number = doc_numbers[row["doc_id"]]
        info = row["sentences"]
        first = local[(number, int(info["first"]))]
        chunk_columns["doc"].append(number)
        chunk_columns["paragraph"].append(int(row["paragraph"]))
        chunk_columns["start"].append(int(row["start"]))
        chunk_columns["end"].append(int(row["end"]))
        chunk_columns["first"].append(first)
        chunk_columns["last"].append(first + len(info["rows"]))
    return QuestionData(
        location,
        manifest,
        documents,
        {k: np.asarray(v, dtype=np.int64) for k, v in columns.items()},
        {k: np.asarray(v, dtype=np.int64) for k, v in chunk_columns.items()},
        [row["text"] for row in rows],
        texts,
    )


def _append(
    columns: dict[str, list[int]],
    texts: list[str],
    doc: int,
    paragraph: int,
    start: int,
    end: int,
    text: str,
) -> None:
    columns["doc"].append(doc)
    columns["paragraph"].append(paragraph)
    columns["start"].append(start)
    columns["end"].append(end)
    texts.append(text)
