"""The reader's verdict on the shortlist: its probabilities nudged by the prior, the sentence
that spells out an abbreviation, the consistency checks, and the neighbour joined to the best
sentence when it is nearly as likely."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.answering.acronyms import spells_out
from bot.answering.checks import Context, Expected, check, gives_kind
from bot.answering.prior import Candidates, shortlist
from bot.answering.reader import Reader
from bot.query import Query
from bot.retrieval import Hit, Retriever

# How much the prior counts next to the reader's logit: chosen by scripts/calibrate_reader.py
# (answer sentence right .740 on the reader alone, .776 blended, on its fit questions).
PRIOR_BLEND = 0.75
# A neighbour at least this share as likely as the best sentence joins the answer. A judgement
# call (not fitted): "nearly as likely" reads as "at least half as likely".
NEIGHBOUR_SHARE = 0.5
# A sentence that spells out the abbreviation asked about answers the question: of the SQuAD
# train and dev questions asking what an abbreviation stands for whose paragraph spells it
# out, the spelling sentence held the answer 176 times out of 176.
SPELLED_OUT_CONFIDENCE = 0.95
# Openings of a sentence that continues the one before it rather than starting afresh.
_CONTINUES = re.compile(
    r"(other|others|they|these|those|this|it|its|their|both|such|the (group|rest|others))\b",
    re.IGNORECASE,
)


# A sentence that opens with a pronoun leaves out who or what it is about; the sentence before
# it in the passage says.
_PRONOUN_FIRST = re.compile(r"(he|she|they|it|his|her|their|its)\b", re.IGNORECASE)


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
    def best_probability(self) -> float:
        return float(self.probabilities.max())


def runner_up(
    probabilities: np.ndarray, sentences: np.ndarray, documents: np.ndarray
) -> float | None:
    """The best probability among the sentences that rival the most probable one: all but it
    and its neighbours in its document (a neighbour nearly as likely continues the answer and
    joins it; see answer_sentences). None when there is no rival."""
    if not len(probabilities):
        return None
    top = int(np.argmax(probabilities))
    rival = (np.abs(sentences - sentences[top]) > 1) | (documents != documents[top])
    return float(probabilities[rival].max()) if rival.any() else None


def read_shortlist(
    retriever: Retriever, reader: Reader, query: Query, pairs: Candidates, prior: np.ndarray
) -> Reading:
    """The reader's probabilities for the shortlisted sentences, each read with the sentence
    before it in its document (and its article's title, for a reader trained so) as context."""
    chosen, chosen_prior = shortlist(pairs, prior)
    texts = [reader_candidate(retriever, reader, int(s)) for s in chosen]
    logits = reader.logits(query.reading, texts)
    scores = blend(logits, chosen_prior)
    return Reading(chosen, logits, reader.probabilities(scores), reader.probabilities(logits))


def blend(logits: np.ndarray, prior: np.ndarray, weight: float | None = None) -> np.ndarray:
    """The reader's logits, nudged by how far each sentence's prior trails the best one."""
    weight = PRIOR_BLEND if weight is None else weight
    return logits + weight * (prior - prior.max()) if len(prior) else logits


def reader_candidate(retriever: Retriever, reader: Reader, sentence: int) -> str:
    """What the reader reads of a sentence: the text in the form it was trained on."""
    data = retriever.data
    title = data.documents[int(data.sentences["doc"][sentence])].title
    return reader.candidate(
        data.sentence_text(sentence), previous_sentence(retriever, sentence), title
    )


def previous_sentence(retriever: Retriever, sentence: int) -> str | None:
    """The sentence before, in the same document (across paragraphs: news paragraphs are
    often one sentence long, and the one before holds the subject)."""
    docs = retriever.data.sentences["doc"]
    if sentence > 0 and docs[sentence - 1] == docs[sentence]:
        return retriever.data.sentence_text(sentence - 1)
    return None


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


def with_checks(
    retriever: Retriever, reading: Reading, wanted: Expected
) -> tuple[Reading, dict[int, tuple[str, ...]]]:
    """The reading with each shortlisted sentence's probability lowered by the consistency
    checks (`checks.py`), and the reasons by sentence. The kind of answer asked for is judged
    only when some shortlisted sentence gives it."""
    if not wanted:
        return reading, {}
    contexts = [sentence_context(retriever, s) for s in reading.sentences.tolist()]
    judge_kind = any(gives_kind(wanted, c.sentence) for c in contexts) if wanted.kind else False
    factors = np.ones(len(reading.sentences))
    reasons: dict[int, tuple[str, ...]] = {}
    for at, (sentence, context) in enumerate(
        zip(reading.sentences.tolist(), contexts, strict=True)
    ):
        verdict = check(wanted, context, judge_kind=judge_kind)
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
    floor = max(min_confidence, NEIGHBOUR_SHARE * reading.best_probability)
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
        if best > first and _PRONOUN_FIRST.match(retriever.data.sentence_text(best)):
            return best - 1, best  # "He won with 92,153 votes": who "he" is, too
        return best, best
    other = max(likely)[1]
    return min(best, other), max(best, other)
