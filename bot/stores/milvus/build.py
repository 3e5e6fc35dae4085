"""Building the index into Milvus: by document hash, in shards, published by moving an alias.

Every build goes into a staging build named after what it will hold (the recipe and every
document's SHA-256: `<collection>__<fingerprint>`), so workers that scan the same corpus agree
on it without talking to each other, and a killed build resumes where it stopped:

- `build(settings, shard=(i, n), publish=False)` embeds the documents whose doc_id hashes to
  shard i of n (`newsbot index build --shard I/N`). A document whose SHA-256 is unchanged
  since the serving build is copied from it (vectors included, nothing embedded); a new or
  edited one is split and embedded. A document's passages are upserted first and its row in
  `B_docs` last, so a retried worker overwrites instead of duplicating, and a document counts
  as present only when it is complete. Removed and edited documents' old passages are simply
  not carried into the new build.
- `publish(settings)` (`newsbot index build --publish`, or a plain build) checks that every
  document of the corpus is present, counts each term's document frequency, writes the
  manifest, and moves the serving alias to the new build in one step. Until then the alias
  keeps serving the previous build, so a killed or failing build changes nothing users see.
  Older builds are dropped (the serving one and the one before it stay).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import CorpusError, IndexMissingError, NewsbotError
from bot.indexing.build import (
    BuildReport,
    Progress,
    _embedders,
    _recipe,
    passage_for_embedding,
)
from bot.indexing.chunking import chunk_sentences, sentence_table
from bot.indexing.corpus import (
    no_articles,
    parse_document,
    read_article,
    require_corpus_dir,
    scan_corpus,
    scan_warnings,
)
from bot.indexing.lock import build_lock
from bot.lexical import terms
from bot.stores.milvus import schema
from bot.stores.milvus.client import (
    client,
    describe,
    ensure_loaded,
    is_loaded,
    is_server,
    lite_file_exists,
    translated,
)

_BATCH = 256  # passages per embedding block and per insert
_COPY_DOCS = 64  # documents copied per query from the serving build
CREATED_ELSEWHERE_WAIT = 60.0  # seconds for another shard worker to finish creating
CHUNK_FIELDS = [
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
    "source",
    "doc",
    "sentences",
]


def build_name(settings: Settings, fingerprint: str) -> str:
    return f"{settings.milvus_collection}__{fingerprint[:16]}"


def serving_build(settings: Settings) -> str:
    """The collection the alias names; `IndexMissingError` if there is none (a Milvus Lite
    file that does not exist is not created: asking must leave nothing behind)."""
    if not is_server(settings.milvus_address) and not lite_file_exists(settings):
        raise IndexMissingError(_no_index(settings))
    milvus = client(settings)
    with translated(settings):
        try:
            return milvus.describe_alias(settings.milvus_collection)["collection_name"]
        except Exception as exc:
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                raise IndexMissingError(_no_index(settings)) from None
            raise


def _no_index(settings: Settings) -> str:
    return (
        f"no newsbot index {settings.milvus_collection!r} in {describe(settings)}; "
        "run `newsbot index build`"
    )


def build(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    *,
    full: bool = False,
    shard: tuple[int, int] = (0, 1),
    publish_after: bool = True,
) -> BuildReport:
    """Embed this worker's share of the corpus into the staging build (and publish it)."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    index, shards = shard
    if full and shards > 1:
        raise NewsbotError("--full cannot be split into shards; drop --full or --shard")
    require_corpus_dir(settings.corpus_dir)
    warnings: list[str] = []
    milvus = client(settings)
    with tempfile.TemporaryDirectory(prefix="newsbot-onnx-") as scratch:
        embedder, encoder = _embedders(embedder, Path(scratch), warnings)
        recipe = _recipe(settings, embedder)
        # A build that publishes is the index's one writer from reading the corpus on (shard
        # workers publish nothing and share the staging build, so they run side by side).
        with build_lock(settings.index_dir, report) if publish_after else nullcontext():
            scan = scan_corpus(settings.corpus_dir, settings.follow_symlinks)
            warnings[:0] = scan_warnings(settings.corpus_dir, scan)
            hashes = _hashes(settings, scan.supported, warnings, report)
            if not hashes:
                raise NewsbotError(no_articles(settings.corpus_dir, warnings))
            fingerprint = _fingerprint(recipe, hashes, full)
            name = build_name(settings, fingerprint)
            try:
                serving: str | None = serving_build(settings)
            except IndexMissingError:
                serving = None
            reason = (
                "--full was asked for"
                if full
                else "there is no index yet"
                if serving is None
                else _recipe_change(settings, serving, recipe)
            )
            if name == serving:
                report("embedding", 0, 0)
                counts = _manifest(settings, serving).get("counts", {})
                return BuildReport(
                    settings.index_dir / "milvus" / name,
                    counts.get("documents", 0),
                    counts.get("chunks", 0),
                    counts.get("sentences", 0),
                    time.perf_counter() - started,
                    warnings,
                    full=False,
                    reused_documents=counts.get("documents", 0),
                )
            _create_build(settings, name, embedder.dimension)
            with translated(settings, name):
                present = dict(_doc_rows(milvus, name))
            mine = {
                d: h
                for d, h in hashes.items()
                if schema.shard_of(d, shards) == index and present.get(d) != h
            }
            reusable: dict[str, str] = {}
            if serving is not None and not reason:
                with translated(settings, serving):
                    ensure_loaded(milvus, serving, serving + schema.DOCS)
                    before = dict(_doc_rows(milvus, serving, list(mine)))
                reusable = {d: h for d, h in mine.items() if before.get(d) == h}
            fresh = [d for d in mine if d not in reusable]
            if reusable:
                _copy(settings, serving, name, sorted(reusable))
            embedded, texts = _embed_fresh(settings, name, fresh, mine, embedder, warnings, report)
            if publish_after:
                location, counts = _publish(settings, name, encoder, recipe)
            else:
                location = settings.index_dir / "milvus" / name
                counts = {"documents": len(hashes), "chunks": 0, "sentences": 0}
    removed = 0
    if serving is not None:
        with translated(settings, serving):
            ensure_loaded(milvus, serving + schema.DOCS)
            removed = sum(1 for d, _ in _doc_rows(milvus, serving) if d not in hashes)
    return BuildReport(
        location,
        counts["documents"],
        counts["chunks"],
        counts["sentences"],
        time.perf_counter() - started,
        warnings,
        full=bool(reason),
        reason=reason,
        embedded_documents=embedded,
        reused_documents=len(hashes) - embedded,
        removed_documents=removed if shards == 1 else 0,
        embedded_texts=texts,
    )


