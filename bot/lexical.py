"""Word-level text processing shared by BM25 and answer scoring: tokens, stems, stopwords."""

from __future__ import annotations

import re
from functools import cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"[\w$£€%][\w'’.$£€%-]*[\w%]|[\w$£€%]", re.UNICODE)
# Question words carry no evidence about where the answer is.
_QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "does",
        "did",
        "do",
        "is",
        "are",
        "was",
        "were",
        "much",
        "many",
        "kind",
        "type",
        "name",
        "named",
        "called",
    ]
)
STOPWORDS = frozenset(STOPWORDS_EN) | _QUESTION_WORDS


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens; trailing dots of abbreviations and possessives removed."""
    found = []
    for token in _WORD.findall(text.lower()):
        token = token.rstrip(".").removesuffix("'s").removesuffix("’s")
        if token:
            found.append(token)
    return found


def terms(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what answer scoring matches on."""
    content = [w for w in words(text) if w not in STOPWORDS]
    return _stemmer().stemWords(content)
