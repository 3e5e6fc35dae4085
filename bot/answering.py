"""From retrieved passages to an answer: the best sentence, its citations, and a confidence.

Every sentence of the retrieved passages is scored as an answer by a linear model over a
few features (how close it is to the question in meaning and in wording, what the
sentences around it add, how strongly the retrievers ranked its passage). Confidence is a
logistic model over evidence about the chosen answer: how close it is to the question in
meaning, how much of the question's wording and names it and its passage cover. Both sets of weights were fitted on SQuAD v1.1
*train* articles by scripts/fit_scorer.py, which prints the constants below.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bot.lexical import terms, words
from bot.retrieval import Hit, Retriever

SENTENCE_FEATURES = (
    "sentence_cosine",  # cosine of question and sentence
    "cosine_gap",  # ... minus the best among the candidates
    "passage_cosine",  # cosine of question and the passage (embedded with its title)
    "passage_bm25",  # BM25 of the passage over the best BM25 among the candidates
    "fused_rank",  # 1 / (1 + position in the retriever's list)
    "dense_rank",  # 1 / (1 + rank by cosine)
    "bm25_rank",  # 1 / (1 + rank by BM25)
    "overlap",  # IDF-weighted share of question terms in the sentence
    "overlap_gap",  # ... minus the best among the candidates
    "overlap_previous",  # ... in the sentence and the one before it
    "overlap_next",  # ... in the sentence and the one after it
    "overlap_passage",  # ... in the passage and its document title
    "bigrams",  # share of the question's adjacent term pairs found in the sentence
    "novelty",  # share of the sentence's terms the question does not use
    "number_match",  # the question asks for a quantity and the sentence has a number
    "time_match",  # the question asks when and the sentence has a date or time
    "name_match",  # the question asks who/which and the sentence names something new
    "first_in_paragraph",
    "length",  # log of the sentence's length in characters, scaled
)
# Fitted by scripts/fit_scorer.py (listwise logistic regression on SQuAD train).
SENTENCE_WEIGHTS = np.array(
    [
        2.4470,
        2.0605,
        2.7172,
        -1.3574,
        1.0056,
        0.4306,
        0.2966,
        0.6969,
        0.3706,
        2.5899,
        0.7040,
        1.7726,
        0.3249,
        0.2441,
        1.7918,
        1.5340,
        0.9984,
        0.0494,
        1.5100,
    ]
)

CONFIDENCE_FEATURES = (
    "answer_margin",  # the chosen sentence's score minus the best outside its passage
    "sentence_cosine",
    "passage_cosine",
    "overlap_context",  # IDF share of question terms in the answer sentence and its neighbours
    "overlap_passage",  # ... in the answer passage and its title
    "unknown_terms",  # ... that the corpus never uses
    "missing_salient",  # the rarest question term absent from the answer's passage, 0..1
    "names_unknown",  # share of the question's names and numbers the corpus never uses
    "names_missing",  # share of them absent from the answer's passage and neighbours
)
CONFIDENCE_WEIGHTS = np.array(
    [0.5910, 5.1263, 0.0000, 1.1879, 1.7733, 0.0000, 0.0000, 0.0000, -0.5486]
)
CONFIDENCE_BIAS = -3.0069  # -5.7584 - logit(0.06): the threshold chosen on dev data

_ASKS_NUMBER = re.compile(
    r"\bhow (many|much|long|old|far|big|large|often|tall|high|deep|wide)\b|"
    r"\bwhat (percentage|percent|proportion|number|amount|size|share)\b",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"\bwhen\b|\b(what|which|in what|on what) (year|date|day|month|time|decade|century|period)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?|half|twice|several)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th) century|\d{4}s|january|february|march|april|may|"
    r"june|july|august|september|october|november|december|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
    r"(last|next|this|earlier this|later this|that) (year|month|week|spring|summer|autumn|"
    r"fall|winter|decade|century))\b",
    re.IGNORECASE,
)
_ASKS_NAME = re.compile(r"\b(who|whom|whose|which|what (is|was) the name)\b", re.IGNORECASE)
# Names and numbers: capitalised words (iPhone-style too) and words with digits, after the first.
_NAME = re.compile(r"(?<!^)\b(?:[A-Z][\w'’-]*|[a-z]+[A-Z][\w'’-]*|\w*\d[\w.,]*)")
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]+")


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
class Question:
    """What scoring needs to know about the question itself."""

    text: str
    vector: np.ndarray
    weights: dict[str, float]  # IDF of each distinct content term in the corpus
    bigrams: frozenset[tuple[str, str]]
    asks_number: bool
    asks_time: bool
    asks_name: bool
    words: frozenset[str]  # lower-cased words of the question (to spot new names)
    name_terms: frozenset[str]  # stemmed capitalised words and numbers after the first word


@dataclass(frozen=True)
class Candidates:
    """Every (passage, sentence) pair of the retrieved passages, with its features."""

    hit_positions: np.ndarray  # index into the hits
    sentences: np.ndarray  # index into the sentence table
    features: np.ndarray  # one row per pair, columns as SENTENCE_FEATURES


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
    asked = analyse_question(retriever, question, query_vector)
    pairs = candidate_features(retriever, asked, hits)
    scores = pairs.features @ SENTENCE_WEIGHTS
    best = int(np.argmax(scores))
    confidence = answer_confidence(confidence_features(retriever, asked, hits, pairs, scores, best))
    abstained = confidence < min_confidence
    answer_sentence = int(pairs.sentences[best])
    citations = _citations(
        retriever,
        passage_order(hits, pairs, scores),
        top_k,
        None if abstained else answer_sentence,
    )
    return Answer(
        question=question,
        answer=None if abstained else retriever.data.sentence_text(answer_sentence),
        abstained=abstained,
        confidence=round(confidence, 4),
        citations=citations,
    )


def analyse_question(retriever: Retriever, question: str, query_vector: np.ndarray) -> Question:
    """The question's terms with their IDF, its term pairs and what kind of answer it wants."""
    question_terms = terms(question)
    return Question(
        text=question,
        vector=query_vector,
        weights={term: retriever.idf(term) for term in question_terms},
        bigrams=frozenset(itertools.pairwise(question_terms)),
        asks_number=bool(_ASKS_NUMBER.search(question)),
        asks_time=bool(_ASKS_TIME.search(question)),
        asks_name=bool(_ASKS_NAME.search(question)),
        words=frozenset(words(question)),
        name_terms=frozenset(terms(" ".join(_NAME.findall(question)))),
    )


