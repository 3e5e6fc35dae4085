"""A follow-up's retrieval: the previous answer's document and its neighbourhood preferred."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.conversation.turn import Preference

if TYPE_CHECKING:
    from bot.filters import SearchFilter
    from bot.query import Query
    from bot.retrieval import Hit, Retriever

# Retrieval bonus, in the hybrid score's 0-1 scale (scaled to the best score in other modes),
# for a passage of the previous answer's document, and more for one next to its passage. Small:
# a follow-up's own words still decide when another document matches them clearly better.
DOCUMENT_BONUS = 0.08
NEIGHBOUR_BONUS = 0.07
NEIGHBOUR_PARAGRAPHS = 2  # paragraphs either side of the answer's that count as its neighbourhood
_POOL = 100  # passages searched before the bonus reorders them


def prefer_previous(retriever: Retriever, prefer: Preference | None) -> Retriever:
    """`retriever`, searching with the bonus for `prefer`'s document and neighbourhood."""
    if prefer is None:
        return retriever
    return _Preferring(retriever, prefer)  # type: ignore[return-value]


class _Preferring:
    """A retriever whose search ranks the preferred document's passages higher."""

    def __init__(self, retriever: Retriever, prefer: Preference) -> None:
        self._retriever = retriever
        self._prefer = prefer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)

    def search(
        self, query: Query, mode: str, k: int, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        pool = max(k, _POOL)
        hits = (
            self._retriever.search(query, mode, pool)
            if search_filter is None
            else self._retriever.search(query, mode, pool, search_filter)
        )
        data = self._retriever.data
        docs = [d.doc_id for d in data.documents]
        chunks = np.asarray([hit.chunk for hit in hits], dtype=np.int64)
        if not len(chunks):
            return hits
        scale = max(max(hit.score for hit in hits), 1e-9) if mode != "hybrid" else 1.0
        same_doc = np.asarray(
            [docs[int(d)] == self._prefer.doc_id for d in data.chunks["doc"][chunks]]
        )
        near = same_doc.copy()
        if self._prefer.paragraph is not None:
            distance = np.abs(data.chunks["paragraph"][chunks] - self._prefer.paragraph)
            near &= distance <= NEIGHBOUR_PARAGRAPHS
        else:
            near[:] = False
        bonus = scale * (DOCUMENT_BONUS * same_doc + NEIGHBOUR_BONUS * near)
        scored = [
            replace(hit, score=float(hit.score + extra))
            for hit, extra in zip(hits, bonus.tolist(), strict=True)
        ]
        order = sorted(range(len(scored)), key=lambda i: -scored[i].score)
        return [scored[i] for i in order[:k]]
