"""Fault injection, issue 20: a write error anywhere in a build. Every way a build writes a file
(Python file objects, os.write, os.sendfile, FAISS's own writer) is counted; the Nth write
fails, either loudly (ENOSPC, as a full disk does) or silently (the data is lost but the call
says it succeeded, as a library that swallows the error does). After each, either the build
says so in one clear line and the previous index keeps answering, or it says success and its
index answers with every citation verified. The sweep is a seeded subset of all the writes of
a build, and deterministic: nothing here depends on timing."""

from __future__ import annotations

import builtins
import errno
import io
import os
import random
from pathlib import Path
from typing import Any

import pytest

from bot.answering.reader import packaged_reader
from bot.citations import citation_holds
from bot.config import load_settings
from bot.engine import Newsbot
from bot.errors import NewsbotError
from bot.indexing import build, build_index, store
from bot.onnx_export import QueryEncoderFiles
from scripts.bench_integrity import HashEmbedder

SEED = 20261130
SAMPLES = 24  # (write number, mode) pairs per run; every mode at the first and last writes too
QUESTION = "Where did the dock workers strike?"


class Injected(Exception):
    """Marks the write that failed, for the assertion messages."""


class WriteFaults:
    """Counts every write a build makes; the `fail_at`th one fails in `mode`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int = 0, mode: str = "error"):
        self.count = 0
        self.fail_at = fail_at
        self.mode = mode
        self.fired = False
        real_open, real_write, real_sendfile = builtins.open, os.write, os.sendfile
        faults = self

        class File:
            """A writable file whose writes are counted."""

            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def write(self, data: Any) -> int:
                match faults.tick():
                    case "error":
                        raise OSError(errno.ENOSPC, "No space left on device")
                    case "lost":
                        return len(data)
                return self._inner.write(data)

            def writelines(self, lines: Any) -> None:
                for line in lines:
                    self.write(line)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

            def __enter__(self) -> File:
                return self

            def __exit__(self, *exc: object) -> None:
                self._inner.close()

            def __iter__(self):
                return iter(self._inner)

        def counted_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            inner = real_open(file, mode, *args, **kwargs)
            return File(inner) if any(c in mode for c in "wax+") else inner

        def counted_write(fd: int, data: Any) -> int:
            match faults.tick():
                case "error":
                    raise OSError(errno.ENOSPC, "No space left on device")
                case "lost":
                    return len(data)
            return real_write(fd, data)

        def counted_sendfile(out_fd: int, in_fd: int, offset: Any, count: int) -> int:
            match faults.tick():
                case "error":
                    raise OSError(errno.ENOSPC, "No space left on device")
                case "lost":
                    os.lseek(in_fd, count, os.SEEK_CUR)
                    return count
            return real_sendfile(out_fd, in_fd, offset, count)

        import faiss

        real_write_index = faiss.write_index

        def counted_write_index(index: Any, path: Any, *args: Any) -> None:
            # FAISS writes through C stdio; it raises RuntimeError on a short fwrite and ignores
            # a failing fclose, so both ways are possible.
            real_write_index(index, path, *args)
            if not isinstance(path, str):
                return  # into memory (`serialize_index`), not a file
            match faults.tick():
                case "error":
                    raise RuntimeError(f"{path}: 4051 != 26112 (No space left on device)")
                case "lost":
                    os.truncate(path, os.path.getsize(path) // 2)

        monkeypatch.setattr(builtins, "open", counted_open)
        monkeypatch.setattr(io, "open", counted_open)
        monkeypatch.setattr(os, "write", counted_write)
        monkeypatch.setattr(os, "sendfile", counted_sendfile)
        monkeypatch.setattr(faiss, "write_index", counted_write_index)

    def tick(self) -> str | None:
        self.count += 1
        if self.count == self.fail_at:
            self.fired = True
            return self.mode
        return None


@pytest.fixture(scope="module")
def reader():
    return packaged_reader()


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    for n in range(6):
        (corpus / f"port-{n}.txt").write_text(
            f"Port strike {n}\n\nDock workers in Rotterdam walked out on day {n} over pay. "
            "The union said the strike would last three days.\n\n"
            "Shipping firms diverted twelve vessels to Antwerp.\n",
            encoding="utf-8",
        )
    return corpus


def _with_encoder_files(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Builds store a (small, fake) shared encoder file too, so blob writes are swept."""
    blob = root / "query_encoder.onnx"
    blob.write_bytes(random.Random(SEED).randbytes(200_000))

    def embedders(embedder, scratch, warnings):
        return embedder, QueryEncoderFiles({"fake": True}, {"query_encoder.onnx": blob})

    monkeypatch.setattr(build, "_embedders", embedders)