def passage_order(hits: list[Hit], pairs: Candidates, scores: np.ndarray) -> list[Hit]:
    """Passages by the score of their best sentence: the answer's passage comes first."""
    best_per_hit = np.full(len(hits), -np.inf)
    np.maximum.at(best_per_hit, pairs.hit_positions, scores)
    order = np.argsort(-best_per_hit, kind="stable")
    return [hits[int(i)] for i in order]


def candidate_features(retriever: Retriever, asked: Question, hits: list[Hit]) -> Candidates:
    """The feature matrix of every sentence in every retrieved passage."""
    data = retriever.data
    positions: list[int] = []
    sentences: list[int] = []
    for position, hit in enumerate(hits):
        first, last = int(data.chunks["first"][hit.chunk]), int(data.chunks["last"][hit.chunk])
        positions.extend([position] * (last - first))
        sentences.extend(range(first, last))
    hit_positions = np.asarray(positions, dtype=np.int64)
    sentence_ids = np.asarray(sentences, dtype=np.int64)

    unique = sorted(set(sentences))
    own = {s: _sentence_evidence(retriever, asked, s) for s in unique}
    passage_terms = [_passage_terms(retriever, hit.chunk) for hit in hits]

    cosine = data.sentence_vectors[sentence_ids] @ asked.vector
    passage_cosine = np.array([hits[p].dense for p in positions])
    lexical = np.array([hit.lexical for hit in hits])
    best_lexical = float(lexical.max())
    passage_bm25 = lexical[hit_positions] / best_lexical if best_lexical > 0 else 0 * cosine
    fused_rank = 1.0 / (1.0 + hit_positions)
    dense_rank = 1.0 / (1.0 + np.array([hits[p].dense_rank for p in positions]))
    bm25_rank = 1.0 / (1.0 + np.array([hits[p].lexical_rank for p in positions]))
    per_sentence = np.array([own[s] for s in sentences], dtype=np.float64)
    overlap = per_sentence[:, 0]
    overlap_passage = np.array(
        [_coverage(asked.weights, passage_terms[p]) for p in positions], dtype=np.float64
    )
    features = np.column_stack(
        [
            cosine,
            cosine - cosine.max(),
            passage_cosine,
            passage_bm25,
            fused_rank,
            dense_rank,
            bm25_rank,
            overlap,
            overlap - overlap.max(),
            per_sentence[:, 1],
            per_sentence[:, 2],
            overlap_passage,
            per_sentence[:, 3:],
        ]
    )
    return Candidates(hit_positions, sentence_ids, features)


