"""From retrieved passages to an answer: a trained reader picks the sentence and says how sure.

1. Retrieval (`bot/retrieval.py`, hybrid by default) proposes passages.
2. Every sentence of those passages gets a cheap prior: a linear model over wording and
   retrieval evidence (how much of the question's wording it and its neighbours cover, how
   the retrievers ranked its passage, whether it has the kind of thing asked for). The
   weights are fitted on SQuAD v1.1 train by scripts/calibrate_reader.py.
3. The best READER_SHORTLIST sentences go to the reader (`bot/reader.py`), a cross-encoder
   that reads the question with each sentence and the sentence before it. Its score, nudged
   by the prior (PRIOR_BLEND), picks the answer; calibrated, it is the confidence.
4. When the sentence next to the best one in the same passage is nearly as likely (at least
   NEIGHBOUR_SHARE of its probability), both are the answer: "New Zealand is a member of the
   Five Eyes... Other members of the group are the UK, US, Australia and Canada."
5. A question asking what an abbreviation stands for ("What does NCSC stand for?") is
   answered by the candidate sentence that spells it out ("...Cyber Security Centre (NCSC)..."),
   when there is one (`bot/acronyms.py`), with SPELLED_OUT_CONFIDENCE.
6. A year, number, place or role the question names that a sentence's context contradicts
   or lacks lowers that sentence's probability before the answer is chosen (`bot/checks.py`);
   the reasons for the chosen one are `Answer.caveats`.
7. Below `min_confidence` the bot abstains, and still cites the closest passages. When the
   question names something the corpus never mentions ("Did Germany ban Huawei?" over an
   article that names no Germany), the bar is higher: UNKNOWN_NAME_MIN_CONFIDENCE. Such names
   are listed in `Answer.unknown_names`; why it abstained is `Answer.abstain_reason`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bot.acronyms import asked_abbreviation, spells_out
from bot.checks import ASKS_NUMBER, ASKS_TIME, Context, Expected, check, expected
from bot.lexical import terms, words
from bot.names import unknown_names
from bot.query import Query
from bot.reader import Reader, candidate_text
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
# How much the prior counts next to the reader's logit: chosen by scripts/calibrate_reader.py
# (answer sentence right .740 on the reader alone, .776 blended, on its fit questions).
PRIOR_BLEND = 0.75
# A neighbour at least this share as likely as the best sentence joins the answer. A judgement
# call (not fitted): "nearly as likely" reads as "at least half as likely".
NEIGHBOUR_SHARE = 0.5
# A question naming something no indexed text contains is answered only when the answer is
# more likely right than not: that name is evidence the corpus is about something else, but
# not proof ("Washington" for the US, "MPs" for lawmakers). Not fitted.
UNKNOWN_NAME_MIN_CONFIDENCE = 0.5
# A sentence that spells out the abbreviation asked about answers the question: of the SQuAD
# train and dev questions asking what an abbreviation stands for whose paragraph spells it
# out, the spelling sentence held the answer 176 times out of 176.
SPELLED_OUT_CONFIDENCE = 0.95

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
# Openings of a sentence that continues the one before it rather than starting afresh.
_CONTINUES = re.compile(
    r"(other|others|they|these|those|this|it|its|their|both|such|the (group|rest|others))\b",
    re.IGNORECASE,
)
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
    # Where the answer (one sentence or two) sits inside `text` (offsets relative to `text`).
    highlight: tuple[int, int] | None = None
    # Other documents carrying the very same passage (wire copy), shown once.
    also_in: list[dict[str, Any]] = field(default_factory=list)
    published: str = ""  # the document's publication date (ISO), when the corpus knows it


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    answer: str | None
    abstained: bool
    confidence: float
    citations: list[Citation]
    # Names in the question that the corpus never mentions (they raise the bar to answer).
    unknown_names: list[str] = field(default_factory=list)
    # Why there is no answer ("not confident enough: 0.047 < 0.16"); None when answered.
    abstain_reason: str | None = None
    # Why the confidence of the answer's sentence was lowered (bot/checks.py).
    caveats: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The scripting contract of `newsbot ask --json` (see README)."""
        return asdict(self)


@dataclass(frozen=True)
class Question:
    """What prior scoring needs to know about the question itself."""

    query: Query
    weights: dict[str, float]  # IDF of each distinct content term in the corpus
    bigrams: frozenset[tuple[str, str]]
    asks_number: bool
    asks_time: bool
    asks_name: bool
    words: frozenset[str]  # lower-cased words of the question (to spot new names)
    unknown_names: tuple[str, ...]  # names in the question that no indexed text contains
    abbreviation: str | None  # the abbreviation whose meaning it asks for ("NCSC"), if any
    expected: Expected  # the years, numbers, places and roles it names (bot/checks.py)


