"""The short answer: inside the answer sentence, the number or the time a "how many" or "when"
question asks for ("at least **126,000** cases", "started on **December 22**").

No model: the candidates are the counts and times the sentence gives that the question does
not already say (bot/answering/checks.py finds them), grown over what belongs to them ("US$50
billion", "December 22, 2018"). When there are several, the one whose neighbourhood shares most
of the question's words wins ("80 deaths" for "how many deaths"), the first on a tie. Questions
of other kinds get no short answer: a rule for names would mark the wrong one too often.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answering.checks import Expected, kind_spans
from bot.lexical import terms

NEIGHBOURHOOD_WORDS = 3  # words either side of a candidate that count as its neighbourhood
# What a count or a time runs on over: "US$" before; "billion", ", 2018" and the like after.
_JOINS = re.compile(r"(?:,? |-)")
_CURRENCY = re.compile(r"(?:US\$|A\$|NZ\$|C\$|HK\$|[$£€¥])$")
_WORD = re.compile(r"[\w'’.-]+")


def short_answer(
    sentence: str, wanted: Expected, question_terms: Iterable[str]
) -> tuple[int, int] | None:
    """The offsets in `sentence` of what the question asks for, or None. `question_terms`: the
    question's terms (bot.lexical.terms)."""
    if wanted.kind is None:
        return None
    spans = _joined(sentence, kind_spans(sentence, wanted.kind))
    said = set(wanted.said)
    fresh = [s for s in spans if _said(sentence[slice(*s)]) not in said]
    if not fresh:
        return None
    asked = set(question_terms)
    return max(fresh, key=lambda span: _shared(sentence, span, asked))  # max keeps the first


def _joined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent spans ("50" "billion"; "December 22" "2018") as one, with a currency sign."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and _JOINS.fullmatch(text[joined[-1][1] : start]):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    grown = []
    for start, end in joined:
        currency = _CURRENCY.search(text[max(0, start - 3) : start])
        grown.append((start - len(currency.group()) if currency else start, end))
    return grown


def _shared(text: str, span: tuple[int, int], asked: set[str]) -> int:
    before = _WORD.findall(text[: span[0]])[-NEIGHBOURHOOD_WORDS:]
    after = _WORD.findall(text[span[1] :])[:NEIGHBOURHOOD_WORDS]
    return len(asked & set(terms(" ".join(before + after))))


def _said(text: str) -> str:
    return text.replace(",", "").lower()
