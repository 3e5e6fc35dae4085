"""Consistency checks that cost nothing: what the question pins down against what the answer's
context says.

In a crowded corpus the reader can pick a fluent sentence from the wrong story: asked about
2021, a sentence about 2020 from another article; asked about the Chinese ambassador, the
American one's words. A year, a number, a place or a role the question names, that the answer
sentence and its neighbours contradict or lack, lowers the sentence's probability before the
answer is chosen, and the reply says why.

The context of a sentence is the sentence, the sentences before and after it in its article,
the article's title and its publication year ("last year" in a 2020 article is 2019).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from bot.lexical import terms
from bot.names import place_words

# The penalties multiply the reader's probability. Chosen on the dev sets (seed dev and the
# crowded dev split; see docs/benchmarks.md), never on the held-out ones.
CONTRADICTED = 0.35  # the context names another year, or the role for another place
LACKING = 0.75  # the context does not say it (the article may, elsewhere)
ABSENT_FROM_ARTICLE = 0.4  # the answer's whole article never names the place asked about

_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z.’'-]*")
_RELATIVE_YEAR = {
    "last year": -1,
    "previous year": -1,
    "this year": 0,
    "next year": 1,
}
ROLES = (
    "ambassador",
    "minister",
    "president",
    "chancellor",
    "premier",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "chairman",
    "chairwoman",
    "founder",
    "secretary",
    "senator",
    "governor",
    "mayor",
    "king",
    "queen",
    "judge",
    "commissioner",
    "ceo",
    "regulator",
    "envoy",
    "diplomat",
)
# Words for one place that share no stem: a country, its people, its capital, its short forms.
_PLACE_GROUPS = (
    ("america", "us", "u.s", "usa", "american", "americans", "washington", "states"),
    ("britain", "uk", "british", "britons", "england", "english", "london", "kingdom"),
    ("china", "chinese", "beijing", "prc"),
    ("zealand", "nz", "kiwi", "wellington"),
    ("europe", "eu", "european", "europeans", "brussels"),
    ("france", "french", "paris"),
    ("netherlands", "dutch", "holland"),
    ("spain", "spanish"),
    ("poland", "polish", "warsaw"),
    ("switzerland", "swiss"),
    ("denmark", "danish"),
    ("finland", "finnish"),
    ("sweden", "swedish", "stockholm"),
    ("norway", "norwegian"),
    ("ireland", "irish", "dublin"),
    ("greece", "greek"),
    ("philippines", "filipino"),
    ("thailand", "thai"),
    ("turkey", "turkish"),
    ("austria", "austrian", "vienna"),
    ("australia", "australian", "australians", "canberra"),
    ("canada", "canadian", "canadians", "ottawa"),
    ("germany", "german", "germans", "berlin"),
    ("japan", "japanese", "tokyo"),
    ("india", "indian", "delhi"),
    ("russia", "russian", "russians", "moscow", "kremlin"),
    ("korea", "korean", "seoul"),
    ("taiwan", "taiwanese", "taipei"),
    ("iran", "iranian", "tehran"),
)
# Words that name a place only in the company of another ("United States", "United Kingdom").
_ONLY_AFTER = {"states": "united", "kingdom": "united"}


@dataclass(frozen=True)
class Expected:
    """What a question pins down: years, other numbers, places and roles, as written."""

    years: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    places: tuple[tuple[str, str], ...] = ()  # (canonical place, word as written)
    roles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.years or self.numbers or self.places or self.roles)


@dataclass(frozen=True)
class Context:
    """What the answer's neighbourhood says: the sentence, its neighbours and its article."""

    near: str  # the sentence with the ones before and after it, and the article's title
    article: str  # the whole article
    published: str  # the article's date (ISO), or ""


@dataclass(frozen=True)
class Verdict:
    factor: float  # multiplies the sentence's probability
    reasons: tuple[str, ...]  # why, for the reply ("it is about 2020, not 2021")


