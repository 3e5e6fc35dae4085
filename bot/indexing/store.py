"""The index on disk: writing a build atomically, finding the current one, loading it safely.

Layout of an index directory::

    index/
      CURRENT              name of the build that serves (replaced atomically)
      builds/<name>/       manifest.json, metadata.json, chunks.faiss, sentences.npy, bm25/
      blobs/<sha256>.<ext> large files shared by builds (the ONNX query encoder), hard-linked
                           into each build that uses them, so they are stored once
      build.lock           held by the running build (bot/indexing/lock.py): one at a time

A build is written to `builds/.tmp-<name>`, every file and directory fsynced, and renamed;
then CURRENT is written to a temporary file, fsynced, swapped in with `os.replace`, and its
directory fsynced: a failed, killed or powered-off build never touches the build that is
serving, and CURRENT never names a build whose files are not on disk. The next build removes
the debris of builds that died (staging directories, pointer temporaries, orphaned builds).

The manifest records a BLAKE2b checksum of every file the build wrote (and one of itself);
`load` verifies them all, so a damaged file is a clear error naming it, never a wrong answer.
No pickle anywhere: JSON, `.npy` loaded with `allow_pickle=False`, and FAISS's own format.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import IndexMissingError, IndexUnusableError, NewsbotError
from bot.indexing import writing

FORMAT_VERSION = 1
POINTER = "CURRENT"
BUILDS = "builds"
PROBE_PREFIX = ".probe-"  # + the pid of the build that checks it can write, + a random part
BLOBS = "blobs"
CHECKSUMS = "checksums"  # manifest key: path inside the build -> BLAKE2b of the file
SELF_CHECKSUM = "manifest_checksum"  # manifest key: BLAKE2b of the rest of the manifest
_BUILD_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,200}")
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


class IndexWriteError(NewsbotError):
    """A build could not write (or prove) its files; the old one keeps serving."""


class DiskFullError(IndexWriteError):
    """The disk holding the index has no room for a new build; the old one keeps serving."""


def current_build(index_dir: Path) -> Path:
    """The directory of the build that serves; `IndexMissingError` if there is none."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_bytes().decode("utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}; {REBUILD_HINT}") from None
    except NotADirectoryError:
        raise IndexUnusableError(f"index location {index_dir} is not a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt (cannot read {POINTER}: {_why(exc)}); {REBUILD_HINT}"
        ) from None
    build = index_dir / BUILDS / name
    if not _BUILD_NAME.fullmatch(name) or not build.is_dir():
        raise IndexUnusableError(f"index at {index_dir} is corrupt (missing build); {REBUILD_HINT}")
    return build


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the serving build (cheap: no vectors are loaded)."""
    build = current_build(index_dir)
    try:
        manifest = json.loads((build / "manifest.json").read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt (manifest); {REBUILD_HINT}"
        ) from None
    if not isinstance(manifest, dict):
        raise IndexUnusableError(f"index at {index_dir} is corrupt (manifest); {REBUILD_HINT}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusableError(
            f"index at {index_dir} has format {manifest.get('format_version')}, "
            f"this newsbot reads format {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if not isinstance(manifest.get(CHECKSUMS), dict):
        raise IndexUnusableError(
            f"index at {index_dir} was built by an older newsbot (no checksums); {REBUILD_HINT}"
        )
    if manifest.get(SELF_CHECKSUM) != _manifest_digest(manifest):
        raise IndexUnusableError(
            f"index file {build / 'manifest.json'} is damaged (its checksum does not match); "
            f"{REBUILD_HINT}"
        )
    manifest["build"] = build.name
    return manifest


def verify_build(build: Path, manifest: dict[str, Any]) -> None:
    """Check every file the manifest lists against its checksum; `IndexUnusableError` naming
    the first missing, unreadable or damaged one."""
    for name, expected in sorted(manifest[CHECKSUMS].items()):
        path = build / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise IndexUnusableError(f"index at {build} is corrupt (manifest); {REBUILD_HINT}")
        try:
            actual = file_digest(path)
        except FileNotFoundError:
            raise IndexUnusableError(f"index file {path} is missing; {REBUILD_HINT}") from None
        except OSError as exc:
            raise IndexUnusableError(
                f"cannot read index file {path} ({_why(exc)}); {REBUILD_HINT}"
            ) from None
        if actual != expected:
            raise IndexUnusableError(
                f"index file {path} is damaged (its checksum does not match the manifest); "
                f"{REBUILD_HINT}"
            )


def file_digest(path: Path) -> str:
    """BLAKE2b of a file's bytes, hex (fast: a few hundred MB a second)."""
    return writing.file_digest(path)