def _sentence_evidence(retriever: Retriever, asked: Question, sentence: int) -> list[float]:
    """The features that depend on the sentence alone (SENTENCE_FEATURES from "overlap",
    without the passage's and the gaps)."""
    data = retriever.data
    own = retriever.sentence_terms(sentence)
    previous = _neighbour(retriever, sentence, -1)
    following = _neighbour(retriever, sentence, +1)
    text = data.sentence_text(sentence)
    ordered = retriever.sentence_term_sequence(sentence)
    sentence_bigrams = set(itertools.pairwise(ordered))
    bigrams = len(asked.bigrams & sentence_bigrams) / len(asked.bigrams) if asked.bigrams else 0.0
    novelty = len(own - asked.weights.keys()) / len(own) if own else 0.0
    number_match = float(asked.asks_number and bool(_NUMBER.search(text)))
    time_match = float(asked.asks_time and bool(_TIME.search(text)))
    name_match = float(
        asked.asks_name
        and any(name.lower() not in asked.words for name in _CAPITALISED.findall(text))
    )
    return [
        _coverage(asked.weights, own),
        _coverage(asked.weights, own | previous),
        _coverage(asked.weights, own | following),
        bigrams,
        novelty,
        number_match,
        time_match,
        name_match,
        float(not previous),
        np.log1p(len(text)) / 5.0,
    ]


def _neighbour(retriever: Retriever, sentence: int, step: int) -> frozenset[str]:
    """Terms of the sentence `step` away in the same paragraph (empty if there is none)."""
    table = retriever.data.sentences
    other = sentence + step
    same_paragraph = (
        0 <= other < len(table["doc"])
        and table["doc"][other] == table["doc"][sentence]
        and table["paragraph"][other] == table["paragraph"][sentence]
    )
    return retriever.sentence_terms(other) if same_paragraph else frozenset()


def _passage_terms(retriever: Retriever, chunk: int) -> frozenset[str]:
    data = retriever.data
    first, last = int(data.chunks["first"][chunk]), int(data.chunks["last"][chunk])
    found: set[str] = set(terms(data.documents[int(data.chunks["doc"][chunk])].title))
    for sentence in range(first, last):
        found |= retriever.sentence_terms(sentence)
    return frozenset(found)


def _coverage(weights: dict[str, float], text_terms: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


def confidence_features(
    retriever: Retriever,
    asked: Question,
    hits: list[Hit],
    pairs: Candidates,
    scores: np.ndarray,
    best: int,
) -> np.ndarray:
    """The evidence that the chosen sentence answers the question (CONFIDENCE_FEATURES)."""
    position = int(pairs.hit_positions[best])
    sentence = int(pairs.sentences[best])
    elsewhere = scores[pairs.hit_positions != position]
    margin = float(scores[best] - elsewhere.max()) if elsewhere.size else 1.0
    context = (
        retriever.sentence_terms(sentence)
        | _neighbour(retriever, sentence, -1)
        | _neighbour(retriever, sentence, +1)
    )
    passage = _passage_terms(retriever, hits[position].chunk) | context
    weights = asked.weights
    missing = [w for t, w in weights.items() if t not in passage]
    unknown = {t for t in weights if t not in retriever.document_frequency}
    names = asked.name_terms
    return np.array(
        [
            min(margin, 5.0),
            pairs.features[best, 0],
            hits[position].dense,
            _coverage(weights, context),
            _coverage(weights, passage),
            _coverage(weights, unknown),
            max(missing, default=0.0) / retriever.unseen_idf,
            len(names & unknown) / len(names) if names else 0.0,
            len(names - passage) / len(names) if names else 0.0,
        ]
    )


def answer_confidence(evidence: np.ndarray) -> float:
    """The estimated probability that the chosen sentence answers the question."""
    z = float(CONFIDENCE_BIAS + evidence @ CONFIDENCE_WEIGHTS)
    return float(1.0 / (1.0 + np.exp(-z)))


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
