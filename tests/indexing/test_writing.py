"""Build files are written from memory and proved complete (issue 20)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import bm25s
import pytest

from bot.indexing import writing


def test_the_bm25_files_are_the_ones_bm25s_writes_and_reads(tmp_path: Path) -> None:
    bm25 = bm25s.BM25()
    bm25.index([["dock", "strike"], ["tea", "crop", "crop"], ["ünïcode"]], show_progress=False)
    bm25.save(str(tmp_path / "library"))
    ours = writing.bm25_files(bm25)
    assert sorted(ours) == sorted(p.name for p in (tmp_path / "library").iterdir())
    (tmp_path / "ours").mkdir()
    for name, data in ours.items():
        theirs = (tmp_path / "library" / name).read_bytes()
        if name.endswith(".json"):  # bm25s writes with orjson when it is installed, else json
            assert json.loads(bytes(data)) == json.loads(theirs), name
        else:
            assert bytes(data) == theirs, name
        writing.write_file(tmp_path / "ours" / name, data)
    loaded = bm25s.BM25.load(str(tmp_path / "ours"))
    assert loaded.vocab_dict == bm25.vocab_dict


def test_a_write_that_says_it_succeeded_but_lost_the_data_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = []

    def lossy(fd: int, data) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:10])  # a short write: the rest must follow
        return len(data)  # claims success, writes nothing

    monkeypatch.setattr(os, "write", lossy)
    with pytest.raises(writing.IncompleteWriteError, match="10 of 100 bytes are on disk"):
        writing.write_file(tmp_path / "file", b"x" * 100)
    assert calls == [100, 90]
