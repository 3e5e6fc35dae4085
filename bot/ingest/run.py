"""The ingestion commands as one call each: store what the sources hold, then bring the index
up to date once. A failed build leaves the previous index serving."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import NewsbotError
from bot.ingest.fetching import Fetcher
from bot.ingest.pages import Outcome, add_source
from bot.ingest.state import SourceState

if TYPE_CHECKING:
    from bot.embedding import Embedder
    from bot.indexing import BuildReport, Progress


@dataclass
class IngestRun:
    """What a run stored, and the build that followed (None when nothing changed)."""

    outcomes: list[Outcome] = field(default_factory=list)
    build: BuildReport | None = None
    build_error: str = ""

    @property
    def changed(self) -> bool:
        return any(o.status in ("added", "updated") for o in self.outcomes)


def fetcher_for(settings: Settings) -> Fetcher:
    return Fetcher(timeout=settings.fetch_timeout)


def add_sources(
    settings: Settings,
    sources: list[str],
    *,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> IngestRun:
    """`newsbot add`: each file or URL stored as an article, then one index update."""
    run = IngestRun()
    with SourceState(settings.index_dir) as state, fetcher_for(settings) as fetcher:
        for source in sources:
            run.outcomes.append(add_source(settings.corpus_dir, state, fetcher, source))
    return _rebuild(settings, run, progress, embedder)


def update_feeds(
    settings: Settings, *, progress: Progress | None = None, embedder: Embedder | None = None
) -> IngestRun:
    """`newsbot feeds update`: every feed's new and changed items, then one index update."""
    from bot.ingest import feeds

    run = IngestRun()
    with SourceState(settings.index_dir) as state, fetcher_for(settings) as fetcher:
        run.outcomes = feeds.update_feeds(settings.corpus_dir, state, fetcher)
    return _rebuild(settings, run, progress, embedder)


def _rebuild(
    settings: Settings, run: IngestRun, progress: Progress | None, embedder: Embedder | None
) -> IngestRun:
    from bot.errors import IndexUnusableError
    from bot.indexing import build_index, index_status

    if not run.changed:
        # Nothing new: build only to catch up an index left stale (e.g. by a failed build).
        try:
            status = index_status(settings)
        except IndexUnusableError:
            status = None
        if status is None or not status.exists or status.up_to_date(settings):
            return run

    try:
        run.build = build_index(settings, embedder=embedder, progress=progress)
    except NewsbotError as error:
        run.build_error = str(error)
    return run