def _answers_with_verified_citations(settings, reader) -> None:
    answer = Newsbot(settings, embedder=HashEmbedder(), reader=reader).ask(QUESTION)
    assert answer.citations and "Rotterdam" in answer.citations[0].text
    assert all(citation_holds(c) for c in answer.citations)


def test_a_write_error_anywhere_in_a_build_never_publishes_a_broken_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader
) -> None:
    settings = load_settings(corpus_dir=_corpus(tmp_path), index_dir=tmp_path / "index")
    _with_encoder_files(monkeypatch, tmp_path)
    embedder = HashEmbedder()
    build_index(settings, embedder=embedder)
    with monkeypatch.context() as patch:  # how many writes a whole build makes
        counter = WriteFaults(patch)
        build_index(settings, embedder=embedder, full=True)
    writes = counter.count
    assert writes >= 8, writes
    rng = random.Random(SEED)
    cases = {(n, mode) for n in (1, writes) for mode in ("error", "lost")}
    while len(cases) < min(SAMPLES, 2 * writes):
        cases.add((rng.randint(1, writes), rng.choice(("error", "lost"))))
    outcomes = {"refused": 0, "published": 0}
    for fail_at, mode in sorted(cases):
        before = store.current_build(settings.index_dir)
        with monkeypatch.context() as patch:
            faults = WriteFaults(patch, fail_at, mode)
            try:
                build_index(settings, embedder=embedder, full=True)
            except NewsbotError as error:
                failed: NewsbotError | None = error
            else:
                failed = None
        assert faults.fired, (fail_at, mode)
        case = f"write {fail_at} of {writes} {mode}"
        if failed is not None:
            message = str(failed)
            assert "\n" not in message and str(settings.index_dir) in message, (case, message)
            assert "previous index keeps serving" in message, (case, message)
            assert store.current_build(settings.index_dir) == before, case
            outcomes["refused"] += 1
        else:
            outcomes["published"] += 1
        serving = store.current_build(settings.index_dir)
        store.verify_build(serving, store.read_manifest(settings.index_dir))
        _answers_with_verified_citations(settings, reader)
    assert outcomes["refused"] > 0, outcomes
    build_index(settings, embedder=embedder)  # and the next build goes through, leaving no debris
    assert list((settings.index_dir / "builds").glob(".tmp-*")) == []
    assert [p for p in (settings.index_dir / "blobs").iterdir() if p.name.startswith(".")] == []


def test_a_raw_library_write_error_is_the_disk_full_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC as FAISS and numpy report it (a RuntimeError, an OSError without errno)."""
    settings = load_settings(corpus_dir=_corpus(tmp_path), index_dir=tmp_path / "index")
    embedder = HashEmbedder()
    build_index(settings, embedder=embedder)
    for fail_at in range(1, 6):
        with monkeypatch.context() as patch:
            WriteFaults(patch, fail_at, "error")
            with pytest.raises(NewsbotError) as caught:
                build_index(settings, embedder=embedder, full=True)
        assert str(caught.value).startswith(f"no space left on the disk of {settings.index_dir}")
