"""Finding candidate passages: dense (FAISS), lexical (BM25) and their fusion."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from bot.filters import SearchFilter
from bot.indexing.store import IndexData
from bot.lexical import terms
from bot.query import Query

RETRIEVERS = ("dense", "bm25", "hybrid")
RRF_K = 60  # the constant of reciprocal-rank fusion (Cormack et al., 2009)
_POOL = 100  # how deep each list goes before fusion
RARE_TERM_CHUNKS = 3  # a question term found in at most this many passages is a rare one
DENSE_WEIGHT = 0.7  # share of the cosine in the normalised hybrid score
# A filtered search on an HNSW index scores the allowed chunks exactly up to this many (the
# graph walk can miss the few allowed ones); beyond, it walks the graph through a selector.
EXACT_FILTERED_CHUNKS = 20_000
_FILTERS_CACHED = 32


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the evidence of each retriever."""

    chunk: int
    score: float  # the mode's own score: cosine, BM25, or the 0-1 normalised hybrid score
    dense: float  # cosine of question and chunk
    lexical: float  # BM25 score (0 when no query term matches)
    dense_rank: int  # 0-based rank among all chunks by cosine (the pool depth if deeper)
    lexical_rank: int  # 0-based rank by BM25 (the pool depth if deeper or no match)


