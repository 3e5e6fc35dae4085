"""A question analysed once: its text, its stemmed terms and its vector, passed down to every
layer (retrieval, candidate scoring, the reader) instead of being recomputed in each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.lexical import terms


@dataclass(frozen=True)
class Query:
    """One question as every layer needs it."""

    text: str  # as asked
    terms: tuple[str, ...]  # stemmed content words of `read_as`, in order (what BM25 matches)
    vector: np.ndarray  # the L2-normalised embedding of `read_as`
    read_as: str = ""  # as retrieval and the reader read it (bot/spelling.py); "" = `text`

    @classmethod
    def analyse(cls, text: str, vector: np.ndarray, read_as: str | None = None) -> Query:
        read_as = read_as or text
        return cls(text, tuple(terms(read_as)), vector, read_as)

    @property
    def reading(self) -> str:
        """The text the reader and the question analysis read."""
        return self.read_as or self.text
