"""The FAISS store: today's index files (bot/indexing/store.py), loaded whole by each process,
searched by bot/retrieval.py. An adapter only: those modules are unchanged."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.filters import SearchFilter, newest_day
from bot.indexing import corpus_changes, store
from bot.indexing.store import DocumentRecord
from bot.names import has_prefix
from bot.query import Query
from bot.retrieval import Retriever


class FaissStore:
    """One loaded build under `index_dir`."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.location: Path = retriever.data.location
        self.manifest: dict[str, Any] = retriever.data.manifest

    @property
    def documents(self) -> list[DocumentRecord]:
        return self.retriever.data.documents

    def newest_day(self) -> date | None:
        """The publication day of the newest article, None when no date is known."""
        return self._newest_day

    def sources(self) -> list[str]:
        """The outlets the articles come from."""
        return self._sources

    @cached_property  # a build does not change; every question asks for the outlets
    def _newest_day(self) -> date | None:
        return newest_day(d.published for d in self.documents)

    @cached_property
    def _sources(self) -> list[str]:
        return sorted({d.source for d in self.documents if d.source})

    def retriever_for(
        self,
        query: Query,
        mode: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        leads: bool = False,  # every passage is at hand: leads too
    ) -> Any:
        if search_filter is None or not search_filter.active:
            return self.retriever
        return _Filtered(self.retriever, search_filter)

    def changed_files(self, corpus_dir: Path) -> list[str]:
        return corpus_changes(self.manifest, corpus_dir)

    def term_counts(self, terms: set[str]) -> dict[str, int]:
        known = self.retriever.document_frequency
        vocabulary = self.retriever.vocabulary
        return {  # "covid-": does some term start with it?
            term: int(has_prefix(vocabulary, term)) if term.endswith("-") else known.get(term, 0)
            for term in terms
        }


class _Filtered:
    """The retriever with a filter bound to its searches (bot/retrieval.py applies it)."""

    def __init__(self, retriever: Retriever, search_filter: SearchFilter) -> None:
        self._retriever = retriever
        self._filter = search_filter

    def search(self, query: Query, mode: str, k: int) -> Any:
        return self._retriever.search(query, mode, k, search_filter=self._filter)  # type: ignore[call-arg]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)


def open_faiss(settings: Settings) -> FaissStore:
    data = store.load(settings.index_dir)
    built_from = data.manifest.get("corpus_dir")
    if built_from:
        data.documents = store.documents_in(data.documents, built_from, settings.corpus_dir)
    return FaissStore(Retriever(data))


def serving_location(settings: Settings) -> Path:
    return store.current_build(settings.index_dir)