@dataclass(frozen=True)
class Candidates:
    """Every (passage, sentence) pair of the retrieved passages, with its prior features."""

    hit_positions: np.ndarray  # index into the hits
    sentences: np.ndarray  # index into the sentence table
    features: np.ndarray  # one row per pair, columns as PRIOR_FEATURES


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on the shortlisted sentences of one question."""

    sentences: np.ndarray  # shortlisted sentence ids, best prior first
    logits: np.ndarray  # the reader's raw scores
    probabilities: np.ndarray  # ... blended with the prior and calibrated: P(it answers)
    read_alone: np.ndarray  # ... calibrated without the prior: the reader's own verdict

    @property
    def best(self) -> int:
        return int(self.sentences[int(np.argmax(self.probabilities))])

    def probability(self, sentence: int, *, alone: bool = False) -> float:
        """The probability of a shortlisted sentence (0 for one the reader did not read);
        `alone`: the reader's own, without the prior."""
        found = np.flatnonzero(self.sentences == sentence)
        scores = self.read_alone if alone else self.probabilities
        return float(scores[found[0]]) if len(found) else 0.0

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())


def answer_question(
    retriever: Retriever,
    reader: Reader,
    query: Query,
    *,
    mode: str,
    top_k: int,
    candidates: int,
    min_confidence: float,
) -> Answer:
    """Retrieve, let the reader pick the answer sentence, cite, and decide whether to abstain."""
    hits = retriever.search(query, mode, candidates)
    if not hits:
        return Answer(query.text, None, True, 0.0, [], abstain_reason="no passage matches")
    asked = analyse_question(retriever, query)
    pairs = candidate_features(retriever, asked, hits)
    prior = pairs.features @ PRIOR_WEIGHTS
    reading = read_shortlist(retriever, reader, query, pairs, prior)
    if asked.abbreviation:
        reading = with_spelled_out(retriever, reading, asked.abbreviation, pairs)
    reading, caveats = with_checks(retriever, reading, asked.expected)
    confidence = reading.confidence
    bar = (
        max(min_confidence, UNKNOWN_NAME_MIN_CONFIDENCE) if asked.unknown_names else min_confidence
    )
    abstained = confidence < bar
    passages = passage_order(hits, pairs, prior, reading)
    span = None if abstained else answer_sentences(retriever, reading, min_confidence, passages[0])
    citations = _citations(retriever, passages, top_k, span)
    best_caveats = list(caveats.get(reading.best, ()))
    reason = None
    if abstained:
        if asked.unknown_names:
            reason = f"it never mentions {' or '.join(asked.unknown_names)}"
        else:
            reason = f"not confident enough: {_below(confidence, bar)}"
            if best_caveats:
                reason += f"; {best_caveats[0]}"
    return Answer(
        question=query.text,
        answer=None if span is None else _span_text(retriever, span),
        abstained=abstained,
        confidence=round(confidence, 4),
        citations=citations,
        unknown_names=list(asked.unknown_names),
        abstain_reason=reason,
        caveats=[] if abstained else best_caveats,
    )


def _below(confidence: float, threshold: float) -> str:
    """`0.497 < 0.5`: the confidence cut (not rounded) to 3 decimals, so it never reads as the
    threshold it fell short of."""
    shown = math.floor(confidence * 1000) / 1000
    return f"{shown:.3f} < {threshold:g}"


def with_checks(
    retriever: Retriever, reading: Reading, wanted: Expected
) -> tuple[Reading, dict[int, tuple[str, ...]]]:
    """The reading with each shortlisted sentence's probability lowered by the consistency
    checks (`bot/checks.py`), and the reasons by sentence."""
    if not wanted:
        return reading, {}
    factors = np.ones(len(reading.sentences))
    reasons: dict[int, tuple[str, ...]] = {}
    for at, sentence in enumerate(reading.sentences.tolist()):
        verdict = check(wanted, sentence_context(retriever, sentence))
        factors[at] = verdict.factor
        if verdict.reasons:
            reasons[sentence] = verdict.reasons
    if not reasons:
        return reading, {}
    return (
        Reading(
            reading.sentences,
            reading.logits,
            reading.probabilities * factors,
            reading.read_alone * factors,
        ),
        reasons,
    )


def sentence_context(retriever: Retriever, sentence: int) -> Context:
    """A sentence with its neighbours in its article, the article's title and date."""
    data = retriever.data
    docs = data.sentences["doc"]
    doc = int(docs[sentence])
    near = [
        data.sentence_text(s)
        for s in (sentence - 1, sentence, sentence + 1)
        if 0 <= s < len(docs) and int(docs[s]) == doc
    ]
    document = data.documents[doc]
    return Context(
        " ".join([document.title, *near]), document.published, data.sentence_text(sentence)
    )