def expected(question: str) -> Expected:
    """The years, numbers, places and roles a question names."""
    years = tuple(dict.fromkeys(_YEAR.findall(question)))
    numbers = tuple(
        dict.fromkeys(n for n in (_plain(n) for n in _NUMBER.findall(question)) if n not in years)
    )
    places = tuple(dict.fromkeys(places_in(question).items()))
    question_terms = set(terms(question))
    roles = tuple(r for r in ROLES if _role_stem(r) in question_terms)
    return Expected(years, numbers, places, roles)


def check(wanted: Expected, context: Context) -> Verdict:
    """How far the context bears out what the question pins down."""
    if not wanted:
        return Verdict(1.0, ())
    factor, reasons = 1.0, []
    if wanted.years:
        near_years = set(_YEAR.findall(context.near)) | _relative_years(
            context.near, context.published
        )
        missing = [y for y in wanted.years if y not in near_years]
        if missing and near_years:
            factor *= CONTRADICTED
            said = ", ".join(sorted(near_years))
            reasons.append(f"the answer's passage is about {said}, not {', '.join(missing)}")
        elif missing and not (
            set(missing) <= set(_YEAR.findall(context.article)) | {context.published[:4]}
        ):
            factor *= LACKING
            reasons.append(f"the answer's article does not mention {', '.join(missing)}")
    if wanted.numbers:
        near_numbers = {_plain(n) for n in _NUMBER.findall(context.near)}
        missing = [n for n in wanted.numbers if n not in near_numbers]
        if missing:
            factor *= LACKING
            reasons.append(f"the answer's passage does not mention {', '.join(missing)}")
    if wanted.places:
        near_places = places_in(context.near)
        article_places = places_in(context.article) if context.article else near_places
        for place, written in wanted.places:
            if place in near_places:
                continue
            if place not in article_places:
                factor *= ABSENT_FROM_ARTICLE
                reasons.append(f"the answer's article never mentions {written}")
            elif wanted.roles and any(_role_stem(r) in terms(context.near) for r in wanted.roles):
                factor *= CONTRADICTED  # the role is there, for someone else's country
                reasons.append(f"the answer's passage is not about {written}")
            else:
                factor *= LACKING
                reasons.append(f"the answer's passage does not mention {written}")
    if wanted.roles:
        near_terms = set(terms(context.near))
        missing = [r for r in wanted.roles if _role_stem(r) not in near_terms]
        if missing:
            factor *= LACKING
            reasons.append(f"the answer's passage names no {', '.join(missing)}")
    return Verdict(factor, tuple(reasons))


def places_in(text: str) -> dict[str, str]:
    """Places a text names, as {canonical place: word as written}. "US" counts in capitals
    only (lower case it is "us")."""
    found: dict[str, str] = {}
    previous = ""
    for match in _TOKEN.finditer(text):
        written = match.group().rstrip(".’'-").removesuffix("’s").removesuffix("'s")
        word = written.lower()
        if word == "us" and written not in ("US", "U.S"):
            previous = word
            continue
        if word in _ONLY_AFTER and previous != _ONLY_AFTER[word]:
            previous = word
            continue
        canonical = _canonical().get(word)
        if canonical is None and word in place_words():
            canonical = word[:5]
        if canonical is not None:
            found.setdefault(canonical, written)
        previous = word
    return found


@cache
def _canonical() -> dict[str, str]:
    table = {word: group[0] for group in _PLACE_GROUPS for word in group}
    for word in place_words():
        table.setdefault(word, word[:5])
    # A people and its country in places.txt share their first five letters or are grouped.
    return table


@cache
def _role_stem(role: str) -> str:
    return terms(role)[0]


def _plain(number: str) -> str:
    return number.replace(",", "")


def _relative_years(text: str, published: str) -> set[str]:
    try:
        year = date.fromisoformat(published[:10]).year
    except ValueError:
        return set()
    lowered = text.lower()
    return {str(year + step) for phrase, step in _RELATIVE_YEAR.items() if phrase in lowered}