class TermStatistics:
    """The per-term statistics answer scoring reads from a retriever: IDF over chunks and the
    terms of each sentence (computed once). Needs `data`, `document_frequency`, `_chunk_count`
    and a `_sentence_terms` cache dict."""

    data: Any
    document_frequency: dict[str, int]
    _chunk_count: int
    _sentence_terms: dict[int, tuple[tuple[str, ...], frozenset[str]]]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over chunks (BM25's formula)."""
        df = self.document_frequency.get(term, 0)
        return math.log(1.0 + (self._chunk_count - df + 0.5) / (df + 0.5))

    @property
    def unseen_idf(self) -> float:
        """The IDF of a term no chunk contains: the highest there is."""
        return math.log(1.0 + (self._chunk_count + 0.5) / 0.5)

    def sentence_terms(self, sentence: int) -> frozenset[str]:
        """The stemmed content words of a sentence, computed once per loaded index."""
        return self._terms_of(sentence)[1]

    def sentence_term_sequence(self, sentence: int) -> tuple[str, ...]:
        """The same terms in the order the sentence uses them."""
        return self._terms_of(sentence)[0]

    def _terms_of(self, sentence: int) -> tuple[tuple[str, ...], frozenset[str]]:
        found = self._sentence_terms.get(sentence)
        if found is None:
            sequence = tuple(terms(self.data.sentence_text(sentence)))
            found = (sequence, frozenset(sequence))
            self._sentence_terms[sentence] = found
        return found


class Retriever(TermStatistics):
    """Searches one loaded index; also holds the per-term statistics answer scoring needs."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        vocab = data.bm25.vocab_dict
        self._columns = vocab
        self._column_chunks = np.asarray(data.bm25.scores["indices"])
        indptr = self._column_starts = np.asarray(data.bm25.scores["indptr"])
        # Document frequency of each term: the number of chunks in its CSC column.
        self.document_frequency = {
            term: int(indptr[i + 1] - indptr[i]) for term, i in vocab.items() if i + 1 < len(indptr)
        }
        self._chunk_count = data.chunk_count
        self._sentence_terms: dict[int, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._allowed: dict[SearchFilter, np.ndarray] = {}

    @cached_property
    def vocabulary(self) -> list[str]:
        """Every stemmed term some chunk contains, sorted (to look up terms by prefix)."""
        return sorted(term for term, df in self.document_frequency.items() if df > 0)

    def allowed_chunks(self, search_filter: SearchFilter) -> np.ndarray:
        """The sorted ids of the chunks whose document passes `search_filter`."""
        found = self._allowed.get(search_filter)
        if found is None:
            keep = np.array(
                [search_filter.matches(d.published, d.source) for d in self.data.documents],
                dtype=bool,
            )
            found = np.flatnonzero(keep[np.asarray(self.data.chunks["doc"])]).astype(np.int64)
            if len(self._allowed) >= _FILTERS_CACHED:
                self._allowed.pop(next(iter(self._allowed)))
            self._allowed[search_filter] = found
        return found

    def search(
        self, query: Query, mode: str, k: int, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        """The top `k` chunks for the question under `mode` (dense, bm25 or hybrid), among the
        chunks of documents that pass `search_filter` (all of them without one)."""
        allowed = None
        if search_filter is not None and search_filter.active:
            allowed = self.allowed_chunks(search_filter)
            if not len(allowed):
                return []
        eligible = self.data.chunk_count if allowed is None else len(allowed)
        k = min(k, eligible)
        pool = min(max(k, _POOL), eligible)
        query_vector = query.vector
        dense = self._dense(query_vector, pool, allowed)
        question_terms = list(query.terms)
        lexical = self._bm25(question_terms)
        if allowed is not None:
            mask = np.zeros(len(lexical), dtype=bool)
            mask[allowed] = True
            lexical = np.where(mask, lexical, np.float32(0))
        top_lexical = self._top_lexical(lexical, pool)
        cosines = dict(dense)
        missing = [chunk for chunk, _ in top_lexical if chunk not in cosines]
        if missing:
            vectors = self.data.chunk_vectors.reconstruct_batch(np.asarray(missing, dtype=np.int64))
            cosines.update(zip(missing, (vectors @ query_vector).tolist(), strict=True))
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            seen = {chunk for chunk, _ in top_lexical}
            ranked = top_lexical + [(chunk, 0.0) for chunk, _ in dense if chunk not in seen]
        elif mode == "hybrid":
            ranked = normalised_fusion(cosines, lexical)
        else:
            raise ValueError(f"unknown retriever {mode!r}; use one of {', '.join(RETRIEVERS)}")
        ranked = ranked[:k]
        rare = self._rare_term_match(question_terms, lexical) if mode == "hybrid" else None
        if rare is not None and all(chunk != rare for chunk, _ in ranked):
            # A passage with the question's rare name or number always makes the cut.
            if rare not in cosines:
                cosines[rare] = float(self.data.chunk_vectors.reconstruct(rare) @ query_vector)
            ranked[-1] = (rare, 0.0)
        dense_ranks = {chunk: rank for rank, (chunk, _) in enumerate(dense)}
        lexical_ranks = {chunk: rank for rank, (chunk, _) in enumerate(top_lexical)}
        return [
            Hit(
                chunk,
                score,
                float(cosines[chunk]),
                float(lexical[chunk]),
                dense_ranks.get(chunk, pool),
                lexical_ranks.get(chunk, pool),
            )
            for chunk, score in ranked
        ]

    def _rare_term_match(self, question_terms: list[str], lexical: np.ndarray) -> int | None:
        """The best BM25 passage holding the question's rarest term, if that term is rare."""
        known = [(self.document_frequency[t], t) for t in question_terms if t in self._columns]
        if not known:
            return None
        frequency, term = min(known)
        if frequency == 0 or frequency > RARE_TERM_CHUNKS:
            return None
        column = self._columns[term]
        chunks = self._column_chunks[self._column_starts[column] : self._column_starts[column + 1]]
        best = int(chunks[np.argmax(lexical[chunks])])
        return best if lexical[best] > 0 else None  # (a filter may have left none of them)

    def _dense(
        self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        import faiss

        vectors = self.data.chunk_vectors
        question = query_vector.reshape(1, -1).astype(np.float32)
        if allowed is None:
            scores, ids = vectors.search(question, k)
        elif isinstance(vectors, faiss.IndexHNSW) and len(allowed) <= EXACT_FILTERED_CHUNKS:
            cosines = vectors.reconstruct_batch(allowed) @ question[0]
            order = np.argsort(-cosines, kind="stable")[:k]
            return [(int(allowed[i]), float(cosines[i])) for i in order]
        else:
            selector = faiss.IDSelectorBatch(allowed)
            if isinstance(vectors, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=max(vectors.hnsw.efSearch, 2 * k)
                )
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, ids = vectors.search(question, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _bm25(self, query_terms: list[str]) -> np.ndarray:
        known = [t for t in query_terms if t in self.document_frequency]
        if not known:
            return np.zeros(self.data.chunk_count, dtype=np.float32)
        return np.asarray(self.data.bm25.get_scores(known), dtype=np.float32)

    @staticmethod
    def _top_lexical(lexical: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k < len(lexical):
            top = np.argpartition(-lexical, k)[:k]
            top = top[np.argsort(-lexical[top], kind="stable")]
        else:
            top = np.argsort(-lexical, kind="stable")
        return [(int(c), float(lexical[c])) for c in top if lexical[c] > 0]


def normalised_fusion(cosines: dict[int, float], lexical: np.ndarray) -> list[tuple[int, float]]:
    """Both retrievers' candidates by a weighted sum of cosine and BM25, each scaled to 0..1
    over the candidates (the weight was chosen on SQuAD train, by the fitting script that preceded scripts/calibrate_reader.py)."""
    chunks = np.fromiter(cosines, dtype=np.int64, count=len(cosines))
    cosine = np.fromiter(cosines.values(), dtype=np.float64, count=len(cosines))
    bm25 = lexical[chunks].astype(np.float64)
    fused = DENSE_WEIGHT * _scaled(cosine) + (1 - DENSE_WEIGHT) * _scaled(bm25)
    order = np.argsort(-fused, kind="stable")
    return [(int(chunks[i]), float(fused[i])) for i in order]


def reciprocal_rank_fusion(*rankings: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion, kept for comparison in scripts/bench_squad.py."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for position, (chunk, _) in enumerate(ranking):
            fused[chunk] = fused.get(chunk, 0.0) + 1.0 / (RRF_K + position + 1)
    return sorted(fused.items(), key=lambda item: -item[1])


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)
