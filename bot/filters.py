"""Which documents a question may be answered from: publication dates and outlet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SearchFilter:
    """Keep documents published in [since, until] (inclusive) by an outlet named `source`
    (case-insensitive). A document with no known date fails a date bound; no bound, no test."""

    since: date | None = None
    until: date | None = None
    source: str | None = None

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None or bool(self.source)

    def matches(self, published: str, source: str) -> bool:
        if self.source and source.strip().casefold() != self.source.strip().casefold():
            return False
        if self.since is None and self.until is None:
            return True
        try:
            day = date.fromisoformat(published[:10])
        except ValueError:
            return False
        if self.since is not None and day < self.since:
            return False
        return self.until is None or day <= self.until

    def within(self, since: date, until: date | None) -> SearchFilter:
        """This filter narrowed to publication dates in [since, until] as well."""
        return SearchFilter(
            since if self.since is None else max(self.since, since),
            until if self.until is None else min(self.until, until or self.until),
            self.source,
        )

    def articles(self) -> str:
        """The articles it lets through, in words: 'Reuters articles published since
        2019-01-01' (of an active filter)."""
        which = f"{self.source} articles" if self.source else "articles"
        if self.since and self.until:
            return f"{which} published from {self.since.isoformat()} to {self.until.isoformat()}"
        if self.since:
            return f"{which} published since {self.since.isoformat()}"
        if self.until:
            return f"{which} published until {self.until.isoformat()}"
        return which

    def describe(self) -> str:
        """'since 2019-01-01, source Reuters', or '' when inactive."""
        parts = []
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.source:
            parts.append(f"source {self.source}")
        return ", ".join(parts)


def newest_day(published: Iterable[str]) -> date | None:
    """The latest of these publication dates (ISO, "" when unknown); None when none is known."""
    days = []
    for text in published:
        try:
            days.append(date.fromisoformat(text[:10]))
        except ValueError:
            continue
    return max(days, default=None)


def search_filter(
    since: str | None = None, until: str | None = None, source: str | None = None
) -> SearchFilter:
    """A filter from the text of `--since`, `--until` and `--source`; `ConfigError` (one line)
    for a date that is not YYYY-MM-DD or a range that ends before it starts."""
    from bot.errors import ConfigError

    days: list[date | None] = []
    for name, text in (("since", since), ("until", until)):
        if text is None or not text.strip():
            days.append(None)
            continue
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise ConfigError(
                f"{name} must be a date as YYYY-MM-DD, e.g. 2019-02-18, got {text!r}"
            ) from None
    first, last = days
    if first and last and last < first:
        raise ConfigError(f"until ({last}) is before since ({first}); nothing could match")
    outlet = " ".join((source or "").split()) or None
    return SearchFilter(first, last, outlet)


FILTER_WORDS = ("since", "until", "source")
FILTER_HELP = (
    "since YYYY-MM-DD, until YYYY-MM-DD, source NAME (any of them), "
    "or off to clear; alone it shows the filter"
)


CLEAR_WORDS = ("off", "clear", "none")  # `/filter off`


def parse_filter_command(arguments: str, current: SearchFilter) -> SearchFilter:
    """The filter after a `/filter ...` command: `since 2019-01-01 source Financial Times`
    sets those bounds (the others are kept), `off` clears all; `ConfigError` for anything else."""
    from bot.errors import ConfigError

    words = arguments.split()
    if not words:
        return current
    if words[0].lower() in CLEAR_WORDS:
        if len(words) > 1:
            raise ConfigError(
                f"/filter {words[0]} clears the filter and takes nothing after it "
                f"(got {' '.join(words[1:])!r}); use /filter {words[0]} alone"
            )
        return SearchFilter()
    values: dict[str, list[str]] = {}
    key = None
    for word in words:
        if word.lower() in FILTER_WORDS:
            key = word.lower()
            values[key] = []
        elif key is None:
            raise ConfigError(f"unknown filter {word!r}; use {FILTER_HELP}")
        else:
            values[key].append(word)
    for name, parts in values.items():
        if not parts:
            raise ConfigError(f"{name} needs a value; use {FILTER_HELP}")
    merged = {
        "since": current.since.isoformat() if current.since else None,
        "until": current.until.isoformat() if current.until else None,
        "source": current.source,
    }
    merged.update({name: " ".join(parts) for name, parts in values.items()})
    return search_filter(merged["since"], merged["until"], merged["source"])
