"""Overview questions: "tell me about X", "what's the latest on X", "news from May 2020".

Someone asking a news bot for an overview wants the story, not one fact from it. The answer is
the lead of the article most about X (the newest such article when they ask for the latest),
and the other articles about X are cited after it, with their dates, so the reader sees which
stories the corpus holds. An article is about X when X's words, weighted by how rare they are
(IDF), are in its title and lead: ABOUT_MIN of their weight at least. When no retrieved
article is, the question is answered like any other (a factoid reader's pick, or "the corpus
does not say").

A period with a year ("in October 2019", period.py) keeps the articles published then. With
no topic ("what's the latest news?") the answer is the newest article's lead.

The lead is the article's first sentence (its second, when the first is a standfirst with no
full stop). The Milvus store fetches only the question's passages, so there it is the first
sentence of the article's earliest retrieved passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from bot.answering.period import asked_period
from bot.filters import SearchFilter
from bot.lexical import terms
from bot.retrieval import Hit, Retriever

if TYPE_CHECKING:  # answer.py imports this module
    from bot.answering.answer import Answer

# The share of the topic's IDF weight an article's title and lead must hold to be about it.
# On tests/data/overview_dev.jsonl the articles asked about hold all of it and the best
# article for an unanswerable topic 0.45, so any value in (0.45, 1] gives the same dev figures;
# 0.6 lets one minor word of the topic be missing (scripts/bench_crowded.py reports dev, test).
ABOUT_MIN = 0.6
# An overview weighs this many retrieved passages (the reader reads far fewer for a factoid
# question): the newest article about a topic may rank low among its passages.
OVERVIEW_CANDIDATES = 60
COMPOUND_MIN = 5  # the shortest topic word found at the end of a compound ("airstrike")
LEAD_SENTENCES = 3  # the lead that "about" reads: the article's first sentences
# "The latest on X" is looked for again among the articles published after the one found, at
# most this many times: the newest article about a topic may rank below the passages weighed.
NEWER_ROUNDS = 3
# How sure an overview is: the share of the topic's weight in the chosen article's title and
# lead, times how often an overview is right. On the dev set 11 of 11 were; the rule of
# succession makes that 12/13, and we round down to 0.9.
OVERVIEW_PRECISION = 0.9

_POLITE = r"(?:(?:please|pls|ok|okay|so|and|hey|hi|hello)[,!]?\s+)*"
_ASKS = (
    r"(?:(?:can|could|would) you (?:please )?)?(?:tell|brief|update|fill) (?:me|us) (?:in )?"
    r"(?:more )?(?:on|about|of|regarding|with)",
    r"(?:catch|bring|get) (?:me|us) up(?: to speed)? (?:on|with)",
    r"what(?:['’]?s| is) the deal with",
    r"(?:give me |show me |i want |i['’]d like )?(?:an? |the |some |any )?(?:latest |recent |new )?"
    r"(?:overview|summary|rundown|run-down|recap|briefing|update|updates|news|headlines"
    r"|background|developments)(?: on| of| about| regarding| for| from| in| with| re)",
    r"(?:summari[sz]e|recap|sum up)",
    r"(?:the )?(?:latest|newest)(?: on| about| from| in| with| regarding)",
    r"what(?:['’]?s| is| are)? (?:the )?(?:most recent|latest|newest|news|new|happening|going on|up)"
    r"(?: news| updates?| developments?| stories)?(?: on| about| with| in| regarding| for| from| at)",
    r"what do (?:you|we) know (?:about|of|on)",
    r"what(?:['’]?s| is) (?:the )?story (?:with|on|about|behind)",
)
_OVERVIEW = re.compile(
    rf"^{_POLITE}(?P<asks>{'|'.join(_ASKS)})\s+(?P<topic>.+?)\s*[?.!]*$", re.IGNORECASE
)
# All the news, no topic: "what's the latest news?", "any news?", "headlines", "what's new?"
_ALL_THE_NEWS = re.compile(
    rf"^{_POLITE}(?:(?:what|whats|what['’]s|what is|what are|any|the|show me|give me)\s+)?"
    r"(?:the\s+)?(?:(?:latest|newest|recent|top|new|today['’]?s?)\s+)?"
    r"(?:news|headlines|stories|updates?|new|latest|happening|going on)"
    r"(?:\s+(?:today|now|please))?\s*[?.!]*$",
    re.IGNORECASE,
)
# The topic before the news: "latest brexit news", "any covid news?", "hong kong updates"
_TOPIC_NEWS = re.compile(
    rf"^{_POLITE}(?:(?:what|whats|what['’]s|what is|what are|any|show me|give me)\s+)?"
    r"(?:the\s+)?(?P<asks>(?:latest|newest|recent|top|new|today['’]?s?)\s+)?"
    r"(?P<topic>(?!(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|did|does|do"
    r"|can|could|will|would|should|has|have|had)\b)\S+(?:\s+\S+){0,3}?)"
    r"\s+(?:news|updates|headlines|stories)(?:\s+(?:today|now|please))?\s*[?.!]*$",
    re.IGNORECASE,
)
# With a period only: "what happened in Hong Kong in October 2019?", "what happened on ...?"
_WHAT_HAPPENED = re.compile(
    r"^what (?:happened|was (?:in )?the news|were the headlines)"
    r"(?:\s+(?:in|to|with|at|on|about)\s+(?P<topic>.+?))?\s*[?.!]*$",
    re.IGNORECASE,
)
_LATEST = re.compile(
    r"\b(latest|newest|recent|recently|new|update|updates|going on|happening|up|now|current"
    r"|any)\b",
    re.IGNORECASE,
)
# Words of a topic that say "the story" rather than what it is about.
_FILLER = frozenset(
    terms(
        "story stories news latest update updates situation saga affair stuff thing things "
        "developments happenings whole everything anything any some today todays now please"
    )
)
_ENDS_SENTENCE = re.compile(r"""[.!?]["'”’)]*\s*$""")


