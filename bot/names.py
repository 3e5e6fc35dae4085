"""Names in a question that the corpus never mentions ("Did Germany ban Huawei?" asked of an
article that names no Germany): evidence that the corpus is about something else."""

from __future__ import annotations

import bisect
import calendar
import itertools
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from bot.lexical import terms

_QUESTION_WORD = re.compile(r"[\w'’.&-]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.txt"
# Months say when, not what: "news from January 2024" asks for the articles published then,
# whether or not a text says "January".
MONTH_WORDS = frozenset(
    name.lower() for name in (*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept")
)


def unknown_names(
    text: str, known: Mapping[str, int], vocabulary: Sequence[str]
) -> tuple[str, ...]:
    """Runs of capitalised words in the question ("Tim Cook", "iPhone") none of which the
    corpus has (`known`: document frequency by stemmed term; `vocabulary`: those terms, sorted).
    Names of countries and their peoples count in lower case too ("did germany ban huawei?"):
    people type questions in lower case, and those are the names news questions turn on.

    A run with one known word ("Ryan Dign", "British MPs") does not count: it may be a typo or
    another name for something the corpus has. A sentence's first word counts only with a
    capital inside ("NCSC"); all-capitals questions are not checked."""
    if not any(c.islower() for c in text):
        return ()
    runs: list[list[tuple[str, bool]]] = [[]]
    gap_end = 0
    for match in _QUESTION_WORD.finditer(text):
        gap, gap_end = text[gap_end : match.start()], match.end()
        if gap.strip():  # punctuation between two words ends a run
            runs.append([])
        word = match.group().strip(".'’-")
        # A sentence's first word is capitalised anyway: it counts only with a capital inside.
        starts_sentence = not text[: match.start()].strip() or gap.strip()[-1:] in (".", "?", "!")
        name_like = word.lower() in place_words() or any(
            c.isupper() for c in (word[1:] if starts_sentence else word)
        )
        # "ABS-CBN" is known when the corpus has it whole, "Chinese-built" when it has a part.
        parts = [stem for part in word.split("-") for stem in terms(part)]
        stems = list(dict.fromkeys(terms(word) + parts))  # each looked up once
        if not name_like or len(word) < 2 or not stems or word.lower() in MONTH_WORDS:
            runs.append([])
            continue
        unseen = all(not in_corpus(stem, known, vocabulary) for stem in stems)
        runs[-1].append((word, unseen))
    return tuple(
        " ".join(word for word, _ in run) for run in runs if run and all(u for _, u in run)
    )


@cache
def place_words() -> frozenset[str]:
    """Countries, their peoples and continents, lower case (`bot/data/places.txt`)."""
    lines = _PLACES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def has_prefix(vocabulary: Sequence[str], prefix: str) -> bool:
    """Whether some term of the sorted `vocabulary` starts with `prefix`."""
    at = bisect.bisect_left(vocabulary, prefix)
    return at < len(vocabulary) and vocabulary[at].startswith(prefix)


def in_corpus(stem: str, known: Mapping[str, int], vocabulary: Sequence[str]) -> bool:
    """Whether the corpus has this term, a term one typo away, or one sharing all but its last
    two letters ("europ" and "european", "china" and "chines"): for terms of 5+ letters."""
    if known.get(stem, 0) > 0:
        return True
    if len(stem) < 5:
        return False
    if has_prefix(vocabulary, stem[: max(4, len(stem) - 2)]):
        return True
    splits = [(stem[:i], stem[i:]) for i in range(len(stem) + 1)]
    edits = itertools.chain(
        (a + b[1:] for a, b in splits if b),
        (a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        (a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        (a + c + b for a, b in splits for c in _LETTERS),
    )
    return any(known.get(edit, 0) > 0 for edit in edits)
