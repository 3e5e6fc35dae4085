"""Retrieval over a Milvus build, as `bot/retrieval.py` does it over FAISS and bm25s.

Milvus runs both searches (dense inner product, and BM25 over the project's own terms) and
the filters; the fusion, the scores and the rare-term rule are the project's, computed here on
the few hundred candidate passages Milvus returns, so both stores rank the same way:

- dense: Milvus's exact inner-product search, top 100;
- BM25: Milvus's BM25 function over each passage's terms (the project's stems, spelled as
  single tokens, see `schema.encode_term`), top 100. Its scores are bm25s's times (k1 + 1),
  but with a filter Milvus Lite computes IDF over the filtered passages only, so the scores
  shown and fused are recomputed here from the passages' terms and the build's document
  frequencies (`B_terms`), exactly as bm25s computes them;
- hybrid: the union of both lists by 0.7 x cosine + 0.3 x BM25, each min-max scaled
  (`bot.retrieval.normalised_fusion`, which beat reciprocal-rank fusion on SQuAD), plus the
  best passage holding a rare question term (a TEXT_MATCH query).

Nothing of the index is held in memory between questions but its manifest.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from functools import cache
from typing import Any, TypeVar

import numpy as np

from bot.config import Settings
from bot.filters import SearchFilter, newest_day
from bot.lexical import terms
from bot.names import unknown_names
from bot.query import Query
from bot.retrieval import (
    DENSE_WEIGHT,
    RARE_TERM_CHUNKS,
    RETRIEVERS,
    Hit,
    TermStatistics,
    _scaled,
)
from bot.spelling import TermRecorder
from bot.stores.milvus import schema
from bot.stores.milvus.client import client, ensure_loaded, translated
from bot.stores.milvus.view import QuestionData, question_data

_POOL = 100  # how deep each list goes before fusion (as bot/retrieval.py)
T = TypeVar("T")
ROW_FIELDS = [
    "pk",
    "doc_id",
    "seq",
    "paragraph",
    "start",
    "end",
    "text",
    "terms",
    "vector",
    "published",
    "doc",
    "sentences",
]


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsbot-milvus")


def filter_expression(search_filter: SearchFilter | None) -> str:
    """A Milvus boolean expression for the filter ('' when inactive)."""
    if search_filter is None or not search_filter.active:
        return ""
    parts = []
    if search_filter.since is not None:
        parts.append(f"published >= {json.dumps(search_filter.since.isoformat())}")
    if search_filter.until is not None:
        after = (search_filter.until + timedelta(days=1)).isoformat()
        parts.append(f'published >= "0" and published < {json.dumps(after)}')
    if search_filter.source:
        parts.append(f"source == {json.dumps(search_filter.source.strip().casefold())}")
    return " and ".join(parts)


class MilvusIndex:
    """The serving build of one Milvus collection alias: answers `question()`."""

    def __init__(self, settings: Settings, name: str, manifest: dict[str, Any]) -> None:
        self.settings = settings
        self.name = name
        self.manifest = manifest
        self.location = settings.index_dir / "milvus" / name
        self.chunk_count = int(manifest["counts"]["chunks"])
        bm25 = manifest["bm25"]
        self._k1, self._b, self._avgdl = float(bm25["k1"]), float(bm25["b"]), float(bm25["avgdl"])

    def question(
        self,
        query: Query,
        mode: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        leads: bool = False,
    ) -> QuestionRetriever:
        """Search once and fetch what answering needs about the hits (with `leads`, also the
        first passage of each of their articles)."""
        if mode not in RETRIEVERS:
            raise ValueError(f"unknown retriever {mode!r}; use one of {', '.join(RETRIEVERS)}")
        expression = filter_expression(search_filter)
        return self._loaded(lambda: self._question(query, mode, k, expression, leads))

    def _loaded(self, call: Callable[[], T]) -> T:
        """`call()`, again after loading the collections if the server had released them (a
        restarted Milvus Lite server comes back with them released)."""
        with translated(self.settings, self.name):
            try:
                return call()
            except Exception as exc:
                if "load()" not in str(exc) and "not loaded" not in str(exc).lower():
                    raise
                names = (self.name, self.name + schema.DOCS, self.name + schema.TERMS)
                ensure_loaded(client(self.settings), *names)
                return call()

    def _question(
        self, query: Query, mode: str, k: int, expression: str, leads: bool
    ) -> QuestionRetriever:
        milvus = client(self.settings)
        k = min(k, self.chunk_count)
        pool = min(max(k, _POOL), self.chunk_count)
        question_terms = list(query.terms)
        vector = np.asarray(query.vector, dtype=np.float32)
        dense_job = _pool().submit(
            milvus.search,
            self.name,
            data=[vector.tolist()],
            anns_field="vector",
            limit=pool,
            filter=expression,
            output_fields=["pk"],
            search_params={"metric_type": "IP"},
        )
        tokens = " ".join(schema.encode_term(t) for t in question_terms)
        lexical_job = (
            _pool().submit(
                milvus.search,
                self.name,
                data=[tokens],
                anns_field="sparse",
                limit=pool,
                filter=expression,
                output_fields=["pk"],
                search_params={"metric_type": "BM25"},
            )
            if tokens
            else None
        )
        frequency, vocabulary = self._vocabulary(query)
        dense_order = [hit["pk"] for hit in dense_job.result()[0]]
        lexical_order = [hit["pk"] for hit in lexical_job.result()[0]] if lexical_job else []
        union = list(dict.fromkeys(dense_order + lexical_order))
        rows = self._rows(union)
        rare = self._rare(question_terms, frequency, expression) if mode == "hybrid" else None
        if rare is not None:
            rows.setdefault(rare["pk"], rare)
        cosines = {pk: float(np.asarray(rows[pk]["vector"], np.float32) @ vector) for pk in rows}
        lexical = {pk: self._bm25(question_terms, rows[pk]["terms"], frequency) for pk in rows}
        dense = [(pk, cosines[pk]) for pk in dense_order]
        top_lexical = [(pk, lexical[pk]) for pk in lexical_order if lexical[pk] > 0]
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            seen = {pk for pk, _ in top_lexical}
            ranked = top_lexical + [(pk, 0.0) for pk, _ in dense if pk not in seen]
        else:
            ranked = _fused([pk for pk in union if pk in rows], cosines, lexical)
        ranked = ranked[:k]
        if rare is not None and all(pk != rare["pk"] for pk, _ in ranked) and ranked:
            ranked[-1] = (rare["pk"], 0.0)
        dense_ranks = {pk: rank for rank, (pk, _) in enumerate(dense)}
        lexical_ranks = {pk: rank for rank, (pk, _) in enumerate(top_lexical)}
        found = [rows[pk] for pk, _ in ranked]
        if leads:
            found += self._leads(found)
        data = question_data(self.location, self.manifest, found)
        hits = [
            Hit(
                local,
                score,
                cosines[pk],
                lexical[pk],
                dense_ranks.get(pk, pool),
                lexical_ranks.get(pk, pool),
            )
            for local, (pk, score) in enumerate(ranked)
        ]
        return QuestionRetriever(data, hits, frequency, vocabulary, self.chunk_count)

    def articles(self) -> tuple[date | None, list[str]]:
        """The publication day of the newest article and the outlets, from the documents'
        first passages."""
        rows = self._loaded(self._first_passages)
        sources = sorted({row["source"] for row in rows if row["source"]})
        return newest_day(row["published"] for row in rows), sources

    def _first_passages(self) -> list[dict[str, Any]]:
        iterator = client(self.settings).query_iterator(
            self.name, batch_size=2000, filter="seq == 0", output_fields=["published", "source"]
        )
        rows: list[dict[str, Any]] = []
        try:
            while batch := iterator.next():
                rows += batch
        finally:
            iterator.close()
        return rows

    def _leads(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The first passage of each article of `rows` that they lack (after them: the hits'
        local numbers stay theirs)."""
        have = {r["doc_id"] for r in rows if int(r["seq"]) == 0}
        missing = [d for d in dict.fromkeys(r["doc_id"] for r in rows) if d not in have]
        if not missing:
            return []
        expression = f"doc_id in {json.dumps(missing)} and seq == 0"
        return client(self.settings).query(self.name, filter=expression, output_fields=ROW_FIELDS)

    def _rows(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        if not pks:
            return {}
        found = client(self.settings).query(self.name, ids=pks, output_fields=ROW_FIELDS)
        return {row["pk"]: row for row in found}

    def _vocabulary(self, query: Query) -> tuple[dict[str, int], list[str]]:
        """Document frequencies of every term answering will look up for this question (its
        terms, and the names check's words and their near spellings), and the corpus terms that
        share a prefix with the question's unseen words (see `bot.names.in_corpus`)."""
        asked = TermRecorder()
        unknown_names(query.reading, asked, [])  # type: ignore[arg-type]  # every term it may look up
        keys = set(asked) | set(query.terms)
        frequency = self._frequencies(keys)
        stems = {s for w in query.reading.split() for part in w.split("-") for s in terms(part)}
        prefixes = {
            s[: max(4, len(s) - 2)] for s in stems if len(s) >= 5 and not frequency.get(s, 0)
        }
        jobs = [_pool().submit(self._first_with_prefix, prefix) for prefix in sorted(prefixes)]
        vocabulary = sorted({schema.decode_term(r["pk"]) for job in jobs for r in job.result()})
        return frequency, vocabulary

    def _first_with_prefix(self, prefix: str) -> list[dict[str, Any]]:
        """A corpus term starting with `prefix`, as a row ([] when there is none)."""
        return client(self.settings).query(
            self.name + schema.TERMS,
            filter=f'pk like "{schema.encode_term(prefix)}%"',
            output_fields=["pk"],
            limit=1,
        )

    def term_counts(self, keys: set[str]) -> dict[str, int]:
        """Document frequencies of these terms (0 for unknown ones)."""
        return self._loaded(lambda: self._frequencies(keys))

    def _frequencies(self, keys: set[str]) -> dict[str, int]:
        prefixes = {key for key in keys if key.endswith("-")}
        keys = keys - prefixes
        encoded = {schema.encode_term(key): key for key in keys if key}
        frequency = dict.fromkeys(keys, 0)
        milvus = client(self.settings)
        batch = sorted(encoded)
        for begin in range(0, len(batch), 2000):
            part = batch[begin : begin + 2000]
            for row in milvus.query(self.name + schema.TERMS, ids=part, output_fields=["df"]):
                frequency[encoded[row["pk"]]] = int(row["df"])
        for prefix in prefixes:  # "covid-": does some term start with it?
            frequency[prefix] = int(bool(self._first_with_prefix(prefix)))
        return frequency

    def _bm25(self, question_terms: list[str], tokens: str, frequency: dict[str, int]) -> float:
        """bm25s's score of a passage (Lucene's BM25) for the question's known terms."""
        counts = Counter(tokens.split())
        length = max(1, sum(counts.values()))
        norm = self._k1 * (1 - self._b + self._b * length / self._avgdl)
        score = 0.0
        for term in question_terms:
            df = frequency.get(term, 0)
            tf = counts.get(schema.encode_term(term), 0)
            if df and tf:
                idf = math.log(1.0 + (self.chunk_count - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + norm)
        return float(np.float32(score))

    def _rare(
        self, question_terms: list[str], frequency: dict[str, int], expression: str
    ) -> dict[str, Any] | None:
        """The best BM25 passage holding the question's rarest term, if that term is rare."""
        known = [(frequency[t], t) for t in question_terms if frequency.get(t, 0) > 0]
        if not known:
            return None
        df, term = min(known)
        if df > RARE_TERM_CHUNKS:
            return None
        match = f'TEXT_MATCH(terms, "{schema.encode_term(term)}")'
        rows = client(self.settings).query(
            self.name,
            filter=f"{match} and ({expression})" if expression else match,
            output_fields=ROW_FIELDS,
            limit=RARE_TERM_CHUNKS,
        )
        if not rows:
            return None
        rows.sort(key=lambda r: (r["doc_id"], r["seq"]))
        return max(rows, key=lambda r: self._bm25(question_terms, r["terms"], frequency))


def _fused(
    order: list[str], cosines: dict[str, float], lexical: dict[str, float]
) -> list[tuple[str, float]]:
    """`bot.retrieval.normalised_fusion` over passages named by key."""
    cosine = np.array([cosines[pk] for pk in order], dtype=np.float64)
    bm25 = np.array([lexical[pk] for pk in order], dtype=np.float64)
    if not len(order):
        return []
    fused = DENSE_WEIGHT * _scaled(cosine) + (1 - DENSE_WEIGHT) * _scaled(bm25)
    ranking = np.argsort(-fused, kind="stable")
    return [(order[int(i)], float(fused[i])) for i in ranking]


class QuestionRetriever(TermStatistics):
    """What `bot.answering.answer_question` reads from a `Retriever`, for one question:
    `search()` (the hits, already found), `data` (a `QuestionData`), `idf()`,
    `document_frequency`, `vocabulary`, `unseen_idf`, `sentence_terms()`,
    `sentence_term_sequence()`."""

    def __init__(
        self,
        data: QuestionData,
        hits: list[Hit],
        frequency: dict[str, int],
        vocabulary: list[str],
        chunk_count: int,
    ) -> None:
        self.data = data
        self.hits = hits
        self.document_frequency = frequency
        self.vocabulary = vocabulary
        self._chunk_count = chunk_count
        self._sentence_terms: dict[int, tuple[tuple[str, ...], frozenset[str]]] = {}

    def search(self, query: Query, mode: str, k: int) -> list[Hit]:
        return self.hits[:k]
