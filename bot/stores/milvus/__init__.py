"""The Milvus store: the index in Milvus (Lite embedded, a Lite server, Standalone or
Distributed), searched per question; see docs/scaling.md.

`client.py` connects and turns failures into one-line errors, `schema.py` says what a build
is in Milvus, `build.py` writes and publishes builds, `search.py` retrieves, and `view.py`
gives answering one question's passages in the shape it reads."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.filters import SearchFilter
from bot.query import Query


class MilvusStore:
    """The build the alias served when it was opened."""

    def __init__(self, settings: Settings, name: str) -> None:
        from bot.stores.milvus import schema
        from bot.stores.milvus.build import manifest_of
        from bot.stores.milvus.client import client, ensure_loaded, translated
        from bot.stores.milvus.search import MilvusIndex

        with translated(settings, name):
            ensure_loaded(client(settings), name, name + schema.DOCS, name + schema.TERMS)
        self.index = MilvusIndex(settings, name, manifest_of(settings, name))
        self.location: Path = self.index.location
        self.manifest: dict[str, Any] = self.index.manifest

    @property
    def documents(self) -> list[Any]:
        return []  # full texts stay in the corpus; Milvus holds passages

    def newest_day(self) -> date | None:
        """The publication day of the newest article (read once: a build does not change)."""
        return self._articles[0]

    def sources(self) -> list[str]:
        """The outlets the articles come from (as Milvus keeps them: case-folded)."""
        return self._articles[1]

    @cached_property  # one pass over the build's documents, which do not change
    def _articles(self) -> tuple[date | None, list[str]]:
        return self.index.articles()

    def retriever_for(
        self,
        query: Query,
        mode: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        leads: bool = False,
    ) -> Any:
        return self.index.question(query, mode, k, search_filter, leads=leads)

    def term_counts(self, terms: set[str]) -> dict[str, int]:
        return self.index.term_counts(terms)

    def changed_files(self, corpus_dir: Path) -> list[str]:
        from bot.stores.milvus.status import changed_files

        return changed_files(self.index.settings, self.index.name, self.manifest, corpus_dir)


def open_milvus(settings: Settings) -> MilvusStore:
    from bot.stores.milvus.build import serving_build

    return MilvusStore(settings, serving_build(settings))


def serving_location(settings: Settings) -> Path:
    from bot.stores.milvus.build import serving_build

    return settings.index_dir / "milvus" / serving_build(settings)
