"""A question as people type it, read the way the corpus spells it.

Habits that cost answers: short forms ("NZ PM" for "New Zealand Prime Minister", "U.K." for
"UK"), a capital for its government ("Washington" where the articles say "the US"), question words typed short ("whos", "wat"), a name a letter off ("jacinda arden"), and a
missing question mark (the reader was trained on questions that end with one). `read_as`
returns the question with those fixed, for retrieval, the reader and the name checks; what the
user typed is still what the answer says was asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from bot.lexical import STOPWORDS, terms
from bot.names import place_words

# Short forms people type, with what articles write instead (first known one wins). Matched
# as written in capitals; those that are not English words match in lower case too.
SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "NZ": ("New Zealand",),
    "PM": ("Prime Minister",),
    "UK": ("United Kingdom", "Britain"),
    "GB": ("Great Britain", "Britain"),
    "US": ("United States", "America"),
    "USA": ("United States", "America"),
    "EU": ("European Union",),
    "UN": ("United Nations",),
    "CEO": ("chief executive",),
    "MP": ("member of parliament", "lawmaker"),
    "MPs": ("members of parliament", "lawmakers"),
    "govt": ("government",),
    "gov": ("government",),
    "intl": ("international",),
}
# A capital or an address standing for its government, as news writes and readers ask
# ("how did Washington react?"), with what the articles may say instead. Used only when the
# corpus never mentions the metonym itself and does mention what it stands for.
METONYMS: dict[str, tuple[str, ...]] = {
    "washington": ("United States", "US", "America"),
    "white house": ("United States", "US", "Trump"),
    "beijing": ("China", "Chinese government"),
    "moscow": ("Russia",),
    "kremlin": ("Russia",),
    "brussels": ("European Union", "EU"),
    "downing street": ("British government", "UK", "Britain"),
    "whitehall": ("British government", "UK", "Britain"),
    "westminster": ("UK Parliament", "Parliament"),
    "tehran": ("Iran",),
    "tokyo": ("Japan",),
    "ottawa": ("Canada",),
    "canberra": ("Australia",),
    "wellington": ("New Zealand",),
    "pyongyang": ("North Korea",),
    "seoul": ("South Korea",),
    "new delhi": ("India",),
    "berlin": ("Germany",),
    "paris": ("France",),
    "manila": ("Philippines",),
    "baghdad": ("Iraq",),
}
_METONYM = re.compile(
    r"\b(" + "|".join(sorted(METONYMS, key=len, reverse=True)) + r")(?=['’]s\b|\b)",
    re.IGNORECASE,
)
_LOWER_CASE_TOO = frozenset({"NZ", "PM", "UK", "EU", "USA", "CEO", "govt", "gov", "intl"})
# "U.K.", "W.H.O.": initials with dots, written as the corpus's tokens are ("UK", "WHO"). In
# lower case only those that are no English abbreviation ("e.g." stays).
_DOTTED = re.compile(r"(?<![\w.])((?:[A-Za-z]\.){2,4})(?!\w)")
_DOTTED_LOWER_CASE = frozenset({"u.s.", "u.k.", "u.n.", "e.u.", "n.z.", "u.s.a."})
# Question words as people type them in a hurry: without the apostrophe, or a letter off
# (too short for the corpus's own typo correction, and no corpus word to correct them to).
_TYPED_SHORT = {
    "whos": "who is",
    "whats": "what is",
    "wheres": "where is",
    "hows": "how is",
    "whens": "when is",
    "wat": "what",
    "wot": "what",
    "wut": "what",
    "wen": "when",
    "waht": "what",
    "whta": "what",
    "wht": "what",
    "wich": "which",
    "whcih": "which",
    "whihc": "which",
    "wehn": "when",
    "wher": "where",
    "whre": "where",
    "wehre": "where",
}
_TYPED_SHORT_WORD = re.compile(r"\b(" + "|".join(_TYPED_SHORT) + r")\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_END = re.compile(r"[\s.!?…]*$")
MIN_TYPO_LENGTH = 5  # shorter words have too many one-letter neighbours
MIN_WORD_TYPO_LENGTH = 6  # ... and English words of five letters too many English ones
# English words as the reader's tokenizer knows them whole (its WordPiece vocabulary).
ENGLISH_WORDS = Path(__file__).resolve().parent / "models" / "reader-tokenizer.json"


def read_as(question: str, known: Mapping[str, int]) -> str:
    """The question with short forms spelled out, near-miss words corrected to the corpus's
    spelling, and one question mark at the end. `known`: document frequency by stemmed term."""
    text = _typed_in_full(question)
    text = _spell_out(text, known)
    text = _metonyms_read(text, known)
    text = _correct_typos(text, known)
    return _END.sub("", text) + "?"


def read_as_in(question: str, term_counts: Callable[[set[str]], Mapping[str, int]]) -> str:
    """`read_as` for an index that looks terms up on demand (`term_counts(terms)`, e.g. one
    Milvus query): a first pass records every term it would look up, a second reads them."""
    asked = TermRecorder()
    read_as(question, asked)
    return read_as(question, term_counts(set(asked)))


class TermRecorder(dict):
    """A term -> document frequency lookup that knows no term and remembers which were asked
    (its keys): a first pass with it says what one look-up must fetch."""

    def get(self, key: str, default: int | None = None) -> int:  # type: ignore[override]
        self[key] = 0
        return 0


def _typed_in_full(text: str) -> str:
    """Dotted initials without their dots and question words typed short written out."""

    def undot(match: re.Match[str]) -> str:
        dotted = match.group(1)
        if dotted.isupper() or dotted in _DOTTED_LOWER_CASE:
            return dotted.replace(".", "").upper()
        return dotted

    def full(match: re.Match[str]) -> str:
        word = match.group()
        written = _TYPED_SHORT[word.lower()]
        return written.capitalize() if word[:1].isupper() else written

    return _TYPED_SHORT_WORD.sub(full, _DOTTED.sub(undot, text))


def _spell_out(text: str, known: Mapping[str, int]) -> str:
    """Replace a short form the corpus never uses by a long form it does."""

    def replace(match: re.Match[str]) -> str:
        word = match.group()
        short = word if word in SHORT_FORMS else word.upper()
        if short not in SHORT_FORMS or (word != short and short not in _LOWER_CASE_TOO):
            return word
        if word == "PM" and re.search(r"\d\s*$", text[: match.start()]):
            return word  # "5 PM"
        if not terms(short) or _all_known(short, known):
            return word  # the corpus writes it this way too, or it is a stopword ("US")
        for long in SHORT_FORMS[short]:
            if _all_known(long, known):
                return long
        return word

    return re.sub(r"\b[A-Za-z]{2,5}s?\b", replace, text)


def _metonyms_read(text: str, known: Mapping[str, int]) -> str:
    """Replace a capital standing for its government ("Washington") by what the corpus says
    ("United States"), when the corpus never mentions the capital itself."""

    def replace(match: re.Match[str]) -> str:
        word = match.group()
        if _all_known(word, known):
            return word  # the corpus has it: Baghdad the city, the Paris Agreement
        for meant in METONYMS[word.lower()]:
            if _all_known(meant, known):
                return meant
        return word

    return _METONYM.sub(replace, text)


def _all_known(text: str, known: Mapping[str, int]) -> bool:
    counts = [known.get(t, 0) for t in terms(text)]  # every term looked up (see read_as_in)
    return bool(counts) and all(c > 0 for c in counts)


def _correct_typos(text: str, known: Mapping[str, int]) -> str:
    """Words the corpus never uses but one letter away from exactly one word it does
    ("arden" -> "ardern"). Place words are left alone: "germany" is not a typo of "german"."""

    def replace(match: re.Match[str]) -> str:
        word = match.group()
        lower = word.lower()
        if len(lower) < MIN_TYPO_LENGTH or lower in STOPWORDS or lower in place_words():
            return word
        stems = terms(lower)
        # One that begins a hyphenated word of the corpus ("covid" of "covid-19") is no typo.
        if not stems or known.get(stems[0], 0) > 0 or known.get(lower + "-", 0) > 0:
            return word
        if stems != [lower]:
            # A word the stemmer shortens is an English word ("fined": not "fired"), unless it
            # is no word of English ("natonal", "artcle"): then the one English word one letter
            # off whose stem the corpus has is what was meant ("national", "article").
            if len(lower) < MIN_WORD_TYPO_LENGTH or lower in english_words():
                return word
            fixes = {
                edit: stem[0]
                for edit in _one_letter_edits(lower)
                if edit in english_words()  # not "senatance" for "sentance": no word
                and len(stem := terms(edit)) == 1
                and known.get(stem[0], 0) > 0
            }
            if len(set(fixes.values())) != 1:
                return word
            fixed = min(fixes)
        else:
            found = {e for e in _one_letter_edits(lower) if known.get(e, 0) > 0 and e != lower}
            # Only a word that is its own stem can be written back as a word (names usually
            # are).
            fixes = {f: f for f in found if terms(f) == [f]}
            if len(fixes) != 1:
                return word
            (fixed,) = fixes
        return fixed.capitalize() if word[:1].isupper() else fixed

    return _WORD.sub(replace, text)


@cache
def english_words() -> frozenset[str]:
    """Lower-case English words: the whole words of the reader's tokenizer vocabulary."""
    vocabulary = json.loads(ENGLISH_WORDS.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocabulary if w.isalpha() and w.islower())


def _one_letter_edits(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }
