"""From retrieved passages to an answer: a trained reader picks the sentence and says how sure.

1. Retrieval (`bot/retrieval.py`, hybrid by default) proposes passages.
2. Every sentence of those passages gets a cheap prior (`prior.py`): a linear model over
   wording and retrieval evidence (how much of the question's wording it and its neighbours
   cover, how the retrievers ranked its passage, whether it has the kind of thing asked for).
   The weights are fitted on SQuAD v1.1 train by scripts/calibrate_reader.py.
3. The best READER_SHORTLIST sentences go to the reader (`reader.py`), a cross-encoder that
   reads the question with each sentence and the sentence before it (and the article's title,
   for a reader trained with it). Its score, nudged by the prior (PRIOR_BLEND), picks the
   answer; calibrated, it is each sentence's probability (`reading.py`). The answer's
   confidence reads that probability with its lead over the likeliest rival sentence.
4. When the sentence next to the best one in the same passage is nearly as likely (at least
   NEIGHBOUR_SHARE of its probability), both are the answer: "New Zealand is a member of the
   Five Eyes... Other members of the group are the UK, US, Australia and Canada."
5. A question asking what an abbreviation stands for ("What does NCSC stand for?") is
   answered by the candidate sentence that spells it out ("...Cyber Security Centre (NCSC)..."),
   when there is one (`acronyms.py`), with SPELLED_OUT_CONFIDENCE.
6. A year, number, place or role the question names that a sentence's context contradicts
   or lacks, or a "how many" ("when") question put to a sentence that gives no number (no
   time), lowers that sentence's probability before the answer is chosen (`checks.py`); the
   reasons for the chosen one are `Answer.caveats`. An answer that is its article's opening
   sentence is less sure (LEAD_CONFIDENCE): a news lead restates the story, so it reads as an
   answer to any question on it.
7. Below `min_confidence` the bot abstains, and still cites the closest passages. When the
   question names something the corpus never mentions ("Did Germany ban Huawei?" over an
   article that names no Germany), the bar is higher: UNKNOWN_NAME_MIN_CONFIDENCE. Such names
   are listed in `Answer.unknown_names`; why it abstained is `Answer.abstain_reason`.
8. The passages are cited in the order of the reader's verdict, the answer's offsets marked
   inside the one that holds it (`cite.py`).

An overview question ("tell me about X", "what's the latest on X") skips steps 2 to 7 when a
retrieved article is about X: the answer is that article's lead (`overview.py`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.answering.cite import Citation, citations, passage_order, span_text
from bot.answering.overview import (
    OVERVIEW_CANDIDATES,
    OVERVIEW_PRECISION,
    Overview,
    chosen,
    lead_hit,
    lead_sentence,
    stories,
    topic_terms,
)
from bot.answering.prior import candidate_features, prior_scores
from bot.answering.question import analyse_question
from bot.answering.reader import Reader
from bot.answering.reading import (
    answer_sentences,
    read_shortlist,
    runner_up,
    with_checks,
    with_spelled_out,
)
from bot.answering.short import short_answer
from bot.query import Query
from bot.retrieval import Hit, Retriever

# A question naming something no indexed text contains is answered only when the answer is
# more likely right than not: that name is evidence the corpus is about something else, but
# not proof ("Washington" for the US, "MPs" for lawmakers). Not fitted.
UNKNOWN_NAME_MIN_CONFIDENCE = 0.5
# A fact answered by its article's opening sentence is right far less often than by any other
# sentence: a news lead restates what the story is about, so it reads as an answer to any
# question on it ("why did Carrie Lam withdraw the bill?" answered by the lead announcing the
# withdrawal). On the dev sets (seed dev, crowded dev, fresh dev) such answers were right 8
# times in 27, others 86 in 128; their confidence is scaled by this factor, chosen there
# (0.2 to 1.0; fewest confidently wrong answers plus false abstentions). The chosen sentence
# does not change (choosing another made held-out answers worse). Not for an overview, nor
# for "what happened to X?" or "what does NCSC stand for?", which a lead may well answer.
LEAD_CONFIDENCE = 0.4
LEAD_CAVEAT = "the sentence found opens its article, and an opening often only restates the story"
NO_PASSAGE = "no passage matches"  # why it abstains when retrieval found nothing at all


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
    # Why the confidence of the answer's sentence was lowered (checks.py).
    caveats: list[str] = field(default_factory=list)
    # The number or time asked for inside `answer` (offsets into it), for "how many" and "when"
    # questions (short.py); None otherwise.
    answer_span: tuple[int, int] | None = None
    # How the answer was found: "fact" (the reader's pick), "overview" (the lead of the article
    # about what was asked, overview.py) or "more" (the sentences after the last answer).
    answered_as: str = "fact"

    def to_json(self) -> dict[str, Any]:
        """The scripting contract of `newsbot ask --json` (see README)."""
        return asdict(self)


def answer_question(
    retriever: Retriever,
    reader: Reader,
    query: Query,
    *,
    mode: str,
    top_k: int,
    candidates: int,
    min_confidence: float,
    overview: Overview | None = None,
    overview_only: bool = False,
) -> Answer:
    """Retrieve, let the reader pick the answer sentence, cite, and decide whether to abstain.
    An `overview` question is answered by the lead of the article most about its topic, when
    a retrieved article is about it (overview.py); `overview_only`: else not at all."""
    hits = retriever.search(query, mode, max(candidates, OVERVIEW_CANDIDATES if overview else 0))
    if not hits:
        reason = NO_PASSAGE
        if overview is not None and overview.since is not None:
            reason = f"no article published from {overview.since} to {overview.until} matches"
        return Answer(query.text, None, True, 0.0, [], abstain_reason=reason)
    asked = analyse_question(retriever, query)
    if overview is not None and not asked.unknown_names:
        found = overview_answer(retriever, query, hits, overview, top_k)
        if found is not None:
            return found
    if overview_only:
        return Answer(query.text, None, True, 0.0, [], abstain_reason="no article is about it")
    hits = hits[:candidates]
    pairs = candidate_features(retriever, asked, hits)
    prior = prior_scores(pairs)
    reading = read_shortlist(retriever, reader, query, pairs, prior)
    if asked.abbreviation:
        reading = with_spelled_out(retriever, reading, asked.abbreviation, pairs)
    reading, caveats = with_checks(retriever, reading, asked.expected)
    documents = retriever.data.sentences["doc"][reading.sentences]
    rival = runner_up(reading.probabilities, reading.sentences, documents)
    confidence = reader.answer_confidence(reading.best_probability, rival)
    best_caveats = list(caveats.get(reading.best, ()))
    if (
        overview is None
        and not (asked.abbreviation or asked.asks_event)
        and opens_its_article(retriever, reading.best)
    ):
        confidence *= LEAD_CONFIDENCE
        best_caveats.append(LEAD_CAVEAT)
    bar = (
        max(min_confidence, UNKNOWN_NAME_MIN_CONFIDENCE) if asked.unknown_names else min_confidence
    )
    abstained = confidence < bar
    passages = passage_order(hits, pairs, prior, reading)
    span = None if abstained else answer_sentences(retriever, reading, min_confidence, passages[0])
    cited = citations(retriever, passages, top_k, span)
    reason = None
    if abstained:
        if asked.unknown_names:
            reason = f"it never mentions {' or '.join(asked.unknown_names)}"
        else:
            reason = f"not confident enough: {_below(confidence, bar)}"
            if asked.questions > 1:  # several questions pasted at once read as one
                reason += f"; it asks {asked.questions} questions at once: ask them one at a time"
            elif best_caveats:
                reason += f"; {best_caveats[0]}"
    text = None if span is None else span_text(retriever, span)
    return Answer(
        question=query.text,
        answer=text,
        abstained=abstained,
        confidence=round(confidence, 4),
        citations=cited,
        unknown_names=list(asked.unknown_names),
        abstain_reason=reason,
        caveats=[] if abstained else best_caveats,
        answer_span=None if text is None else short_answer(text, asked.expected, query.terms),
    )


def overview_answer(
    retriever: Retriever, query: Query, hits: list[Hit], overview: Overview, top_k: int
) -> Answer | None:
    """The lead of the retrieved article most about the overview's topic (the newest, when
    the latest is asked for), the other articles about it cited after it; None when no
    retrieved article is about the topic."""
    about = chosen(stories(retriever, hits, topic_terms(overview.topic)), overview.latest)
    if not about:
        return None
    lead = lead_sentence(retriever, about[0])[0]
    leads = [lead_hit(retriever, story, hits) for story in about]
    cited = citations(retriever, leads + hits, top_k, (lead, lead))
    return Answer(
        question=query.text,
        answer=span_text(retriever, (lead, lead)),
        abstained=False,
        confidence=round(OVERVIEW_PRECISION * about[0].about, 4),
        citations=cited,
        answered_as="overview",
    )


def opens_its_article(retriever: Retriever, sentence: int) -> bool:
    """Whether `sentence` is the first of its document."""
    docs = retriever.data.sentences["doc"]
    return sentence == 0 or bool(docs[sentence - 1] != docs[sentence])


def _below(confidence: float, threshold: float) -> str:
    """`0.497 < 0.5`: the confidence cut (not rounded) to 3 decimals, so it never reads as the
    threshold it fell short of."""
    shown = math.floor(confidence * 1000) / 1000
    return f"{shown:.3f} < {threshold:g}"