@dataclass(frozen=True)
class Overview:
    """An overview question: what it is about ("" for all the news), whether it asks for the
    latest, and the publication dates it names (period.py)."""

    topic: str  # as the user wrote it: "the soleimani strike"
    latest: bool
    since: date | None = None
    until: date | None = None


def asked_overview(text: str) -> Overview | None:
    """The overview the question asks for, or None for any other question."""
    text = " ".join(text.split())
    period = asked_period(text)
    rest = period.rest if period else text
    since, until = (period.since, period.until) if period else (None, None)
    found = _OVERVIEW.match(rest)
    if found is not None and topic_terms(found.group("topic")):
        return Overview(
            found.group("topic"), bool(_LATEST.search(found.group("asks"))), since, until
        )
    found = _TOPIC_NEWS.match(rest)
    if found is not None and topic_terms(found.group("topic")):
        latest = bool(found.group("asks")) or rest.lower().startswith("any")
        return Overview(found.group("topic"), latest, since, until)
    happened = _WHAT_HAPPENED.match(rest) if period else None
    if happened is not None and topic_terms(happened.group("topic") or ""):
        return Overview(happened.group("topic"), False, since, until)
    if happened is not None or _ALL_THE_NEWS.match(rest):
        return Overview("", True, since, until)
    return None


def search_filter_for(
    overview: Overview, search_filter: SearchFilter | None, newest: Callable[[], date | None]
) -> SearchFilter | None:
    """`search_filter` narrowed to the overview's period; for all the latest news with no
    period, to the day of the newest article (`newest()`)."""
    since, until = overview.since, overview.until
    if since is None and not overview.topic and not (search_filter and search_filter.source):
        since = until = newest()  # with an outlet, its newest articles are among those found
    if since is None:
        return search_filter
    return (search_filter or SearchFilter()).within(since, until)


def topic_terms(topic: str) -> list[str]:
    """The topic's stemmed content words, without words like "story" or "news"."""
    return [t for t in dict.fromkeys(terms(topic)) if t not in _FILLER]


@dataclass(frozen=True)
class Story:
    """One retrieved article, as an overview weighs it."""

    doc: int
    about: float  # share of the topic's IDF weight in its title and lead
    rank: int  # position of its best passage among the hits
    published: str
    lead_chunk: int