def _manifest_digest(manifest: dict[str, Any]) -> str:
    rest = {k: v for k, v in manifest.items() if k not in (SELF_CHECKSUM, "build")}
    canonical = json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode("utf-8")).hexdigest()


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


def load(index_dir: Path) -> IndexData:
    """Load the serving build fully into memory; any damage is an `IndexUnusableError`."""
    import bm25s
    import faiss

    manifest = read_manifest(index_dir)
    build = index_dir / BUILDS / manifest["build"]
    verify_build(build, manifest)
    try:
        meta = json.loads((build / "metadata.json").read_bytes().decode("utf-8"))
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
    if not _spans_in_bounds(documents, sentences, chunks):
        raise IndexUnusableError(
            f"index at {index_dir} is corrupt (rows point outside their documents); {REBUILD_HINT}"
        )
    return IndexData(
        build, manifest, documents, sentences, chunks, chunk_vectors, sentence_vectors, bm25
    )


def documents_in(
    documents: list[DocumentRecord], built_from: str, corpus_dir: Path
) -> list[DocumentRecord]:
    """`documents` with their paths in `corpus_dir` when the index was built from a corpus
    directory since moved or copied there (a checkout moved elsewhere): the files' contents are
    still checked against the index (`changed_files`) and every citation against its file; only
    where they are has changed. A path outside the old directory (a followed link) is kept."""
    old, new = Path(built_from).resolve(), corpus_dir.resolve()
    if old == new:
        return documents
    moved = []
    for document in documents:
        try:
            inside = Path(document.path).relative_to(old)
        except ValueError:
            moved.append(document)
            continue
        moved.append(replace(document, path=str(new / inside)))
    return moved


def _spans_in_bounds(
    documents: list[DocumentRecord],
    sentences: dict[str, np.ndarray],
    chunks: dict[str, np.ndarray],
) -> bool:
    """Every sentence and chunk points into an existing document's text, in order."""
    try:
        return _check_spans(documents, sentences, chunks)
    except (KeyError, ValueError, IndexError, TypeError):
        return False


