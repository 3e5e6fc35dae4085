"""Writing build files so that a build can prove them complete.

Libraries that write files themselves (FAISS through C stdio, numpy's `tofile`) can lose a
write error: a full disk then leaves a short file that the build would checksum and publish.
So every file of a build is serialised in memory first and written here: each `os.write` is
checked and repeated until all bytes are out, the file is fsynced, then read back and compared
with the bytes meant (size and BLAKE2b). A file that does not read back as written is an
`IncompleteWriteError`, and the build is not published.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

_CHUNK = 1 << 20  # bytes per os.write: progress on huge files, bounded extra memory


class IncompleteWriteError(OSError):
    """A file does not read back as it was written (the disk may be full or failing)."""


def digest(data: bytes | memoryview) -> str:
    """BLAKE2b of `data`, hex: the checksum the manifest records for a build file."""
    return hashlib.blake2b(data).hexdigest()


def file_digest(path: Path, algorithm: str = "blake2b") -> str:
    """The digest of a file's bytes, hex."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def write_file(path: Path, data: bytes | memoryview) -> str:
    """Write `data` to the new file `path` and prove it: fsynced, read back, same size and
    same BLAKE2b. Returns that digest; raises OSError (`IncompleteWriteError` if the file on
    disk differs from `data` although every write said it succeeded)."""
    view = memoryview(data).cast("B")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        _write_all(fd, view, path)
        os.fsync(fd)
    finally:
        os.close(fd)
    expected = digest(view)
    check_file(path, len(view), expected)
    return expected


def copy_file(source: Path, target: Path, algorithm: str = "sha256") -> str:
    """Copy `source` to the new file `target` and prove the copy: fsynced, read back, and its
    digest (by `algorithm`) equal to that of the bytes read from `source`. Returns it."""
    wanted = hashlib.new(algorithm)
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        with source.open("rb") as fh:
            while block := fh.read(_CHUNK):
                wanted.update(block)
                size += len(block)
                _write_all(fd, memoryview(block), target)
        os.fsync(fd)
    finally:
        os.close(fd)
    check_file(target, size, wanted.hexdigest(), algorithm)
    return wanted.hexdigest()


def check_file(path: Path, size: int, expected: str, algorithm: str = "blake2b") -> None:
    """`IncompleteWriteError` unless `path` holds `size` bytes whose digest is `expected`."""
    actual_size = os.stat(path).st_size
    if actual_size != size:
        raise IncompleteWriteError(
            errno.EIO, f"{actual_size} of {size} bytes are on disk", str(path)
        )
    if file_digest(path, algorithm) != expected:
        raise IncompleteWriteError(errno.EIO, "it does not read back as written", str(path))


def _write_all(fd: int, view: memoryview, path: Path) -> None:
    while view:
        written = os.write(fd, view[:_CHUNK])
        if written <= 0:  # never happens on a working disk; do not spin
            raise IncompleteWriteError(errno.EIO, "a write made no progress", str(path))
        view = view[written:]


def json_bytes(data: Any) -> bytes:
    """Compact UTF-8 JSON, as build files store it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def npy_bytes(array: np.ndarray) -> memoryview:
    """`array` in `.npy` format (no pickle), as `np.load` reads it."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getbuffer()


def faiss_bytes(index: Any) -> memoryview:
    """A FAISS index serialised as `faiss.write_index` would write it."""
    import faiss

    return memoryview(faiss.serialize_index(index))


def bm25_files(bm25: Any) -> dict[str, bytes | memoryview]:
    """The files `bm25s.BM25.save` writes (without a corpus), by name, in memory; `load`
    reads them back (checked by the build after writing)."""
    import bm25s

    files: dict[str, bytes | memoryview] = {
        "data.csc.index.npy": npy_bytes(bm25.scores["data"]),
        "indices.csc.index.npy": npy_bytes(bm25.scores["indices"]),
        "indptr.csc.index.npy": npy_bytes(bm25.scores["indptr"]),
        "vocab.index.json": json_bytes(bm25.vocab_dict),  # as orjson writes it
        "params.index.json": json.dumps(
            {
                "k1": bm25.k1,
                "b": bm25.b,
                "delta": bm25.delta,
                "method": bm25.method,
                "idf_method": bm25.idf_method,
                "dtype": bm25.dtype,
                "int_dtype": bm25.int_dtype,
                "num_docs": int(bm25.scores["num_docs"]),
                "version": bm25s.__version__,
                "backend": bm25.backend,
            },
            indent=4,
        ).encode("utf-8"),
    }
    if getattr(bm25, "nonoccurrence_array", None) is not None:
        files["nonoccurrence_array.index.npy"] = npy_bytes(bm25.nonoccurrence_array)
    return files