def stories(retriever: Retriever, hits: list[Hit], topic: list[str]) -> list[Story]:
    """The articles of the hits, each with how much it is about the topic."""
    data = retriever.data
    weights = {t: retriever.idf(t) for t in topic}
    total = sum(weights.values())
    found: dict[int, Story] = {}
    for rank, hit in enumerate(hits):
        doc = int(data.chunks["doc"][hit.chunk])
        if doc in found or (topic and total <= 0):
            continue
        lead_chunk = _lead_chunk(retriever, doc)
        first = int(data.chunks["first"][lead_chunk])
        read = set(terms(data.documents[doc].title))
        for sentence in range(first, first + LEAD_SENTENCES):
            if sentence < len(data.sentences["doc"]) and data.sentences["doc"][sentence] == doc:
                read |= retriever.sentence_terms(sentence)
        hyphenated = [word for word in read if "-" in word]
        read |= {part for word in hyphenated for part in word.split("-")}  # covid-19
        read |= {word.replace("-", "") for word in hyphenated}  # "take-down" is "takedown"
        about = sum(w for t, w in weights.items() if _read_in(t, read)) / total if topic else 1.0
        found[doc] = Story(doc, about, rank, data.documents[doc].published, lead_chunk)
    return list(found.values())


def _read_in(term: str, read: set[str]) -> bool:
    """Whether the term is among the words read, alone or ending a compound ("strike" in
    "airstrike"; only stems of COMPOUND_MIN letters or more, so "rain" is not in "train")."""
    if term in read or term.replace("-", "") in read:
        return True
    tail = term.removesuffix("e")  # stems keep or drop a final e: strike, airstrik
    return len(tail) >= COMPOUND_MIN and any(
        w.endswith(tail) for w in read if len(w) > len(tail) + 2
    )


def _lead_chunk(retriever: Retriever, doc: int) -> int:
    """The article's first passage that the retriever holds (its lead, in a FAISS index)."""
    chunks = retriever.data.chunks
    own = np.flatnonzero(chunks["doc"] == doc)
    return int(own[np.argmin(chunks["start"][own])])


def chosen(found: list[Story], latest: bool) -> list[Story]:
    """The stories about the topic, the one to answer with first: the most about it (the
    newest of those when the latest is asked for), then by retrieval rank."""
    about = [s for s in found if s.about >= ABOUT_MIN]
    if latest:
        return sorted(about, key=lambda s: (s.published, s.about, -s.rank), reverse=True)
    return sorted(about, key=lambda s: (-s.about, s.rank))


def lead_sentence(retriever: Retriever, story: Story) -> tuple[int, int]:
    """The lead as (sentence, the passage holding it): the article's first sentence, or the
    second when the first is a standfirst with no full stop ("Huawei faces pressure over
    claims...") and the second is at hand."""
    data = retriever.data
    first = int(data.chunks["first"][story.lead_chunk])
    second = first + 1
    if (
        _ENDS_SENTENCE.search(data.sentence_text(first))
        or second >= len(data.sentences["doc"])
        or data.sentences["doc"][second] != story.doc
    ):
        return first, story.lead_chunk
    chunks = data.chunks
    holding = np.flatnonzero(
        (chunks["doc"] == story.doc) & (chunks["first"] <= second) & (second < chunks["last"])
    )
    return (second, int(holding[0])) if len(holding) else (first, story.lead_chunk)


def lead_hit(retriever: Retriever, story: Story, hits: list[Hit]) -> Hit:
    """The hit for the story's lead passage; one with the scores of the story's best passage
    when the lead was not retrieved."""
    chunk = lead_sentence(retriever, story)[1]
    for hit in hits:
        if hit.chunk == chunk:
            return hit
    return replace(hits[story.rank], chunk=chunk)


def newest_story(answer: Answer, answer_since: Callable[[date], Answer], top_k: int) -> Answer:
    """The latest on a topic: while an article about it was published after the answer's,
    the lead of the newest such one (`answer_since(day)` answers among the articles published
    from `day` on). The earlier stories stay cited after it."""
    for _ in range(NEWER_ROUNDS):
        if answer.answered_as != "overview" or not answer.citations:
            break
        published = answer.citations[0].published
        try:
            day = date.fromisoformat(published[:10])
        except ValueError:
            break
        newer = answer_since(day + timedelta(days=1))
        if newer.answered_as != "overview":
            break
        shown = {c.doc_id for c in newer.citations}
        cited = newer.citations + [c for c in answer.citations if c.doc_id not in shown]
        answer = replace(
            newer,
            citations=[replace(c, rank=rank) for rank, c in enumerate(cited[:top_k], start=1)],
        )
    return answer