def answer_sentences(
    retriever: Retriever, reading: Reading, min_confidence: float, passage: Hit
) -> tuple[int, int]:
    """The answer as a run of sentences (first, last) of its passage: the best one, joined by
    the sentence before or after it when that one is nearly as likely."""
    best = reading.best
    chunks = retriever.data.chunks
    first, last = int(chunks["first"][passage.chunk]), int(chunks["last"][passage.chunk])
    floor = max(min_confidence, NEIGHBOUR_SHARE * reading.confidence)
    # The reader read the next sentence with the best one as its context. When that sentence
    # goes on about what the best one names ("Other members of the group are..."), the reader's
    # own verdict counts even though the wording prior is low: a continuation shares few
    # words with the question.
    after = reading.probability(best + 1)
    if last > best + 1 and _CONTINUES.match(retriever.data.sentence_text(best + 1)):
        after = max(after, reading.probability(best + 1, alone=True))
    neighbours = [(reading.probability(best - 1), best - 1), (after, best + 1)]
    neighbours = [(p, o) for p, o in neighbours if first <= o < last]
    likely = [(p, o) for p, o in neighbours if p >= floor]
    if not likely:
        return best, best
    other = max(likely)[1]
    return min(best, other), max(best, other)


def shortlist(
    pairs: Candidates, prior: np.ndarray, size: int = READER_SHORTLIST
) -> tuple[np.ndarray, np.ndarray]:
    """The `size` distinct sentences with the best prior, best first, and their priors."""
    best: dict[int, float] = {}
    for sentence, score in zip(pairs.sentences.tolist(), prior.tolist(), strict=True):
        if score > best.get(sentence, -np.inf):
            best[sentence] = score
    ranked = sorted(best, key=lambda s: -best[s])[:size]
    return np.asarray(ranked, dtype=np.int64), np.asarray([best[s] for s in ranked])


def read_shortlist(
    retriever: Retriever, reader: Reader, query: Query, pairs: Candidates, prior: np.ndarray
) -> Reading:
    """The reader's probabilities for the shortlisted sentences, each read with the sentence
    before it in its document as context."""
    data = retriever.data
    chosen, chosen_prior = shortlist(pairs, prior)
    texts = [
        candidate_text(data.sentence_text(int(s)), previous_sentence(retriever, int(s)))
        for s in chosen
    ]
    logits = reader.logits(query.reading, texts)
    scores = blend(logits, chosen_prior)
    return Reading(chosen, logits, reader.probabilities(scores), reader.probabilities(logits))


def with_spelled_out(
    retriever: Retriever, reading: Reading, abbreviation: str, pairs: Candidates
) -> Reading:
    """The reading with the candidate sentence that spells out `abbreviation` (if any) at
    SPELLED_OUT_CONFIDENCE or more."""
    spelled = next(
        (
            s
            for s in dict.fromkeys(pairs.sentences.tolist())
            if spells_out(retriever.data.sentence_text(s), abbreviation)
        ),
        None,
    )
    if spelled is None:
        return reading
    sentences, logits = reading.sentences, reading.logits
    probabilities, alone = reading.probabilities.copy(), reading.read_alone.copy()
    found = np.flatnonzero(sentences == spelled)
    if not len(found):
        sentences = np.append(sentences, spelled)
        logits, probabilities, alone = (np.append(a, 0.0) for a in (logits, probabilities, alone))
        found = np.array([len(sentences) - 1])
    at = int(found[0])
    probabilities[at] = max(probabilities[at], SPELLED_OUT_CONFIDENCE)
    alone[at] = max(alone[at], SPELLED_OUT_CONFIDENCE)
    return Reading(sentences, logits, probabilities, alone)


def blend(logits: np.ndarray, prior: np.ndarray, weight: float | None = None) -> np.ndarray:
    """The reader's logits, nudged by how far each sentence's prior trails the best one."""
    weight = PRIOR_BLEND if weight is None else weight
    return logits + weight * (prior - prior.max()) if len(prior) else logits


def previous_sentence(retriever: Retriever, sentence: int) -> str | None:
    """The sentence before, in the same document (across paragraphs: news paragraphs are
    often one sentence long, and the one before holds the subject)."""
    docs = retriever.data.sentences["doc"]
    if sentence > 0 and docs[sentence - 1] == docs[sentence]:
        return retriever.data.sentence_text(sentence - 1)
    return None


def analyse_question(retriever: Retriever, query: Query) -> Question:
    """The question's terms with their IDF, its term pairs and what kind of answer it wants."""
    text = query.reading
    return Question(
        query=query,
        weights={term: retriever.idf(term) for term in query.terms},
        bigrams=frozenset(itertools.pairwise(query.terms)),
        asks_number=bool(ASKS_NUMBER.search(text)),
        asks_time=bool(ASKS_TIME.search(text)),
        asks_name=bool(_ASKS_NAME.search(text)),
        words=frozenset(words(text)),
        unknown_names=unknown_names(text, retriever.document_frequency, retriever.vocabulary),
        abbreviation=asked_abbreviation(text),
        expected=expected(text),
    )


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


def _span_text(retriever: Retriever, span: tuple[int, int]) -> str:
    """The answer's sentences as they stand in the document, with the space between them."""
    data = retriever.data
    first, last = span
    doc = data.documents[int(data.sentences["doc"][first])]
    return doc.text[int(data.sentences["start"][first]) : int(data.sentences["end"][last])]


def _citations(
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
