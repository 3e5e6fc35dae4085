"""Consistency checks that cost nothing: what the question pins down against what the answer's
context says.

In a crowded corpus the reader can pick a fluent sentence from the wrong story: asked about
2021, a sentence about 2020 from another article; asked about the Chinese ambassador, the
American one's words. A year, a number, a place or a role the question names, that the answer
sentence and its neighbours contradict or lack, lowers the sentence's probability before the
answer is chosen, and the reply says why.

The kind of answer asked for is checked too: asked "how many" or "when", a sentence that gives
no number or no time beyond what the question already says cannot be the answer, however well
it restates the question (a news article's lead sentence often does).

The context of a sentence is the sentence, the sentences before and after it in its article,
the article's title and its publication year ("last year" in a 2020 article is 2019). Only what
every store holds per question is used (Milvus keeps passages, not whole articles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from bot.lexical import terms
from bot.names import place_words

# The penalties multiply the reader's probability. Chosen by `scripts/bench_crowded.py --tune`
# on the dev sets (seed dev and the crowded dev split), never on the held-out ones: a context
# that contradicts the question costs most; one that merely lacks it cost right answers as
# often as it saved some, so it costs nothing (and gives no caveat).
CONTRADICTED = 0.35  # the context names another year, or the role for another place
LACKING = 1.0  # the context does not say it
NOT_THE_KIND = 0.2  # the sentence gives no number (no time) to a "how many" ("when") question

# The questions whose answer must give a count or a time (narrower than the prior's: "how long"
# and "how far" are often answered in words, "what period" by a name).
_ASKS_COUNT = re.compile(
    r"\bhow (many|much|old)\b|\bwhat (percentage|percent|proportion|number|amount|share)\b",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(
    # "when" as the question word ("and since when?"), not as a conjunction ("...on when...").
    r"^\W*(?:(?:and|so|but|then)\W+)?(?:(?:since|until|till|by|from)\W+)?when\b"
    r"|\b(what|which|in what|on what) (year|date|day|month|decade|century)\b",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
# A time an answer can give: a date, a year, a weekday, a relative day, a season of a year.
_TIME_SAID = re.compile(
    rf"\b(?:{_MONTH}(?: \d{{1,2}}(?:st|nd|rd|th)?)?|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}"
    r"|1\d{3}s?|20\d{2}s?|(?:AD|BC|BCE|CE) \d{1,4}|\d{1,4} (?:AD|BC|BCE|CE)"
    r"|(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
    r"|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth"
    r"|eighteenth|nineteenth|twentieth|twenty-first) centur(?:y|ies)"
    r"|[Mm]onday|[Tt]uesday|[Ww]ednesday|[Tt]hursday|[Ff]riday|[Ss]aturday|[Ss]unday"
    r"|[Tt]oday|[Yy]esterday|[Tt]omorrow|[Tt]onight"
    r"|(?:[Ll]ast|[Nn]ext|[Tt]his|[Ee]arlier this|[Ll]ater this) (?:year|month|week|spring"
    r"|summer|autumn|fall|winter|decade|century|weekend|morning|night))\b"
    r"|\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(?:am|pm|a\.m\.|p\.m\.)|\b\d{4} ?(?:UTC|GMT|BST|CET|EST|EDT|PST)\b"
)
_BARE_YEAR = re.compile(r"\d{4}")
# A count or amount: digits standing alone ("COVID-19" is a name) or a number word. Years and
# days of the month are times, not counts.
_COUNT = re.compile(
    r"(?<![\w-])\d+(?:[.,]\d+)*(?![\w])"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|twice"
    r"|several|double|triple|quarter|thirds?|majority)\b|%",
    re.IGNORECASE,
)

_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z.’'-]*")
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000"}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
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
    kind: str | None = None  # "number" or "time": the kind of answer asked for
    said: tuple[str, ...] = ()  # the numbers and times the question itself says (lower case)

    def __bool__(self) -> bool:
        return bool(self.years or self.numbers or self.places or self.roles or self.kind)


@dataclass(frozen=True)
class Context:
    """What the answer's neighbourhood says: the sentence, its neighbours and its article's
    title, and the article's date."""

    near: str
    published: str  # ISO date, or ""
    sentence: str = ""  # the answer's sentence itself (the kind of answer must be in it)


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
    kind = (
        "number"
        if _ASKS_COUNT.search(question)
        else "time"
        if _ASKS_WHEN.search(question)
        else None
    )
    said = tuple(dict.fromkeys(_kind_said(question, kind))) if kind else ()
    return Expected(years, numbers, places, roles, kind, said)