def publish(settings: Settings, embedder: Embedder | None = None) -> tuple[Path, dict[str, int]]:
    """Publish the sharded build of the corpus as it is now (`newsbot index build --publish`),
    as the index's one writer (`bot.indexing.lock`)."""
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-onnx-") as scratch:
        embedder, encoder = _embedders(embedder, Path(scratch), warnings)
        recipe = _recipe(settings, embedder)
        with build_lock(settings.index_dir):
            return _publish(settings, None, encoder, recipe)


def _publish(
    settings: Settings, name: str | None, encoder: Any, recipe: dict[str, Any]
) -> tuple[Path, dict[str, int]]:
    """Check the staging build (`name`, else the one of the corpus as it is now) is complete,
    count terms, write the manifest, move the alias. The caller holds the build lock."""
    milvus = client(settings)
    warnings: list[str] = []
    scan = scan_corpus(settings.corpus_dir, settings.follow_symlinks)
    hashes = _hashes(settings, scan.supported, warnings, lambda *a: None)
    name = name or build_name(settings, _fingerprint(recipe, hashes, False))
    with translated(settings, name):
        if not milvus.has_collection(name):
            raise NewsbotError(
                f"no build of the corpus as it is now in {describe(settings)} (expected "
                f"{name}); run `newsbot index build --shard I/N` for every shard first"
            )
        ensure_loaded(milvus, name, name + schema.DOCS)
        docs = dict(_doc_rows(milvus, name, with_counts=True))
    missing = sorted(d for d, h in hashes.items() if docs.get(d, ("",))[0] != h)
    if missing:
        raise NewsbotError(
            f"{len(missing)} document(s) of the corpus are not in build {name} yet "
            f"(e.g. {missing[0]}); run the missing shards (--shard I/N), then --publish"
        )
    location = settings.index_dir / "milvus" / name
    with translated(settings, name):
        frequencies, chunk_count, length = _term_frequencies(milvus, name)
        terms_table = name + schema.TERMS
        if milvus.has_collection(terms_table):
            milvus.drop_collection(terms_table)
        milvus.create_collection(
            terms_table,
            schema=schema.table_schema(1024, schema.TERM_FIELDS),
            index_params=schema.table_index_params(milvus),
            consistency_level="Strong",
        )
        rows = (
            {"pk": token, "df": df, "v": schema.DUMMY_VECTOR} for token, df in frequencies.items()
        )
        for batch in _batched(rows, 2000):
            milvus.insert(terms_table, batch)
        counts = {
            "documents": len(hashes),
            "chunks": chunk_count,
            "sentences": sum(docs[d][2] for d in hashes),
        }
        manifest: dict[str, Any] = {
            "store": "milvus",
            "build": name,
            "model": recipe["model"],
            "dimension": recipe["dimension"],
            "chunking": settings.chunking,
            "recipe": recipe,
            "vector_index": "FLAT",
            "bm25": {"k1": schema.BM25_K1, "b": schema.BM25_B, "avgdl": length / chunk_count},
            "settings": settings.to_json(),
            "corpus_dir": str(settings.corpus_dir),
            "fingerprint": _files_fingerprint(hashes),
            "counts": counts,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if encoder is not None:
            location.mkdir(parents=True, exist_ok=True)
            for file_name, source in encoder.files.items():
                shutil.copyfile(source, location / file_name)
            manifest["query_encoder"] = encoder.manifest
        milvus.upsert(
            name + schema.DOCS,
            [
                {
                    "pk": schema.MANIFEST_ROW,
                    "sha256": "",
                    "chunks": 0,
                    "sentences": 0,
                    "meta": manifest,
                    "v": schema.DUMMY_VECTOR,
                }
            ],
        )
        for table in (name, name + schema.DOCS, terms_table):
            milvus.flush(table)
        previous = _alias_target(milvus, settings.milvus_collection)
        if previous is None:
            milvus.create_alias(name, settings.milvus_collection)
        else:
            milvus.alter_alias(name, settings.milvus_collection)
        _drop_old_builds(settings, keep={name, previous})
    return location, counts


def manifest_of(settings: Settings, name: str) -> dict[str, Any]:
    """The manifest of build `name` (with `build` set to its name)."""
    found = _manifest(settings, name)
    if not found:
        raise IndexMissingError(
            f"build {name} in {describe(settings)} has no manifest; run `newsbot index build`"
        )
    return found


def _manifest(settings: Settings, name: str) -> dict[str, Any]:
    milvus = client(settings)
    with translated(settings, name):
        ensure_loaded(milvus, name + schema.DOCS)
        rows = milvus.query(name + schema.DOCS, ids=[schema.MANIFEST_ROW], output_fields=["meta"])
    if not rows:
        return {}
    manifest = dict(rows[0]["meta"])
    manifest["build"] = name
    return manifest


def _alias_target(milvus: Any, alias: str) -> str | None:
    try:
        return milvus.describe_alias(alias)["collection_name"]
    except Exception as exc:
        if "does not exist" in str(exc) or "not found" in str(exc).lower():
            return None
        raise


def _recipe_change(settings: Settings, serving: str, recipe: dict[str, Any]) -> str:
    """Why the serving build's passages cannot be reused ('' when they can)."""
    before = _manifest(settings, serving).get("recipe")
    if not isinstance(before, dict):
        return "the serving index has no recipe"
    for key, value in recipe.items():
        if before.get(key) != value:
            return f"{key.replace('_', ' ')} changed ({before.get(key)} -> {value})"
    return ""


def _hashes(
    settings: Settings, paths: list[Path], warnings: list[str], report: Progress
) -> dict[str, str]:
    """doc_id -> SHA-256 of every non-empty article (what the build will hold)."""
    found: dict[str, str] = {}
    for number, path in enumerate(paths, start=1):
        doc_id = path.relative_to(settings.corpus_dir).as_posix()
        raw = read_article(path, doc_id, warnings)
        if raw is None:
            continue
        if raw.strip():
            found[doc_id] = hashlib.sha256(raw).hexdigest()
        else:
            warnings.append(f"skipped {doc_id}: it is empty (no text to index)")
        report("reading", number, len(paths))
    return found


def _files_fingerprint(hashes: dict[str, str]) -> str:
    canonical = json.dumps(sorted(hashes.items()), separators=(",", ":"))
    return hashlib.blake2b(canonical.encode("utf-8")).hexdigest()


def _fingerprint(recipe: dict[str, Any], hashes: dict[str, str], full: bool) -> str:
    digest = hashlib.blake2b(json.dumps(recipe, sort_keys=True).encode("utf-8"))
    digest.update(_files_fingerprint(hashes).encode())
    if full:  # a full rebuild of an unchanged corpus must not land on the serving build
        digest.update(str(time.time_ns()).encode())
    return digest.hexdigest()


def _create_build(settings: Settings, name: str, dimension: int) -> None:
    milvus = client(settings)
    with translated(settings, name):
        if not milvus.has_collection(name):
            _create_quietly(
                milvus,
                name,
                schema=schema.chunk_schema(dimension),
                index_params=schema.chunk_index_params(milvus),
            )
        if not milvus.has_collection(name + schema.DOCS):
            _create_quietly(
                milvus,
                name + schema.DOCS,
                schema=schema.table_schema(4096, schema.DOC_FIELDS),
                index_params=schema.table_index_params(milvus),
            )
        ensure_loaded(milvus, name, name + schema.DOCS)


def _create_quietly(milvus: Any, name: str, **kwargs: Any) -> None:
    """Create a collection; another shard worker creating it at the same moment is fine: this
    one waits (up to CREATED_ELSEWHERE_WAIT) until that worker's collection is there, indexed
    and loaded (which creating one with its index does last)."""
    try:
        milvus.create_collection(name, consistency_level="Strong", **kwargs)
    except Exception as exc:
        message = str(exc).lower()
        # Milvus says "already exist"; Milvus Lite, when both creates race, "File exists".
        if "already exist" not in message and "file exists" not in message:
            raise
        deadline = time.monotonic() + CREATED_ELSEWHERE_WAIT
        while not (milvus.has_collection(name) and is_loaded(milvus, name)):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _doc_rows(
    milvus: Any, name: str, doc_ids: list[str] | None = None, *, with_counts: bool = False
) -> Iterator[tuple[str, Any]]:
    """(doc_id, sha256) of the documents complete in build `name` (optionally only `doc_ids`);
    with_counts: (doc_id, (sha256, chunks, sentences))."""
    table = name + schema.DOCS
    if not milvus.has_collection(table):
        return
    fields = ["pk", "sha256", "chunks", "sentences"]
    if doc_ids is None:
        filters = [f'pk != "{schema.MANIFEST_ROW}"']
    else:
        filters = [f"pk in {json.dumps(batch)}" for batch in _batched(doc_ids, 500)]
    for expression in filters:
        iterator = milvus.query_iterator(
            table, batch_size=2000, filter=expression, output_fields=fields
        )
        try:
            while rows := iterator.next():
                for row in rows:
                    if row["pk"] == schema.MANIFEST_ROW:
                        continue
                    value = (
                        (row["sha256"], row["chunks"], row["sentences"])
                        if with_counts
                        else row["sha256"]
                    )
                    yield row["pk"], value
        finally:
            iterator.close()


def _copy(settings: Settings, serving: str | None, name: str, doc_ids: list[str]) -> None:
    """Carry unchanged documents' passages (vectors included) from the serving build."""
    milvus = client(settings)
    with translated(settings, name):
        for batch in _batched(doc_ids, _COPY_DOCS):
            iterator = milvus.query_iterator(
                serving,
                batch_size=1000,
                filter=f"doc_id in {json.dumps(batch)}",
                output_fields=CHUNK_FIELDS,
            )
            try:
                while rows := iterator.next():
                    milvus.upsert(name, [{k: row[k] for k in CHUNK_FIELDS} for row in rows])
            finally:
                iterator.close()
            docs = milvus.query(
                serving + schema.DOCS,
                filter=f"pk in {json.dumps(batch)}",
                output_fields=["pk", "sha256", "chunks", "sentences", "meta"],
            )
            milvus.upsert(name + schema.DOCS, [{**row, "v": schema.DUMMY_VECTOR} for row in docs])


def _embed_fresh(
    settings: Settings,
    name: str,
    doc_ids: list[str],
    hashes: dict[str, str],
    embedder: Embedder,
    warnings: list[str],
    report: Progress,
) -> tuple[int, int]:
    """Split, embed and upsert new or edited documents; (documents, passages) embedded."""
    milvus = client(settings)
    pending: list[tuple[dict[str, Any], str]] = []  # (row without vector, text to embed)
    finished: list[dict[str, Any]] = []  # document rows waiting for their last passages
    documents = texts = 0
    total = len(doc_ids)

    def flush() -> None:
        nonlocal texts
        if pending:
            vectors = embedder.encode([t for _, t in pending], batch_size=settings.embed_batch_size)
            rows = [
                {**row, "vector": np.asarray(v, dtype=np.float32).tolist()}
                for (row, _), v in zip(pending, vectors, strict=True)
            ]
            with translated(settings, name):
                milvus.upsert(name, rows)
            texts += len(pending)
            pending.clear()
        if finished:
            with translated(settings, name):
                milvus.upsert(name + schema.DOCS, list(finished))
            finished.clear()

    report("splitting", 0, total)
    for number, doc_id in enumerate(doc_ids, start=1):
        path = settings.corpus_dir / doc_id
        raw = read_article(path, doc_id, warnings)
        if raw is None:
            continue
        document = parse_document(settings.corpus_dir, path, raw, warnings)
        if hashlib.sha256(raw).hexdigest() != hashes[doc_id]:
            raise CorpusError(f"corpus file {doc_id} changed during the build; build again")
        rows, sentence_count = _chunk_rows(document, settings)
        for row in rows:
            text = passage_for_embedding(document.title, row["text"])
            pending.append((row, text))
        finished.append(
            {
                "pk": doc_id,
                "sha256": document.sha256,
                "chunks": len(rows),
                "sentences": sentence_count,
                "meta": {},
                "v": schema.DUMMY_VECTOR,
            }
        )
        documents += 1
        report("splitting", number, total)
        if len(pending) >= _BATCH:
            flush()
            report("embedding", texts, texts + len(pending))
    flush()
    report("embedding", texts, texts)
    return documents, texts


def _chunk_rows(document: Any, settings: Settings) -> tuple[list[dict[str, Any]], int]:
    """One row per passage of `document`, and its sentence count."""
    table = sentence_table(0, document)
    chunks = chunk_sentences(
        table, 0, settings.chunk_sentences, settings.chunk_overlap, settings.chunk_max_chars
    )
    text = document.text
    key = schema.doc_key(document.doc_id)
    doc = {
        "title": document.title,
        "source": document.source,
        "url": document.url,
        "path": str(document.path),
        "sha256": document.sha256,
    }

    def sentence(n: int) -> list[Any] | None:
        if not 0 <= n < len(table):
            return None
        s = table[n]
        return [n, s.paragraph, s.start, s.end, text[s.start : s.end]]

    rows = []
    for seq, chunk in enumerate(chunks):
        passage = text[chunk.start : chunk.end]
        if len(passage.encode("utf-8")) > schema.MAX_TEXT_BYTES:
            raise CorpusError(
                f"a passage of {document.doc_id} is over {schema.MAX_TEXT_BYTES} bytes, "
                "Milvus's limit for text; lower chunk_max_chars"
            )
        tokens = " ".join(
            schema.encode_term(t) for t in terms(passage_for_embedding(document.title, passage))
        )
        if len(tokens) > schema.MAX_TEXT_BYTES:  # only for passages of very long non-ASCII words
            tokens = tokens[: schema.MAX_TEXT_BYTES].rsplit(" ", 1)[0]
        rows.append(
            {
                "pk": f"{key}:{seq}",
                "doc_id": document.doc_id,
                "seq": seq,
                "paragraph": chunk.paragraph,
                "start": chunk.start,
                "end": chunk.end,
                "text": passage,
                "terms": tokens,
                "published": document.published[:64],
                "source": document.source.strip().casefold()[:1024],  # what filters compare
                "doc": doc,
                "sentences": {
                    "first": chunk.first,
                    "rows": [
                        [table[n].paragraph, table[n].start, table[n].end]
                        for n in range(chunk.first, chunk.last)
                    ],
                    "before": sentence(chunk.first - 1),
                    "after": sentence(chunk.last),
                },
            }
        )
    return rows, len(table)


def _term_frequencies(milvus: Any, name: str) -> tuple[Counter[str], int, int]:
    """Each (encoded) term's number of passages, the number of passages, and of terms in them
    (a passage without terms counting one, as bm25s counts it)."""
    frequencies: Counter[str] = Counter()
    count = length = 0
    iterator = milvus.query_iterator(
        name, batch_size=4000, filter="seq >= 0", output_fields=["terms"]
    )
    try:
        while rows := iterator.next():
            for row in rows:
                tokens = row["terms"].split()
                frequencies.update(set(tokens))
                length += max(1, len(tokens))
            count += len(rows)
    finally:
        iterator.close()
    return frequencies, count, length


def _drop_old_builds(settings: Settings, keep: set[str | None]) -> None:
    """Builds other than the serving one and the one before it (with their local files)."""
    milvus = client(settings)
    prefix = settings.milvus_collection + "__"
    for collection in milvus.list_collections():
        if not collection.startswith(prefix):
            continue
        build = collection.removesuffix(schema.DOCS).removesuffix(schema.TERMS)
        if build in keep:
            continue
        milvus.drop_collection(collection)
        shutil.rmtree(settings.index_dir / "milvus" / build, ignore_errors=True)


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
