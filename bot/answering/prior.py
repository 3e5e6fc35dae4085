"""The cheap prior: a linear model over wording and retrieval evidence for every sentence of
the retrieved passages, and the shortlist of sentences it sends to the reader."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from bot.answering.question import Question
from bot.lexical import terms
from bot.retrieval import Hit, Retriever

PRIOR_FEATURES = (
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
# Fitted by scripts/calibrate_reader.py (listwise logistic regression on SQuAD train articles
# the reader never saw): it orders the sentences so that the reader's shortlist holds the
# answer (96% of answerable calibration questions), and it nudges the reader's choice.
PRIOR_WEIGHTS = np.array(
    [
        5.8372,
        -0.8312,
        1.1812,
        0.2204,
        0.4378,
        1.5833,
        0.7865,
        2.3243,
        1.1616,
        -0.4178,
        0.5446,
        -0.5945,
        3.2431,
        1.5764,
        1.3989,
        -0.0194,
        2.3274,
    ]
)
READER_SHORTLIST = 8  # sentences the reader reads per question (about 4 ms each)
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
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]+")


@dataclass(frozen=True)
class Candidates:
    """Every (passage, sentence) pair of the retrieved passages, with its prior features."""

    hit_positions: np.ndarray  # index into the hits
    sentences: np.ndarray  # index into the sentence table
    features: np.ndarray  # one row per pair, columns as PRIOR_FEATURES


def candidate_features(retriever: Retriever, asked: Question, hits: list[Hit]) -> Candidates:
    """The prior feature matrix of every sentence in every retrieved passage."""
    data = retriever.data
    positions: list[int] = []
    sentences: list[int] = []
    for position, hit in enumerate(hits):
        first, last = int(data.chunks["first"][hit.chunk]), int(data.chunks["last"][hit.chunk])
        positions.extend([position] * (last - first))
        sentences.extend(range(first, last))
    hit_positions = np.asarray(positions, dtype=np.int64)
    sentence_ids = np.asarray(sentences, dtype=np.int64)

    own = {s: _sentence_evidence(retriever, asked, s) for s in set(sentences)}
    passage_terms = [_passage_terms(retriever, hit.chunk) for hit in hits]

    passage_cosine = np.array([hits[p].dense for p in positions])
    lexical = np.array([hit.lexical for hit in hits])
    best_lexical = float(lexical.max())
    passage_bm25 = lexical[hit_positions] / best_lexical if best_lexical > 0 else 0 * passage_cosine
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


def prior_scores(pairs: Candidates) -> np.ndarray:
    """Each candidate pair's prior (a logit: higher is likelier)."""
    return pairs.features @ PRIOR_WEIGHTS


def shortlist(
    pairs: Candidates, prior: np.ndarray, size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The `size` (READER_SHORTLIST) distinct sentences with the best prior, best first, and
    their priors."""
    size = READER_SHORTLIST if size is None else size
    best: dict[int, float] = {}
    for sentence, score in zip(pairs.sentences.tolist(), prior.tolist(), strict=True):
        if score > best.get(sentence, -np.inf):
            best[sentence] = score
    ranked = sorted(best, key=lambda s: -best[s])[:size]
    return np.asarray(ranked, dtype=np.int64), np.asarray([best[s] for s in ranked])


def _sentence_evidence(retriever: Retriever, asked: Question, sentence: int) -> list[float]:
    """The features that depend on the sentence alone (PRIOR_FEATURES from "overlap",
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
