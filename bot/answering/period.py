"""The period an overview question names: "in October 2019", "from 2020", "on 2019-09-24".

Only periods that fix a year are read ("in October" could be any October). The dates are of
publication: "news from January 2020" is the articles published then.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_LEADING = r"(?:(?:in|from|on|during|of|for|since)\s+)?(?:the\s+)?"
_PATTERNS = (  # each with named groups among year, month, day
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})",
    rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<monthname>{_MONTH})\.?,?\s+(?P<year>\d{{4}})",
    rf"(?P<monthname>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})",
    rf"(?P<monthname>{_MONTH})\.?,?\s+(?P<year>\d{{4}})",
    r"(?P<year>(?:19|20)\d{2})(?![-/.]\d)",
)
_INTRODUCED = re.compile(r"\s*(?:in|from|on|during|of|for|since)\s", re.IGNORECASE)
_PERIODS = [re.compile(rf"\s*\b{_LEADING}{p}\b", re.IGNORECASE) for p in _PATTERNS]


@dataclass(frozen=True)
class Period:
    """The publication dates asked about, inclusive, and the question without them."""

    since: date
    until: date
    rest: str


def asked_period(text: str) -> Period | None:
    """The first period with a year that `text` names, or None."""
    matches = sorted(
        (found.start(), order, found)
        for order, pattern in enumerate(_PERIODS)
        for found in pattern.finditer(text)
    )
    for _, _, found in matches:
        dates = _dates(found.groupdict())
        # "news from 2019", "what happened in 2019?": a period; "the 1973 oil crisis": a name.
        introduced = _INTRODUCED.match(found.group())
        if dates is not None and (introduced or not text[found.end() :].strip(" ?!.,")):
            rest = " ".join((text[: found.start()] + " " + text[found.end() :]).split())
            rest = re.sub(r"\s+([?!.,])", r"\1", rest)
            return Period(*dates, rest)
    return None


def _dates(groups: dict[str, str | None]) -> tuple[date, date] | None:
    """The first and last day a match names; None for an impossible date ("2019-13-40")."""
    try:
        year = int(groups["year"] or "")
        month = int(groups["month"]) if groups.get("month") else None
        if groups.get("monthname"):
            month = _MONTHS[groups["monthname"].lower()]
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if groups.get("day"):
            day = date(year, month, int(groups["day"]))
            return day, day
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except (KeyError, ValueError):
        return None
