"""Where the index lives: `store = "faiss"` (files under index_dir, the default) or
`store = "milvus"` (a Milvus server or Milvus Lite file). Retrieval, answering, the reader
and citations are the same code over either; `base.Store` is the seam."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.embedding import Embedder
from bot.indexing.build import BuildReport, IndexStatus, Progress
from bot.stores.base import Store


def open_store(settings: Settings) -> Store:
    """The serving build (`IndexMissingError` if there is none)."""
    if settings.store == "milvus":
        from bot.stores.milvus import open_milvus

        return open_milvus(settings)
    from bot.stores.faiss import open_faiss

    return open_faiss(settings)


def serving_location(settings: Settings) -> Path:
    """Which build serves now (cheap); `IndexMissingError` if none does."""
    if settings.store == "milvus":
        from bot.stores.milvus import serving_location as milvus_serving

        return milvus_serving(settings)
    from bot.stores.faiss import serving_location as faiss_serving

    return faiss_serving(settings)


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    *,
    full: bool = False,
    shard: tuple[int, int] | None = None,
    publish: bool = True,
) -> BuildReport:
    """Bring the index up to date. Milvus only: `shard=(i, n)` (0-based) embeds one worker's
    share, and `publish=False` leaves publishing to a final `publish_index`."""
    if settings.store == "milvus":
        from bot.stores.milvus.build import build

        return build(
            settings, embedder, progress, full=full, shard=shard or (0, 1), publish_after=publish
        )
    if shard is not None and shard[1] > 1:
        from bot.errors import ConfigError

        raise ConfigError("--shard needs store = milvus (a FAISS index is built on one machine)")
    from bot.indexing import build_index as build_files

    return build_files(settings, embedder, progress, full=full)


def publish_index(settings: Settings, embedder: Embedder | None = None) -> dict[str, Any]:
    """Publish the sharded build of the corpus as it is now (Milvus); its counts."""
    if settings.store != "milvus":
        from bot.errors import ConfigError

        raise ConfigError("--publish needs store = milvus (a FAISS build publishes itself)")
    from bot.stores.milvus.build import publish

    return publish(settings, embedder=embedder)[1]


def index_status(settings: Settings, *, verify: bool = False) -> IndexStatus:
    """What is indexed and whether the corpus changed since; `verify` (FAISS files): check
    the build's files against the manifest too."""
    if settings.store == "milvus":
        from bot.stores.milvus.status import index_status as milvus_status

        return milvus_status(settings)
    from bot.indexing import index_status as files_status

    return files_status(settings, verify=verify)


def check_index_is_for(settings: Settings) -> None:
    """`CorpusError` when the serving index was built from another corpus directory than
    `settings.corpus_dir`: storing articles there would rebuild that index from the other
    corpus (a mistyped `--corpus`). A corpus directory that moved with its checkout is fine."""
    status = index_status(settings)
    if not status.exists:
        return
    built_from = Path(status.manifest.get("corpus_dir", settings.corpus_dir))
    here = settings.corpus_dir
    if built_from.resolve() == here.resolve() or (here.is_dir() and not built_from.is_dir()):
        return
    from bot.errors import CorpusError

    raise CorpusError(
        f"the index at {status.index_dir} holds the corpus {built_from}, not {here}: check "
        "--corpus, or give this corpus its own --index"
    )
