"""Building the index from the corpus, incrementally, and telling what an index holds.

A build reads every corpus file once and hashes it. A document whose file is unchanged since
the serving build (same path, same SHA-256) keeps its sentences, chunks and vectors; only new
or edited documents are split and embedded, removed ones are dropped, and BM25 is rebuilt
over all chunks (it is cheap). Documents are laid out in file order exactly as a fresh build
would, so an updated index equals a fresh build of the same corpus. Anything that changes
what a document becomes (model, encoder runtime, chunking, splitter, format) is the build's
`recipe`; a different recipe, `full=True` or an unreadable previous build means a full build,
and the report says why.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import IndexMissingError, IndexUnusableError, NewsbotError
from bot.indexing import store
from bot.indexing.chunking import chunk_sentences, sentence_table
from bot.indexing.corpus import (
    FRONT_MATTER_RULES,
    Document,
    file_hashes,
    no_articles,
    parse_document,
    read_article,
    require_corpus_dir,
    scan_corpus,
    scan_warnings,
)
from bot.indexing.lock import build_lock
from bot.indexing.segment import MAX_SENTENCE_CHARS, SPLITTER

if TYPE_CHECKING:
    from bot.onnx_export import QueryEncoderFiles

# progress(stage, done, total): called as work advances, for progress bars. Stages, in order:
# "waiting" (only while another build of the index runs; once, 0/0), "reading" (files),
# "splitting" (new documents), "embedding" (passages), "writing" (steps).
Progress = Callable[[str, int, int], None]
STAGES = ("waiting", "reading", "splitting", "embedding", "writing")

# Bump when what a chunk embeds changes (see `passage_for_embedding`).
PASSAGE_TEXT = "title-newline-passage-1"
# Sentence vectors: no longer read at query time (the reader scores sentences instead).
SENTENCE_VECTORS = False
_EMBED_BLOCK = 256  # texts per embedding call: progress every few seconds, bounded memory
# HNSW parameters for large indexes (recall@10 against exact search in docs/benchmarks.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


@dataclass(frozen=True)
class BuildReport:
    """What a build produced, and how much of it was reused from the previous build."""

    location: Path
    documents: int
    chunks: int
    sentences: int
    seconds: float
    warnings: list[str]
    full: bool = True
    reason: str = ""  # why the build was full ("" for an incremental one)
    embedded_documents: int = 0  # new or changed documents split and embedded
    reused_documents: int = 0
    removed_documents: int = 0
    embedded_texts: int = 0  # passages (and sentences) sent to the embedder


def passage_for_embedding(title: str, text: str) -> str:
    """Chunks are embedded with their document's title as context, never the title alone."""
    return f"{title}\n{text}" if title else text


@dataclass
class _Part:
    """One document's share of the index, with doc-local sentence numbers."""

    record: store.DocumentRecord
    sentences: np.ndarray  # (n, 3): paragraph, start, end
    chunks: np.ndarray  # (m, 5): paragraph, start, end, first, last (first/last doc-local)
    chunk_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    reused: bool = False


@dataclass
class _Previous:
    """The serving build, as far as a new build can reuse it."""

    parts: dict[tuple[str, str], _Part] = field(default_factory=dict)  # (doc_id, sha256) ->


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> BuildReport:
    """Bring the index up to date with the corpus and publish it atomically.

    Unchanged documents are reused from the serving build unless `full` is set or the
    recipe changed. `embedder` (default: the ONNX encoder the queries use, exported once and
    cached) embeds the passages.
    """
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    require_corpus_dir(settings.corpus_dir)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-onnx-") as scratch:
        embedder, encoder = _embedders(embedder, Path(scratch), warnings)
        recipe = _recipe(settings, embedder)
        # One build at a time from here to publishing: what it publishes is what it read.
        with build_lock(settings.index_dir, report):
            scan = scan_corpus(settings.corpus_dir, settings.follow_symlinks)
            warnings[:0] = scan_warnings(settings.corpus_dir, scan)
            previous, reason = _previous_build(settings, recipe, full)
            parts, fresh = _read(settings, scan.supported, previous, warnings, report)
            store.check_writable(settings.index_dir)  # before embedding: a line, not a traceback
            if not parts:
                raise NewsbotError(no_articles(settings.corpus_dir, warnings))
            for number, (part, document) in enumerate(fresh, start=1):
                _split(part, document, settings)
                report("splitting", number, len(fresh))
            if not fresh:
                report("splitting", 0, 0)
            embedded = _embed(fresh, embedder, settings.embed_batch_size, report)
            location, counts = _publish(settings, recipe, parts, encoder, embedder, report)
    reused = sum(part.reused for part in parts)
    removed = 0 if previous is None else len({k[0] for k in previous.parts} - _doc_ids(parts))
    return BuildReport(
        location,
        counts["documents"],
        counts["chunks"],
        counts["sentences"],
        time.perf_counter() - started,
        warnings,
        full=previous is None,
        reason=reason,
        embedded_documents=len(fresh),
        reused_documents=reused,
        removed_documents=removed,
        embedded_texts=embedded,
    )