def _check_spans(
    documents: list[DocumentRecord],
    sentences: dict[str, np.ndarray],
    chunks: dict[str, np.ndarray],
) -> bool:
    lengths = np.array([len(doc.text) for doc in documents], dtype=np.int64)
    for table in (sentences, chunks):
        doc, start, end = table["doc"], table["start"], table["end"]
        if not len(doc) == len(start) == len(end):
            return False
        if len(doc) == 0:
            continue
        if doc.min() < 0 or doc.max() >= len(documents):
            return False
        if start.min() < 0 or (end < start).any() or (end > lengths[doc]).any():
            return False
    first, last = chunks.get("first"), chunks.get("last")
    if first is not None and last is not None and len(first):
        count = len(sentences["doc"])
        if first.min() < 0 or last.max() > count or (last < first).any():
            return False
    return True


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
    stored once in `blobs/`, by content, and hard-linked into the build (copied where links
    are impossible). Every file is serialised in memory, written, and read back before its
    checksum goes into the manifest (`bot.indexing.writing`): a build whose files cannot be
    proved complete is never published. A disk too full for the build is a `DiskFullError`
    saying how much was needed, before anything is written; any write that fails later is
    one `IndexWriteError` line. Either way the previous build keeps serving.
    """
    import faiss

    builds = check_writable(index_dir)
    _remove_abandoned_builds(builds)
    _remove_stale_pointers(index_dir)
    extra = dict(extra_files or {})
    needed = _estimate_bytes(documents, chunk_vectors, sentence_vectors, extra, index_dir)
    _check_room(index_dir, needed)
    # Sortable by time; the pid at the end lets a later build spot an abandoned staging dir.
    name = (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        + f"-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    )
    staging = builds / f".tmp-{name}"
    final = builds / name
    try:
        staging.mkdir()
        index = chunk_vectors
        if isinstance(index, np.ndarray):
            index = faiss.IndexFlatIP(chunk_vectors.shape[1])
            index.add(np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        files: dict[str, bytes | memoryview] = {"chunks.faiss": writing.faiss_bytes(index)}
        if sentence_vectors is not None:
            files["sentences.npy"] = writing.npy_bytes(sentence_vectors.astype(np.float32))
        files.update({f"bm25/{n}": data for n, data in writing.bm25_files(bm25).items()})
        files["metadata.json"] = writing.json_bytes(
            {
                "documents": [doc.__dict__ for doc in documents],
                "sentences": sentences,
                "chunks": chunks,
            }
        )
        (staging / "bm25").mkdir()
        # Every file, proved complete; the shared extra files carry their own checksums.
        checksums = {}
        for file_name in sorted(files):
            checksums[file_name] = writing.write_file(staging / file_name, files.pop(file_name))
        for file_name, source in extra.items():
            _link_blob(index_dir, source, staging / file_name)
        full = {"format_version": FORMAT_VERSION, **manifest, CHECKSUMS: checksums}
        full[SELF_CHECKSUM] = _manifest_digest(full)
        writing.write_file(staging / "manifest.json", writing.json_bytes(full))
        _fsync_tree(staging)
        staging.rename(final)
        _fsync_dir(builds)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(exc, index_dir, needed) from None
        raise
    previous = _serving_name(index_dir)
    pointer_tmp = index_dir / f".{POINTER}.{os.getpid()}"
    try:
        pointer_tmp.unlink(missing_ok=True)
        writing.write_file(pointer_tmp, (name + "\n").encode("utf-8"))
        os.replace(pointer_tmp, index_dir / POINTER)
        _fsync_dir(index_dir)
    except BaseException as exc:
        pointer_tmp.unlink(missing_ok=True)
        if _serving_name(index_dir) != name:
            shutil.rmtree(final, ignore_errors=True)  # never served: no orphan stays behind
        if isinstance(exc, OSError):
            raise write_error(exc, index_dir, needed) from None
        raise
    _prune_old_builds(builds, keep={name, previous})
    _remove_unused_blobs(index_dir)
    return final


def check_writable(index_dir: Path) -> Path:
    """Create the index's `builds/` directory and prove a file can be made there; returns it.
    Checked before a build does any work: an index directory that cannot be created or written
    is one `IndexWriteError` line naming it, not a traceback after minutes of embedding."""
    builds = index_dir / BUILDS
    try:
        builds.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{PROBE_PREFIX}{os.getpid()}-", dir=builds)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise write_error(exc, index_dir, 0) from None
        raise IndexWriteError(
            f"cannot create or write the index directory {index_dir} ({_why(exc)}); make it "
            "writable by this user, or choose another with --index or NEWSBOT_INDEX"
        ) from None
    return builds


def _serving_name(index_dir: Path) -> str | None:
    try:
        return current_build(index_dir).name
    except IndexUnusableError:
        return None


def _fsync_tree(root: Path) -> None:
    """fsync every file under `root`, then every directory, deepest first, then `root`."""
    directories = []
    for path in root.rglob("*"):
        if path.is_dir():
            directories.append(path)
        elif path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(directory)
    _fsync_dir(root)


def _fsync_dir(directory: Path) -> None:
    """Make a directory's entries (new files, renames) durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_blob(index_dir: Path, source: Path, target: Path) -> None:
    """Store `source` once under `blobs/` by its SHA-256 and hard-link it to `target`.

    A blob already there is re-hashed first: one damaged in place (every build's link shares
    its bytes) is replaced by a fresh, verified copy rather than linked into the new build.
    """
    blobs = index_dir / BLOBS
    blobs.mkdir(exist_ok=True)
    digest = writing.file_digest(source, "sha256")
    blob = blobs / f"{digest}{source.suffix}"
    for _ in range(3):  # a concurrent build may remove an unused blob in between
        if not _blob_intact(blob, digest):
            partial = blobs / f".tmp-{os.getpid()}-{blob.name}"
            try:
                partial.unlink(missing_ok=True)
                if writing.copy_file(source, partial) != digest:
                    raise writing.IncompleteWriteError(
                        errno.EIO, "it changed while it was copied", str(source)
                    )
                os.replace(partial, blob)  # a damaged blob is replaced, not reused
            finally:
                partial.unlink(missing_ok=True)
            _fsync_dir(blobs)
        try:
            os.link(blob, target)
            return
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            writing.copy_file(blob, target)  # a file system without hard links
            return
    writing.copy_file(source, target)


def _blob_intact(blob: Path, digest: str) -> bool:
    """Whether `blob` exists and its bytes still have the SHA-256 its name says."""
    try:
        return writing.file_digest(blob, "sha256") == digest
    except FileNotFoundError:
        return False


def _remove_unused_blobs(index_dir: Path) -> None:
    """Blobs no build links to any more (only the blob's own name is left)."""
    blobs = index_dir / BLOBS
    if not blobs.is_dir():
        return
    for blob in blobs.iterdir():
        with contextlib.suppress(OSError):
            if blob.name.startswith(".tmp-"):
                pid = blob.name.split("-")[1]
                if not (pid.isdigit() and _process_alive(int(pid))):
                    blob.unlink()
            elif blob.stat().st_nlink == 1:
                blob.unlink()


