"""What a question asks: its terms and their weights, and the kind of answer it wants."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.answering.acronyms import asked_abbreviation
from bot.answering.checks import Expected, expected
from bot.lexical import words
from bot.names import unknown_names
from bot.query import Query
from bot.retrieval import Retriever

# What kind of answer the prior looks for (its weights were fitted with these patterns).
_ASKS_NUMBER = re.compile(
    r"\bhow (many|much|long|old|far|big|large|often|tall|high|deep|wide)\b|"
    r"\bwhat (percentage|percent|proportion|number|amount|size|share)\b",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"\bwhen\b|\b(what|which|in what|on what) (year|date|day|month|time|decade|century|period)\b",
    re.IGNORECASE,
)
_ASKS_NAME = re.compile(r"\b(who|whom|whose|which|what (is|was) the name)\b", re.IGNORECASE)
# "What happened to Qasem Soleimani?": the event itself, which is what a story's lead reports.
_ASKS_EVENT = re.compile(
    r"^\W*(so\s+)?what(\s*'s|\s+is|\s+was|\s+has)?\s+(happened|happening|going on|new)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    """What prior scoring needs to know about the question itself."""

    query: Query
    weights: dict[str, float]  # IDF of each distinct content term in the corpus
    bigrams: frozenset[tuple[str, str]]
    asks_number: bool
    asks_time: bool
    asks_name: bool
    asks_event: bool  # "what happened to X?", "what's going on with X?"
    words: frozenset[str]  # lower-cased words of the question (to spot new names)
    unknown_names: tuple[str, ...]  # names in the question that no indexed text contains
    abbreviation: str | None  # the abbreviation whose meaning it asks for ("NCSC"), if any
    expected: Expected  # the years, numbers, places and roles it names (bot/answering/checks.py)
    questions: int = 1  # how many questions the text asks ("Who is X? What did he say?": 2)


def analyse_question(retriever: Retriever, query: Query) -> Question:
    """The question's terms with their IDF, its term pairs and what kind of answer it wants."""
    text = query.reading
    return Question(
        query=query,
        weights={term: retriever.idf(term) for term in query.terms},
        bigrams=frozenset(itertools.pairwise(query.terms)),
        asks_number=bool(_ASKS_NUMBER.search(text)),
        asks_time=bool(_ASKS_TIME.search(text)),
        asks_name=bool(_ASKS_NAME.search(text)),
        asks_event=bool(_ASKS_EVENT.search(text)),
        words=frozenset(words(text)),
        unknown_names=unknown_names(text, retriever.document_frequency, retriever.vocabulary),
        abbreviation=asked_abbreviation(text),
        expected=expected(text),
        questions=questions_asked(query.text),
    )


def questions_asked(text: str) -> int:
    """How many questions `text` asks: its parts ending in a question mark that have two words
    or more ("Who is Ryan Ding? What did he promise?": 2; "Huawei? Is it safe?": 1)."""
    parts = re.findall(r"[^?]+\?", text)
    return max(1, sum(len(part.split()) >= 2 for part in parts))