def _embedders(
    embedder: Embedder | None, scratch: Path, warnings: list[str]
) -> tuple[Embedder, QueryEncoderFiles | None]:
    """(what embeds the passages, the ONNX query encoder to store or None)."""
    from bot.embedding import SentenceTransformerEmbedder
    from bot.onnx_export import ExportError, prepare_query_encoder

    if embedder is not None and not isinstance(embedder, SentenceTransformerEmbedder):
        return embedder, None  # only the reference model can be exported; others serve as they are
    try:
        encoder = prepare_query_encoder(embedder, scratch)
    except ExportError as problem:
        warnings.append(
            f"no ONNX query encoder stored with the index: {problem}; "
            "questions will be encoded with sentence-transformers (slower start)"
        )
        return embedder or SentenceTransformerEmbedder(), None
    if embedder is None:
        from bot.onnx_embedding import ENCODER_FILE, TOKENIZER_FILE, OnnxEmbedder

        files = encoder.files
        embedder = OnnxEmbedder(
            files[ENCODER_FILE],
            files[TOKENIZER_FILE],
            int(encoder.manifest["dimension"]),
            workers=os.cpu_count() or 1,
        )
    return embedder, encoder


def _recipe(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Everything that decides what a document becomes in the index."""
    return {
        "format_version": store.FORMAT_VERSION,
        "model": embedder.name,
        "runtime": getattr(embedder, "runtime", type(embedder).__name__),
        "dimension": embedder.dimension,
        "chunking": settings.chunking,
        "splitter": SPLITTER,
        "max_sentence_chars": MAX_SENTENCE_CHARS,
        "passage_text": PASSAGE_TEXT,
        "front_matter": FRONT_MATTER_RULES,
        "sentence_vectors": SENTENCE_VECTORS,
    }


def _previous_build(
    settings: Settings, recipe: dict[str, Any], full: bool
) -> tuple[_Previous | None, str]:
    """The serving build's reusable parts, or (None, why the build must be full)."""
    if full:
        return None, "--full was asked for"
    try:
        manifest = store.read_manifest(settings.index_dir)
    except IndexMissingError:
        return None, "there is no index yet"
    except IndexUnusableError as problem:
        return None, f"the serving index cannot be reused ({problem})"
    before = manifest.get("recipe")
    if not isinstance(before, dict):
        return None, "the serving index was built by an older newsbot"
    for key, value in recipe.items():
        if before.get(key) != value:
            return None, f"{key.replace('_', ' ')} changed ({before.get(key)} -> {value})"
    try:
        data = store.load(settings.index_dir)
    except IndexUnusableError as problem:
        return None, f"the serving index cannot be reused ({problem})"
    return _reusable_parts(data), ""


def _reusable_parts(data: store.IndexData) -> _Previous:
    vectors = data.chunk_vectors.reconstruct_n(0, data.chunk_vectors.ntotal)
    sentence_docs, chunk_docs = data.sentences["doc"], data.chunks["doc"]
    previous = _Previous()
    for number, record in enumerate(data.documents):
        s0, s1 = np.searchsorted(sentence_docs, [number, number + 1])
        c0, c1 = np.searchsorted(chunk_docs, [number, number + 1])
        sentences = np.stack(
            [data.sentences[k][s0:s1] for k in ("paragraph", "start", "end")], axis=1
        )
        chunks = np.stack(
            [data.chunks[k][c0:c1] for k in ("paragraph", "start", "end", "first", "last")],
            axis=1,
        )
        chunks[:, 3:] -= s0  # doc-local sentence numbers
        previous.parts[(record.doc_id, record.sha256)] = _Part(
            record,
            sentences,
            chunks,
            vectors[c0:c1],
            None if data.sentence_vectors is None else data.sentence_vectors[s0:s1],
            reused=True,
        )
    return previous


def _read(
    settings: Settings,
    paths: list[Path],
    previous: _Previous | None,
    warnings: list[str],
    report: Progress,
) -> tuple[list[_Part], list[tuple[_Part, Document]]]:
    """Every readable document in file order, and those of them that must be embedded."""
    import hashlib

    parts: list[_Part] = []
    fresh: list[tuple[_Part, Document]] = []
    corpus_dir = settings.corpus_dir
    for number, path in enumerate(paths, start=1):
        doc_id = path.relative_to(corpus_dir).as_posix()
        raw = read_article(path, doc_id, warnings)
        if raw is None:
            continue
        sha256 = hashlib.sha256(raw).hexdigest()
        old = previous.parts.get((doc_id, sha256)) if previous is not None else None
        if old is not None:
            record = store.DocumentRecord(**{**old.record.__dict__, "path": str(path.resolve())})
            parts.append(
                _Part(
                    record,
                    old.sentences,
                    old.chunks,
                    old.chunk_vectors,
                    old.sentence_vectors,
                    reused=True,
                )
            )
        else:
            document = parse_document(corpus_dir, path, raw, warnings)
            if document.text[document.body_start :].strip():
                part = _Part(
                    _record(document), np.zeros((0, 3), np.int64), np.zeros((0, 5), np.int64)
                )
                parts.append(part)
                fresh.append((part, document))
            else:
                warnings.append(f"skipped {doc_id}: it is empty (no text to index)")
        del raw
        report("reading", number, len(paths))
    return parts, fresh


def _record(d: Document) -> store.DocumentRecord:
    return store.DocumentRecord(
        d.doc_id, str(d.path), d.title, d.source, d.url, d.published, d.sha256, d.text
    )


def _split(part: _Part, document: Document, settings: Settings) -> None:
    table = sentence_table(0, document)
    chunks = chunk_sentences(
        table, 0, settings.chunk_sentences, settings.chunk_overlap, settings.chunk_max_chars
    )
    part.sentences = np.array(
        [(s.paragraph, s.start, s.end) for s in table], dtype=np.int64
    ).reshape(-1, 3)
    part.chunks = np.array(
        [(c.paragraph, c.start, c.end, c.first, c.last) for c in chunks], dtype=np.int64
    ).reshape(-1, 5)


def _embed(
    fresh: list[tuple[_Part, Document]], embedder: Embedder, batch_size: int, report: Progress
) -> int:
    """Embed the chunks (and sentences) of new documents, block by block; texts embedded."""
    jobs: list[tuple[_Part, str, int]] = []  # (part, "chunk" | "sentence", row)
    for part, _document in fresh:
        part.chunk_vectors = np.zeros((len(part.chunks), embedder.dimension), np.float32)
        jobs += [(part, "chunk", row) for row in range(len(part.chunks))]
        if SENTENCE_VECTORS:
            part.sentence_vectors = np.zeros((len(part.sentences), embedder.dimension), np.float32)
            jobs += [(part, "sentence", row) for row in range(len(part.sentences))]
    # Longest first, so each block holds texts of similar length (little padding) and the
    # progress estimate errs on the slow side.
    jobs.sort(key=lambda job: -_length_of(*job))
    report("embedding", 0, len(jobs))
    for begin in range(0, len(jobs), _EMBED_BLOCK):
        block = jobs[begin : begin + _EMBED_BLOCK]
        vectors = embedder.encode([_text_of(*job) for job in block], batch_size=batch_size)
        for (part, kind, row), vector in zip(block, vectors, strict=True):
            target = part.chunk_vectors if kind == "chunk" else part.sentence_vectors
            target[row] = vector  # type: ignore[index]
        report("embedding", begin + len(block), len(jobs))
    return len(jobs)


def _length_of(part: _Part, kind: str, row: int) -> int:
    if kind == "chunk":
        return int(part.chunks[row, 2] - part.chunks[row, 1]) + len(part.record.title) + 1
    return int(part.sentences[row, 2] - part.sentences[row, 1])


def _text_of(part: _Part, kind: str, row: int) -> str:
    text = part.record.text
    if kind == "chunk":
        _, start, end, _, _ = part.chunks[row]
        return passage_for_embedding(part.record.title, text[start:end])
    _, start, end = part.sentences[row]
    return text[start:end]


def _publish(
    settings: Settings,
    recipe: dict[str, Any],
    parts: list[_Part],
    encoder: QueryEncoderFiles | None,
    embedder: Embedder,
    report: Progress,
) -> tuple[Path, dict[str, int]]:
    """Lay the parts out in order, index them (FAISS, BM25) and publish the build."""
    report("writing", 0, 3)
    sentence_columns: dict[str, list[int]] = {"doc": [], "paragraph": [], "start": [], "end": []}
    chunk_columns: dict[str, list[int]] = {
        "doc": [],
        "paragraph": [],
        "start": [],
        "end": [],
        "first": [],
        "last": [],
    }
    offset = 0
    for number, part in enumerate(parts):
        sentence_columns["doc"] += [number] * len(part.sentences)
        for column, name in enumerate(("paragraph", "start", "end")):
            sentence_columns[name] += part.sentences[:, column].tolist()
        chunk_columns["doc"] += [number] * len(part.chunks)
        for column, name in enumerate(("paragraph", "start", "end")):
            chunk_columns[name] += part.chunks[:, column].tolist()
        chunk_columns["first"] += (part.chunks[:, 3] + offset).tolist()
        chunk_columns["last"] += (part.chunks[:, 4] + offset).tolist()
        offset += len(part.sentences)
    counts = {
        "documents": len(parts),
        "chunks": len(chunk_columns["doc"]),
        "sentences": offset,
    }
    if not counts["chunks"]:
        raise NewsbotError(f"corpus at {settings.corpus_dir} has no sentences to index")
    dimension = embedder.dimension
    chunk_vectors = np.vstack(
        [p.chunk_vectors for p in parts if p.chunk_vectors is not None and len(p.chunks)]
    )
    sentence_vectors = (
        np.vstack([p.sentence_vectors for p in parts if p.sentence_vectors is not None])
        if SENTENCE_VECTORS
        else None
    )
    vector_index = _vector_index(chunk_vectors, settings.hnsw_min_chunks)
    report("writing", 1, 3)
    bm25 = _bm25(parts)
    report("writing", 2, 3)
    manifest: dict[str, Any] = {
        "model": embedder.name,
        "dimension": dimension,
        "chunking": settings.chunking,
        "recipe": recipe,
        "vector_index": type(vector_index).__name__,
        "settings": settings.to_json(),
        "corpus_dir": str(settings.corpus_dir),
        "files": {p.record.doc_id: p.record.sha256 for p in parts},
        "counts": counts,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if encoder is not None:
        manifest["query_encoder"] = encoder.manifest
    location = store.publish(
        settings.index_dir,
        manifest,
        [p.record for p in parts],
        sentence_columns,
        chunk_columns,
        vector_index,
        sentence_vectors,
        bm25,
        extra_files=encoder.files if encoder is not None else None,
    )
    report("writing", 3, 3)
    return location, counts


def _vector_index(vectors: np.ndarray, hnsw_min_chunks: int) -> Any:
    """Exact inner-product search, or HNSW once there are `hnsw_min_chunks` chunks or more."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if hnsw_min_chunks and len(vectors) >= hnsw_min_chunks:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _bm25(parts: list[_Part]) -> Any:
    import bm25s

    from bot.lexical import terms

    bm25 = bm25s.BM25()
    bm25.index(
        [
            terms(passage_for_embedding(p.record.title, p.record.text[start:end])) or [""]
            for p in parts
            for _, start, end, _, _ in p.chunks
        ],
        show_progress=False,
    )
    return bm25


def _doc_ids(parts: list[_Part]) -> set[str]:
    return {p.record.doc_id for p in parts}


@dataclass(frozen=True)
class IndexStatus:
    """What `newsbot index status` reports."""

    index_dir: Path
    exists: bool
    manifest: dict[str, Any]
    changed_files: list[str]  # added, removed or edited since the build

    @property
    def stale(self) -> bool:
        return bool(self.changed_files)

    @property
    def has_query_encoder(self) -> bool:
        """Whether the build carries the ONNX encoder that answers without torch."""
        return "query_encoder" in self.manifest

    def up_to_date(self, settings: Settings) -> bool:
        """Built, from the corpus as it is, with these chunk settings, this sentence splitter
        and a lean query encoder."""
        return (
            self.exists
            and not self.stale
            and self.manifest.get("chunking") == settings.chunking
            and self.manifest.get("recipe", {}).get("splitter") == SPLITTER
            and self.has_query_encoder
        )


def index_status(settings: Settings, *, verify: bool = False) -> IndexStatus:
    """Read the manifest and compare its file hashes with the corpus as it is now; `verify`:
    also check the build's files against it (`IndexUnusableError` naming a missing or damaged
    one; it reads every file, so only `newsbot index status` asks)."""
    try:
        manifest = store.read_manifest(settings.index_dir)
    except IndexMissingError:
        return IndexStatus(settings.index_dir, False, {}, [])
    if verify:
        store.verify_build(settings.index_dir / store.BUILDS / manifest["build"], manifest)
    return IndexStatus(
        settings.index_dir, True, manifest, corpus_changes(manifest, settings.corpus_dir)
    )


def corpus_changes(manifest: dict[str, Any], corpus_dir: Path) -> list[str]:
    """doc_ids added, removed or edited since the index was built."""
    try:
        follow = bool(manifest.get("settings", {}).get("follow_symlinks", False))
        now = file_hashes(corpus_dir, follow)
    except NewsbotError:
        return sorted(manifest.get("files", {}))
    before = manifest.get("files", {})
    return sorted(doc for doc in set(now) | set(before) if now.get(doc) != before.get(doc))
