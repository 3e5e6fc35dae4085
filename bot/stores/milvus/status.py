"""What changed in the corpus since a Milvus build, and `newsbot index status` for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import IndexMissingError, NewsbotError
from bot.indexing.build import IndexStatus
from bot.indexing.corpus import file_hashes
from bot.stores.milvus.client import client, translated


def changed_files(
    settings: Settings, name: str, manifest: dict[str, Any], corpus_dir: Path
) -> list[str]:
    """doc_ids added, removed or edited since build `name` (the corpus is hashed; the build's
    document list is read only when the fingerprints differ)."""
    from bot.stores.milvus.build import _doc_rows, _files_fingerprint

    try:
        follow = bool(manifest.get("settings", {}).get("follow_symlinks", False))
        now = file_hashes(corpus_dir, follow)
    except NewsbotError:
        return ["(the corpus cannot be read)"]
    if _files_fingerprint(now) == manifest.get("fingerprint"):
        return []
    with translated(settings, name):
        before = dict(_doc_rows(client(settings), name))
    return sorted(doc for doc in set(now) | set(before) if now.get(doc) != before.get(doc))


def index_status(settings: Settings) -> IndexStatus:
    from bot.stores.milvus.build import manifest_of, serving_build

    try:
        name = serving_build(settings)
    except IndexMissingError:
        return IndexStatus(settings.index_dir, False, {}, [])
    manifest = manifest_of(settings, name)
    return IndexStatus(
        settings.index_dir,
        True,
        manifest,
        changed_files(settings, name, manifest, settings.corpus_dir),
    )
