"""The index on disk: writing a build atomically, finding the current one, loading it safely.

Layout of an index directory::

    index/
      CURRENT              name of the build that serves (replaced atomically)
      builds/<name>/       manifest.json, metadata.json, chunks.faiss, sentences.npy, bm25/

A build is written to `builds/.tmp-<name>` and renamed, then CURRENT is swapped with
`os.replace`: a failed or killed build never touches the build that is serving.
No pickle anywhere: JSON, `.npy` loaded with `allow_pickle=False`, and FAISS's own format.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import IndexMissingError, IndexUnusableError

FORMAT_VERSION = 1
POINTER = "CURRENT"
BUILDS = "builds"
_KEEP_BUILDS = 2  # the serving build and the one before it, for readers still loading it
REBUILD_HINT = "run `newsbot index build`"


@dataclass(frozen=True)
class DocumentRecord:
    """What the index keeps of a document, including its full text at build time."""

    doc_id: str
    path: str
    title: str
    source: str
    url: str
    published: str
    sha256: str
    text: str


@dataclass
class IndexData:
    """A loaded index: everything answering needs, in memory."""

    location: Path
    manifest: dict[str, Any]
    documents: list[DocumentRecord]
    sentences: dict[str, np.ndarray]  # columns: doc, paragraph, start, end
    chunks: dict[str, np.ndarray]  # columns: doc, paragraph, start, end, first, last
    chunk_vectors: Any  # faiss.Index over chunk embeddings (inner product; flat or HNSW)
    sentence_vectors: np.ndarray | None  # None when the build embeds no sentences
    bm25: Any  # bm25s.BM25 over chunk terms

    @property
    def chunk_count(self) -> int:
        return len(self.chunks["doc"])

    def chunk_text(self, chunk: int) -> str:
        doc = self.documents[int(self.chunks["doc"][chunk])]
        return doc.text[int(self.chunks["start"][chunk]) : int(self.chunks["end"][chunk])]

    def sentence_text(self, sentence: int) -> str:
        doc = self.documents[int(self.sentences["doc"][sentence])]
        return doc.text[
            int(self.sentences["start"][sentence]) : int(self.sentences["end"][sentence])
        ]


def current_build(index_dir: Path) -> Path:
    """The directory of the build that serves; `IndexMissingError` if there is none."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}; {REBUILD_HINT}") from None
    build = index_dir / BUILDS / name
    if not name or not build.is_dir():
        raise IndexUnusableError(f"index at {index_dir} is corrupt (missing build); {REBUILD_HINT}")
    return build


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the serving build (cheap: no vectors are loaded)."""
    build = current_build(index_dir)
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt (manifest); {REBUILD_HINT}"
        ) from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusableError(
            f"index at {index_dir} has format {manifest.get('format_version')}, "
            f"this newsbot reads format {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    manifest["build"] = build.name
    return manifest


def load(index_dir: Path) -> IndexData:
    """Load the serving build fully into memory; any damage is an `IndexUnusableError`."""
    import bm25s
    import faiss

    manifest = read_manifest(index_dir)
    build = index_dir / BUILDS / manifest["build"]
    try:
        meta = json.loads((build / "metadata.json").read_text(encoding="utf-8"))
        documents = [DocumentRecord(**record) for record in meta["documents"]]
        sentences = {k: np.asarray(v, dtype=np.int64) for k, v in meta["sentences"].items()}
        chunks = {k: np.asarray(v, dtype=np.int64) for k, v in meta["chunks"].items()}
        chunk_vectors = faiss.read_index(str(build / "chunks.faiss"))
        # A build whose recipe embeds no sentences has no sentences.npy.
        with_sentences = manifest.get("recipe", {}).get("sentence_vectors", True)
        sentence_vectors = (
            np.load(build / "sentences.npy", allow_pickle=False) if with_sentences else None
        )
        bm25 = bm25s.BM25.load(str(build / "bm25"), load_corpus=False)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt ({type(exc).__name__}); {REBUILD_HINT}"
        ) from None
    consistent = (
        chunk_vectors.ntotal == len(chunks["doc"])
        and (
            sentence_vectors is None
            or sentence_vectors.shape == (len(sentences["doc"]), manifest["dimension"])
        )
        and chunk_vectors.d == manifest["dimension"]
    )
    if not consistent:
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt (sizes disagree); {REBUILD_HINT}"
        )
    return IndexData(
        build, manifest, documents, sentences, chunks, chunk_vectors, sentence_vectors, bm25
    )


def publish(
    index_dir: Path,
    manifest: dict[str, Any],
    documents: list[DocumentRecord],
    sentences: dict[str, list[int]],
    chunks: dict[str, list[int]],
    chunk_vectors: Any,
    sentence_vectors: np.ndarray | None,
    bm25: Any,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write a complete build next to the serving one, then make it the serving one.

    `chunk_vectors` is a FAISS index, or an array to put in an exact (flat) one;
    `sentence_vectors` may be None. `extra_files` (name in the build -> source file) are
    copied into the build too.
    """
    import faiss

    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(builds)
    # Sortable by time; the pid at the end lets a later build spot an abandoned staging dir.
    name = (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        + f"-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    )
    staging = builds / f".tmp-{name}"
    staging.mkdir()
    try:
        index = chunk_vectors
        if isinstance(index, np.ndarray):
            index = faiss.IndexFlatIP(chunk_vectors.shape[1])
            index.add(np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        faiss.write_index(index, str(staging / "chunks.faiss"))
        if sentence_vectors is not None:
            np.save(
                staging / "sentences.npy", sentence_vectors.astype(np.float32), allow_pickle=False
            )
        bm25.save(str(staging / "bm25"))
        for file_name, source in (extra_files or {}).items():
            shutil.copyfile(source, staging / file_name)
        meta = {
            "documents": [doc.__dict__ for doc in documents],
            "sentences": sentences,
            "chunks": chunks,
        }
        _write_json(staging / "metadata.json", meta)
        _write_json(staging / "manifest.json", {"format_version": FORMAT_VERSION, **manifest})
        final = builds / name
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".{POINTER}.{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, index_dir / POINTER)
    _prune_old_builds(builds, keep=name)
    return final


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())


def _remove_abandoned_builds(builds: Path) -> None:
    """Staging directories of builds whose process is gone (killed mid-build)."""
    for staging in builds.glob(".tmp-*"):
        pid = staging.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and _process_alive(int(pid))):
            shutil.rmtree(staging, ignore_errors=True)


def _prune_old_builds(builds: Path, keep: str) -> None:
    finished = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-_KEEP_BUILDS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, 0)
        return True
    return False
