"""From retrieved passages to an answer: the best sentence, its citations, and a confidence."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bot.lexical import terms
from bot.retrieval import Hit, Retriever

# Weights of the answer-sentence score: how well the sentence itself matches the question,
# how much of the question's wording it (and the sentence before it) covers, and how
# strongly the retrievers ranked its passage.
SENTENCE_WEIGHTS = {"cosine": 0.45, "overlap": 0.35, "context": 0.10, "passage": 0.15, "rank": 0.10}
# Confidence is a logistic function of two kinds of evidence: semantic closeness of the
# best passage, and coverage of the question's rare terms by the answer's context.
CONFIDENCE_WEIGHTS = {"bias": -6.0, "cosine": 6.0, "coverage": 5.0}


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
    # Where the answer sentence sits inside `text` (offsets relative to `text`), if it does.
    highlight: tuple[int, int] | None = None
    # Other documents carrying the very same passage (wire copy), shown once.
    also_in: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    answer: str | None
    abstained: bool
    confidence: float
    citations: list[Citation]

    def to_json(self) -> dict[str, Any]:
        """The scripting contract of `newsbot ask --json` (see README)."""
        return asdict(self)


@dataclass(frozen=True)
class _Candidate:
    sentence: int
    score: float
    hit_position: int


def answer_question(
    retriever: Retriever,
    question: str,
    query_vector: np.ndarray,
    *,
    mode: str,
    top_k: int,
    candidates: int,
    min_confidence: float,
) -> Answer:
    """Retrieve, pick the answer sentence, cite, and decide whether to abstain."""
    hits = retriever.search(question, query_vector, mode, candidates)
    if not hits:
        return Answer(question, None, True, 0.0, [])
    weights = _term_weights(retriever, question)
    best = _best_sentence(retriever, hits, query_vector, weights)
    confidence = _confidence(retriever, hits, best, weights)
    abstained = confidence < min_confidence
    data = retriever.data
    answer_hit = hits[best.hit_position]
    # The passage holding the answer is cited first, then the rest in retrieval order.
    ordered = [answer_hit] + [h for i, h in enumerate(hits) if i != best.hit_position]
    citations = _citations(retriever, ordered, top_k, None if abstained else best.sentence)
    return Answer(
        question=question,
        answer=None if abstained else data.sentence_text(best.sentence),
        abstained=abstained,
        confidence=round(confidence, 4),
        citations=citations,
    )


def _term_weights(retriever: Retriever, question: str) -> dict[str, float]:
    """IDF of each distinct question term; terms the corpus never uses weigh the most."""
    total = max(retriever.data.chunk_count, 1)
    weights = {}
    for term in terms(question):
        df = retriever.document_frequency.get(term, 0)
        weights[term] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
    return weights


def _coverage(weights: dict[str, float], text_terms: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


def _best_sentence(
    retriever: Retriever, hits: list[Hit], query_vector: np.ndarray, weights: dict[str, float]
) -> _Candidate:
    data = retriever.data
    w = SENTENCE_WEIGHTS
    best: _Candidate | None = None
    seen: set[int] = set()
    for position, hit in enumerate(hits):
        first, last = int(data.chunks["first"][hit.chunk]), int(data.chunks["last"][hit.chunk])
        for sentence in range(first, last):
            if sentence in seen:
                continue
            seen.add(sentence)
            own = set(terms(data.sentence_text(sentence)))
            context = own | set(terms(_previous_sentence_text(retriever, sentence)))
            score = (
                w["cosine"] * float(data.sentence_vectors[sentence] @ query_vector)
                + w["overlap"] * _coverage(weights, own)
                + w["context"] * _coverage(weights, context)
                + w["passage"] * hit.dense
                + w["rank"] / (1 + position)
            )
            if best is None or score > best.score:
                best = _Candidate(sentence, score, position)
    assert best is not None
    return best


def _previous_sentence_text(retriever: Retriever, sentence: int) -> str:
    data = retriever.data
    same_paragraph = (
        sentence > 0
        and data.sentences["doc"][sentence - 1] == data.sentences["doc"][sentence]
        and data.sentences["paragraph"][sentence - 1] == data.sentences["paragraph"][sentence]
    )
    return data.sentence_text(sentence - 1) if same_paragraph else ""


def _confidence(
    retriever: Retriever, hits: list[Hit], best: _Candidate, weights: dict[str, float]
) -> float:
    data = retriever.data
    hit = hits[best.hit_position]
    context = set(terms(data.chunk_text(hit.chunk))) | set(
        terms(data.documents[int(data.chunks["doc"][hit.chunk])].title)
    )
    w = CONFIDENCE_WEIGHTS
    z = (
        w["bias"]
        + w["cosine"] * max(h.dense for h in hits)
        + w["coverage"] * _coverage(weights, context)
    )
    return 1.0 / (1.0 + math.exp(-z))


def _citations(
    retriever: Retriever, hits: list[Hit], top_k: int, answer_sentence: int | None
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
            answer_sentence is not None
            and data.chunks["first"][chunk] <= answer_sentence < data.chunks["last"][chunk]
        ):
            s_start = int(data.sentences["start"][answer_sentence])
            highlight = (s_start - start, int(data.sentences["end"][answer_sentence]) - start)
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
        )
    return list(by_text.values())