def kind_spans(text: str, kind: str | None) -> list[tuple[int, int]]:
    """Where a text says a number (kind "number") or a time (kind "time"), as offsets. Days of
    the month and decades are times, not counts."""
    if kind == "time":
        return [m.span() for m in _TIME_SAID.finditer(text)]
    if kind == "number":
        # A bare four-digit number may be a year or a count ("more than 1000"): it counts.
        times = [m.span() for m in _TIME_SAID.finditer(text) if not _BARE_YEAR.fullmatch(m.group())]
        return [
            m.span()
            for m in _COUNT.finditer(text)
            if not any(start <= m.start() < end for start, end in times)
        ]
    return []


def _kind_said(text: str, kind: str | None) -> list[str]:
    """The numbers or times a text says, lower case (numbers without their commas)."""
    return [_plain(text[start:end]).lower() for start, end in kind_spans(text, kind)]


def gives_kind(wanted: Expected, sentence: str) -> bool:
    """Whether `sentence` gives a number (a time) beyond the question's, when one is asked for."""
    return any(x not in wanted.said for x in _kind_said(sentence, wanted.kind))


def check(wanted: Expected, context: Context, *, judge_kind: bool = True) -> Verdict:
    """How far the context bears out what the question pins down. `judge_kind`: False when no
    candidate gives the kind of answer asked for (a "when" answered by an event, "after the
    war"): then lacking it tells no candidate apart, and costs nothing."""
    if not wanted:
        return Verdict(1.0, ())
    found: list[tuple[float, str]] = []  # (factor, reason)
    if wanted.years:
        near_years = set(_YEAR.findall(context.near)) | _relative_years(
            context.near, context.published
        )
        missing = [y for y in wanted.years if y not in near_years]
        if missing and near_years:
            said = ", ".join(sorted(near_years))
            found.append(
                (CONTRADICTED, f"the answer's passage is about {said}, not {', '.join(missing)}")
            )
        elif missing:
            found.append((LACKING, f"the answer's passage does not mention {', '.join(missing)}"))
    if wanted.numbers:
        near_numbers = {_plain(n) for n in _NUMBER.findall(context.near)} | {
            _NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(context.near)
        }
        missing = [n for n in wanted.numbers if n not in near_numbers]
        if missing:
            found.append((LACKING, f"the answer's passage does not mention {', '.join(missing)}"))
    near_terms = set(terms(context.near))
    role_there = any(_role_stem(r) in near_terms for r in wanted.roles)
    if wanted.places:
        near_places = places_in(context.near)
        for place, written in wanted.places:
            if place in near_places:
                continue
            if role_there:  # the role is there, for someone else's country
                found.append((CONTRADICTED, f"the answer's passage is not about {written}"))
            else:
                found.append((LACKING, f"the answer's passage does not mention {written}"))
    missing_roles = [r for r in wanted.roles if _role_stem(r) not in near_terms]
    if missing_roles:
        found.append((LACKING, f"the answer's passage names no {', '.join(missing_roles)}"))
    if judge_kind and wanted.kind and context.sentence and not gives_kind(wanted, context.sentence):
        what = "number" if wanted.kind == "number" else "date or time"
        found.append((NOT_THE_KIND, f"the answer's sentence gives no {what}"))
    factor = 1.0
    for penalty, _ in found:
        factor *= penalty
    return Verdict(factor, tuple(reason for penalty, reason in found if penalty < 1.0))


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
