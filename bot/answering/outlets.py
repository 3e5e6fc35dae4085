"""The outlet a question names: "what did the BBC report about the ruling?", "according to
Reuters, how many died?", "the latest on Brexit from the Guardian".

The corpus knows which outlet published each article (its `source`). A question that names one
of them where it speaks of reporting is answered from that outlet's articles only, and is read
without the outlet's name: articles rarely name their own outlet, so the names check would
otherwise answer "it never mentions BBC". A name alone is not enough ("what did the independent
panel find?" is no question to The Independent): it must stand where an outlet does, after
"according to" or "from", or before "report", "say" and the like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REPORTING = (
    r"say|says|said|report|reports|reported|reporting|write|writes|wrote|claim|claims|claimed"
    r"|publish|published|cover|covered|article|articles|story|stories|coverage|headline"
)
_GENERIC_ENDINGS = re.compile(r"\s+(?:news|online|\.com|newspaper)$", re.IGNORECASE)


@dataclass(frozen=True)
class Outlet:
    """The outlet a question names, as the corpus calls it, and the question without it."""

    source: str
    rest: str


def named_outlet(text: str, sources: list[str]) -> Outlet | None:
    """The first outlet of `sources` that `text` names where it speaks of reporting, or None."""
    for source in sorted(sources, key=len, reverse=True):
        for name in _names_of(source):
            for pattern in _mentions(name):
                found = pattern.search(text)
                if found is None or (len(name) <= 2 and found.group("outlet") != name):
                    continue  # "AP" only as written, not "ap"
                rest = text[: found.start()] + " " + text[found.end() :]
                rest = re.sub(r"\s+([?!.,])", r"\1", " ".join(rest.split())).strip(" ,")
                return Outlet(source, rest)
    return None


def _names_of(source: str) -> list[str]:
    """How a question may name an outlet: "The Guardian", "Guardian"; "BBC News", "BBC"."""
    names = [source.strip()]
    bare = re.sub(r"^the\s+", "", names[0], flags=re.IGNORECASE)
    short = _GENERIC_ENDINGS.sub("", bare)
    names += [n for n in (bare, short) if n and n not in names]
    return names


def _mentions(name: str) -> list[re.Pattern[str]]:
    """Where an outlet's name stands in a question, each match what to drop from it."""
    outlet = rf"(?:the\s+)?(?P<outlet>{re.escape(name)})"
    return [
        re.compile(rf"according\s+to\s+{outlet}\b,?", re.IGNORECASE),
        re.compile(
            rf"\b(?:from|in|by|on)\s+{outlet}(?=\s*(?:[?.!,]|$|\s+(?:about|on|regarding)\b))",
            re.IGNORECASE,
        ),
        re.compile(rf"\b{outlet}(?:['’]s)?(?=\s+(?:{_REPORTING})\b)", re.IGNORECASE),
    ]
