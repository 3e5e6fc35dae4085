"""A question analysed once: its text, its stemmed terms and its vector, passed down to every
layer (retrieval, candidate scoring, the reader) instead of being recomputed in each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.lexical import terms


@dataclass(frozen=True)
class Query:
    """One question as every layer needs it."""

    text: str
    terms: tuple[str, ...]  # stemmed content words, in order (what BM25 matches)
    vector: np.ndarray  # the question's L2-normalised embedding

    @classmethod
    def analyse(cls, text: str, vector: np.ndarray) -> Query:
        return cls(text, tuple(terms(text)), vector)