def _estimate_bytes(
    documents: list[DocumentRecord],
    chunk_vectors: Any,
    sentence_vectors: Any,
    extra: dict[str, Path],
    index_dir: Path,
) -> int:
    """About how many bytes the build will take on disk (vectors, metadata, BM25, new blobs)."""
    vectors = sum(_vector_bytes(v) for v in (chunk_vectors, sentence_vectors))
    text = sum(len(doc.text.encode("utf-8")) + len(doc.path) + 200 for doc in documents)
    rows = sum(_vector_bytes(v) // 1536 for v in (chunk_vectors, sentence_vectors))
    blobs = sum(s.stat().st_size for s in extra.values() if not _blob_present(index_dir, s))
    # Metadata columns, BM25 (roughly its text again), and some slack for the file system.
    return vectors + 2 * text + 80 * rows + blobs + 64 * 1024


def _vector_bytes(vectors: Any) -> int:
    """Bytes of an array, or of a FAISS index (flat: its vectors; HNSW: about twice that)."""
    if vectors is None:
        return 0
    if isinstance(vectors, np.ndarray):
        return int(vectors.nbytes)
    return 2 * int(getattr(vectors, "ntotal", 0)) * int(getattr(vectors, "d", 0)) * 4


def _blob_present(index_dir: Path, source: Path) -> bool:
    """Whether a blob of the same size and suffix exists (a cheap guess, no hashing)."""
    size = source.stat().st_size
    return any(b.stat().st_size == size for b in (index_dir / BLOBS).glob(f"*{source.suffix}"))


def _check_room(index_dir: Path, needed: int) -> None:
    free = shutil.disk_usage(index_dir).free
    if free < needed:
        raise DiskFullError(_disk_full_message(index_dir, needed, free))


def _disk_full_message(index_dir: Path, needed: int, free: int) -> str:
    return (
        f"no space left on the disk of {index_dir}: the new index needs about "
        f"{_megabytes(needed)} MB, {_megabytes(free)} MB are free; free some space and build "
        "again (the previous index keeps serving)"
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}" if size < 10e6 else f"{size / 1e6:.0f}"


def write_error(exc: OSError, index_dir: Path, needed: int) -> NewsbotError:
    """The one line a failed write of a build becomes, whatever raised it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = 0
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(index_dir).free
        return DiskFullError(_disk_full_message(index_dir, needed, free))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return IndexWriteError(
            f"cannot write the index directory {index_dir} ({_why(exc)}); make it writable by "
            "this user, or choose another with --index or NEWSBOT_INDEX "
            "(the previous index keeps serving)"
        )
    what = f"{exc.filename}: " if exc.filename else ""
    return IndexWriteError(
        f"could not write the new index in {index_dir} ({what}{_why(exc)}); the disk may be "
        "full or failing: free some space or check it, then build again "
        "(the previous index keeps serving)"
    )


def _remove_abandoned_builds(builds: Path) -> None:
    """Staging directories and write probes of builds whose process is gone (killed
    mid-build)."""
    for staging in builds.glob(".tmp-*"):
        pid = staging.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and _process_alive(int(pid))):
            shutil.rmtree(staging, ignore_errors=True)
    for probe in builds.glob(f"{PROBE_PREFIX}*"):
        pid = probe.name.removeprefix(PROBE_PREFIX).split("-", 1)[0]
        if not (pid.isdigit() and _process_alive(int(pid))):
            probe.unlink(missing_ok=True)


def _remove_stale_pointers(index_dir: Path) -> None:
    """`.CURRENT.<pid>` temporaries left by builds that died while swapping the pointer."""
    for stale in index_dir.glob(f".{POINTER}.*"):
        pid = stale.name.rsplit(".", 1)[-1]
        if not (pid.isdigit() and _process_alive(int(pid))):
            stale.unlink(missing_ok=True)


def _prune_old_builds(builds: Path, keep: set[str | None]) -> None:
    """Finished builds other than the serving one and the one before it (for readers still
    loading it), unless the build that made them is still running (it may be about to swap)."""
    for old in builds.iterdir():
        if not old.is_dir() or old.name.startswith(".") or old.name in keep:
            continue
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _process_alive(int(pid)):
            continue
        shutil.rmtree(old, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid < 2**22  # exists, owned by someone else; absurd pids are not processes
    return True
