"""Building the index from the corpus, and telling what an index holds."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import IndexMissingError, NewsbotError
from bot.indexing import store
from bot.indexing.chunking import Chunk, Sentence, chunk_sentences, sentence_table
from bot.indexing.corpus import file_hashes, load_corpus

if TYPE_CHECKING:
    from bot.onnx_export import QueryEncoderFiles

# progress(stage, done, total): called as work advances, for progress bars.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build produced."""

    location: Path
    documents: int
    chunks: int
    sentences: int
    seconds: float
    warnings: list[str]


def passage_for_embedding(title: str, text: str) -> str:
    """Chunks are embedded with their document's title as context, never the title alone."""
    return f"{title}\n{text}" if title else text


def build_index(
    settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
) -> BuildReport:
    """Read the corpus, chunk, embed and publish a new index atomically."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    corpus = load_corpus(settings.corpus_dir, settings.follow_symlinks)
    report("reading", len(corpus.documents), len(corpus.documents))

    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    for number, document in enumerate(corpus.documents):
        table = sentence_table(number, document)
        chunks += chunk_sentences(
            table,
            len(sentences),
            settings.chunk_sentences,
            settings.chunk_overlap,
            settings.chunk_max_chars,
        )
        sentences += table
    if not chunks:
        raise NewsbotError(f"corpus at {settings.corpus_dir} has no sentences to index")

    if embedder is None:
        from bot.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    documents = corpus.documents
    chunk_texts = [documents[c.doc].text[c.start : c.end] for c in chunks]
    chunk_inputs = [
        passage_for_embedding(documents[c.doc].title, t)
        for c, t in zip(chunks, chunk_texts, strict=True)
    ]
    sentence_inputs = [documents[s.doc].text[s.start : s.end] for s in sentences]
    chunk_vectors = _encode(
        embedder, chunk_inputs, settings.embed_batch_size, "embedding passages", report
    )
    sentence_vectors = _encode(
        embedder, sentence_inputs, settings.embed_batch_size, "embedding sentences", report
    )

    import bm25s

    from bot.lexical import terms

    bm25 = bm25s.BM25()
    bm25.index(
        [
            terms(passage_for_embedding(documents[c.doc].title, t)) or [""]
            for c, t in zip(chunks, chunk_texts, strict=True)
        ],
        show_progress=False,
    )

    manifest: dict[str, Any] = {
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunking": settings.chunking,
        "settings": settings.to_json(),
        "corpus_dir": str(settings.corpus_dir),
        "files": {doc.doc_id: doc.sha256 for doc in documents},
        "counts": {"documents": len(documents), "chunks": len(chunks), "sentences": len(sentences)},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    records = [
        store.DocumentRecord(
            d.doc_id, str(d.path), d.title, d.source, d.url, d.published, d.sha256, d.text
        )
        for d in documents
    ]
    warnings = list(corpus.warnings)
    with tempfile.TemporaryDirectory(prefix="newsbot-onnx-") as scratch:
        report("exporting query encoder", 0, 1)
        encoder = _query_encoder(embedder, Path(scratch), warnings)
        report("exporting query encoder", 1, 1)
        if encoder is not None:
            manifest["query_encoder"] = encoder.manifest
        location = store.publish(
            settings.index_dir,
            manifest,
            records,
            _columns(sentences, ("doc", "paragraph", "start", "end")),
            _columns(chunks, ("doc", "paragraph", "start", "end", "first", "last")),
            chunk_vectors,
            sentence_vectors,
            bm25,
            extra_files=encoder.files if encoder is not None else None,
        )
    return BuildReport(
        location,
        len(documents),
        len(chunks),
        len(sentences),
        time.perf_counter() - started,
        warnings,
    )


def _query_encoder(
    embedder: Embedder, scratch: Path, warnings: list[str]
) -> QueryEncoderFiles | None:
    """The ONNX query encoder to store with the index, or None (with a warning saying why)."""
    from bot.embedding import SentenceTransformerEmbedder
    from bot.onnx_export import ExportError, prepare_query_encoder

    if not isinstance(embedder, SentenceTransformerEmbedder):
        return None  # only the reference model can be exported; other embedders serve as they are
    try:
        return prepare_query_encoder(embedder, scratch)
    except ExportError as problem:
        warnings.append(
            f"no ONNX query encoder stored with the index: {problem}; "
            "questions will be encoded with sentence-transformers (slower start)"
        )
        return None


def _encode(
    embedder: Embedder, texts: list[str], batch_size: int, stage: str, report: Progress
) -> np.ndarray:
    parts = []
    step = batch_size * 8
    for begin in range(0, len(texts), step):
        parts.append(embedder.encode(texts[begin : begin + step], batch_size=batch_size))
        report(stage, min(begin + step, len(texts)), len(texts))
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def _columns(rows: list[Any], names: tuple[str, ...]) -> dict[str, list[int]]:
    return {name: [getattr(row, name) for row in rows] for name in names}


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
        """Built, from the corpus as it is, with these chunk settings and a lean query encoder."""
        return (
            self.exists
            and not self.stale
            and self.manifest.get("chunking") == settings.chunking
            and self.has_query_encoder
        )


def index_status(settings: Settings) -> IndexStatus:
    """Read the manifest only, and compare its file hashes with the corpus as it is now."""
    try:
        manifest = store.read_manifest(settings.index_dir)
    except IndexMissingError:
        return IndexStatus(settings.index_dir, False, {}, [])
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
