"""Which documents a question may be answered from: publication dates and outlet."""

from __future__ import annotations

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
