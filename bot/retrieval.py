"""Finding candidate passages: dense (FAISS), lexical (BM25) and their fusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.lexical import terms
from bot.store import IndexData

RETRIEVERS = ("dense", "bm25", "hybrid")
RRF_K = 60  # the constant of reciprocal-rank fusion (Cormack et al., 2009)
_POOL = 100  # how deep each list goes before fusion


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the evidence of each retriever."""

    chunk: int
    score: float  # the mode's own score: cosine, BM25, or fused reciprocal rank
    dense: float  # cosine of question and chunk
    lexical: float  # BM25 score (0 when no query term matches)


class Retriever:
    """Searches one loaded index."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        vocab = data.bm25.vocab_dict
        indptr = np.asarray(data.bm25.scores["indptr"])
        # Document frequency of each term: the number of chunks in its CSC column.
        self.document_frequency = {
            term: int(indptr[i + 1] - indptr[i]) for term, i in vocab.items() if i + 1 < len(indptr)
        }

    def search(self, question: str, query_vector: np.ndarray, mode: str, k: int) -> list[Hit]:
        """The top `k` chunks for the question under `mode` (dense, bm25 or hybrid)."""
        k = min(k, self.data.chunk_count)
        pool = min(max(k, _POOL), self.data.chunk_count)
        dense = self._dense(query_vector, pool)
        lexical = self._bm25(terms(question))
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            ranked = self._top_lexical(lexical, pool)
            seen = {chunk for chunk, _ in ranked}
            ranked += [(chunk, 0.0) for chunk, _ in dense if chunk not in seen]
        else:
            ranked = self._fuse(dense, self._top_lexical(lexical, pool))
        cosines = dict(dense)
        hits = []
        for chunk, score in ranked[:k]:
            cosine = cosines.get(chunk)
            if cosine is None:
                cosine = float(self.data.chunk_vectors.reconstruct(chunk) @ query_vector)
            hits.append(Hit(chunk, score, cosine, float(lexical[chunk])))
        return hits

    def _dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores, ids = self.data.chunk_vectors.search(
            query_vector.reshape(1, -1).astype(np.float32), k
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _bm25(self, query_terms: list[str]) -> np.ndarray:
        known = [t for t in query_terms if t in self.document_frequency]
        if not known:
            return np.zeros(self.data.chunk_count, dtype=np.float32)
        return np.asarray(self.data.bm25.get_scores(known), dtype=np.float32)

    @staticmethod
    def _top_lexical(lexical: np.ndarray, k: int) -> list[tuple[int, float]]:
        top = np.argsort(-lexical, kind="stable")[:k]
        return [(int(c), float(lexical[c])) for c in top if lexical[c] > 0]

    @staticmethod
    def _fuse(*rankings: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Reciprocal-rank fusion: a chunk ranked high by either retriever ranks high."""
        fused: dict[int, float] = {}
        for ranking in rankings:
            for position, (chunk, _) in enumerate(ranking):
                fused[chunk] = fused.get(chunk, 0.0) + 1.0 / (RRF_K + position + 1)
        return sorted(fused.items(), key=lambda item: -item[1])
