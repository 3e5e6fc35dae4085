"""Citations: the passages in the order the reader's verdict gives them, with the answer's
offsets inside the one that holds it, and wire copies shown once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.answering.prior import Candidates
from bot.answering.reading import Reading
from bot.retrieval import Hit, Retriever


@dataclass(frozen=True)
class Citation:
    """A cited passage. `text == open(path, encoding="utf-8").read()[start:end]`."""

    rank: int
    doc_id: str
    title: str
    source: str
    url: str
    path: str
    paragraph: int
    start: int
    end: int
    text: str
    score: float
    # Where the answer (one sentence or two) sits inside `text` (offsets relative to `text`).
    highlight: tuple[int, int] | None = None
    # Other documents carrying the very same passage (wire copy), shown once.
    also_in: list[dict[str, Any]] = field(default_factory=list)
    published: str = ""  # the document's publication date (ISO), when the corpus knows it


def passage_order(
    hits: list[Hit], pairs: Candidates, prior: np.ndarray, reading: Reading
) -> list[Hit]:
    """Passages by the reader's best probability among their sentences, then by prior: the
    answer's passage comes first."""
    read = dict(zip(reading.sentences.tolist(), reading.probabilities.tolist(), strict=True))
    best_read = np.full(len(hits), -1.0)
    best_prior = np.full(len(hits), -np.inf)
    for position, sentence, score in zip(
        pairs.hit_positions.tolist(), pairs.sentences.tolist(), prior.tolist(), strict=True
    ):
        best_read[position] = max(best_read[position], read.get(sentence, -1.0))
        best_prior[position] = max(best_prior[position], score)
    order = np.lexsort((-best_prior, -best_read))
    return [hits[int(i)] for i in order]


def citations(
    retriever: Retriever, hits: list[Hit], top_k: int, answer: tuple[int, int] | None
) -> list[Citation]:
    """The first `top_k` distinct passages; identical texts in other documents become `also_in`."""
    data = retriever.data
    by_text: dict[str, Citation] = {}
    for hit in hits:
        chunk = hit.chunk
        text = data.chunk_text(chunk)
        doc = data.documents[int(data.chunks["doc"][chunk])]
        start = int(data.chunks["start"][chunk])
        key = " ".join(text.split())
        if key in by_text:
            cited = by_text[key]
            if doc.doc_id != cited.doc_id and all(doc.doc_id != o["doc_id"] for o in cited.also_in):
                cited.also_in.append(
                    {
                        "doc_id": doc.doc_id,
                        "title": doc.title,
                        "path": doc.path,
                        "paragraph": int(data.chunks["paragraph"][chunk]),
                        "start": start,
                        "end": start + len(text),
                    }
                )
            continue
        if len(by_text) == top_k:
            continue
        highlight = None
        if (
            answer is not None
            and data.chunks["first"][chunk] <= answer[0]
            and answer[1] < data.chunks["last"][chunk]
        ):
            s_start = int(data.sentences["start"][answer[0]])
            highlight = (s_start - start, int(data.sentences["end"][answer[1]]) - start)
        by_text[key] = Citation(
            rank=len(by_text) + 1,
            doc_id=doc.doc_id,
            title=doc.title,
            source=doc.source,
            url=doc.url,
            path=doc.path,
            paragraph=int(data.chunks["paragraph"][chunk]),
            start=start,
            end=start + len(text),
            text=text,
            score=round(hit.score, 6),
            highlight=highlight,
            published=doc.published,
        )
    return list(by_text.values())


def span_text(retriever: Retriever, span: tuple[int, int]) -> str:
    """The answer's sentences as they stand in the document, with the space between them."""
    data = retriever.data
    first, last = span
    doc = data.documents[int(data.sentences["doc"][first])]
    return doc.text[int(data.sentences["start"][first]) : int(data.sentences["end"][last])]
