"""The seam between answering and where the index lives.

A `Store` is the serving build of one index, as one question needs it:

- `retriever_for(query, mode, k, search_filter)` returns what `answer_question` reads: an
  object with `search(query, mode, k) -> list[Hit]`, `data` (`chunks` and `sentences`
  columns, `documents`, `chunk_text()`, `sentence_text()`, `chunk_count`), `idf()`,
  `document_frequency`, `vocabulary`, `unseen_idf`, `sentence_terms()` and
  `sentence_term_sequence()`. The FAISS store returns its `Retriever` over the whole loaded
  index; the Milvus store searches Milvus and returns only that question's passages;
- `location` names the build (a rebuilt index has another), `manifest` describes it;
- `documents`: every document with its text (FAISS only; Milvus keeps no full texts);
- `changed_files(corpus_dir)`: corpus files added, removed or edited since the build;
- `newest_day()`: the publication day of the newest article ("what's the latest news?");
- `sources()`: the outlets the articles come from ("what did the BBC report?");
- `term_counts(terms)`: the document frequency of each stemmed term (0 for unknown ones; for a
  term ending in "-", such as "covid-", whether some term starts with it: 1 or 0), for
  reading a question the way the corpus spells it (bot/spelling.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # `newsbot index status` imports this module and must stay light
    from bot.filters import SearchFilter
    from bot.query import Query


class Store(Protocol):
    location: Path
    manifest: dict[str, Any]

    @property
    def documents(self) -> list[Any]: ...

    def retriever_for(
        self,
        query: Query,
        mode: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        leads: bool = False,
    ) -> Any:
        """What answering reads for `query`: its `k` best passages, and with `leads` each of
        their articles' first passage too (an overview answers with it)."""
        ...

    def changed_files(self, corpus_dir: Path) -> list[str]: ...

    def newest_day(self) -> date | None: ...

    def sources(self) -> list[str]: ...

    def term_counts(self, terms: set[str]) -> dict[str, int]: ...
