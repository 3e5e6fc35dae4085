"""Issue 10, index integrity and a full disk: a damaged index is a clear error naming the file,
never a wrong answer; a citation is shown only while it matches its file; a build that runs out
of space, dies or loses power leaves the serving index alone and no debris behind."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Newsbot
from bot.errors import IndexUnusableError
from bot.indexing import build_index, store
from tests.hostile import PROGRESS_LINE, SCRIPT, newsbot, one_error_line

runner = CliRunner()
PORT = (
    "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay. "
    "The union said the strike would last three days.\n\n"
    "Shipping firms diverted twelve vessels to Antwerp.\n"
)
TEA = "Harvest report\n\nFarmers in Kenya harvested a record tea crop this year.\n"
STRIKE = "Where did the dock workers strike?"


@pytest.fixture
def built(make_corpus, embedder):
    settings = make_corpus({"port.txt": PORT, "tea.txt": TEA})
    build_index(settings, embedder=embedder)
    return settings


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_any_build_file_is_an_error_naming_it(built, embedder) -> None:
    build = store.current_build(built.index_dir)
    listed = sorted(store.read_manifest(built.index_dir)[store.CHECKSUMS])
    assert {"chunks.faiss", "metadata.json"} <= set(listed)
    assert any(name.startswith("bm25/") for name in listed)
    pristine = {name: (build / name).read_bytes() for name in listed}
    for name in listed:
        _flip(build / name)
        with pytest.raises(IndexUnusableError, match=rf"{name} is damaged.*newsbot index build"):
            Newsbot(built, embedder=embedder)
        (build / name).write_bytes(pristine[name])
    assert "Rotterdam" in Newsbot(built, embedder=embedder).ask(STRIKE).answer


def test_edited_metadata_and_manifest_are_caught(built, embedder) -> None:
    build = store.current_build(built.index_dir)
    meta_path = build / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["documents"][0]["text"] = meta["documents"][0]["text"].replace("Rotterdam", "Hamburg!!")
    meta_path.write_text(json.dumps(meta))
    where = ["--corpus", str(built.corpus_dir), "--index", str(built.index_dir)]
    result = runner.invoke(app, ["ask", STRIKE, *where])
    assert result.exit_code == 1 and "Hamburg" not in result.stdout
    assert "metadata.json is damaged" in result.stderr and "Traceback" not in result.stderr
    manifest_path = build / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["counts"]["documents"] = 7
    manifest_path.write_text(json.dumps(manifest))
    assert "manifest.json is damaged" in runner.invoke(app, ["ask", STRIKE, *where]).stderr


def _resign(build: Path) -> None:
    """Recompute a build's checksums, as a faulty builder would have written them."""
    manifest_path = build / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for name in manifest[store.CHECKSUMS]:
        manifest[store.CHECKSUMS][name] = store.file_digest(build / name)
    manifest[store.SELF_CHECKSUM] = store._manifest_digest(manifest)
    manifest_path.write_text(json.dumps(manifest))


def test_empty_files_bad_pointers_and_dangling_rows_are_one_line(built) -> None:
    build = store.current_build(built.index_dir)
    saved = (build / "chunks.faiss").read_bytes()
    (build / "chunks.faiss").write_bytes(b"")  # used to print only "Aborted."
    one_error_line(newsbot(["ask", STRIKE], built), "chunks.faiss is damaged")
    (build / "chunks.faiss").write_bytes(saved)

    meta_path = build / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["chunks"]["doc"][0] = 99  # a chunk of a document that does not exist
    meta_path.write_text(json.dumps(meta))
    _resign(build)
    one_error_line(newsbot(["ask", STRIKE], built), "rows point outside their documents")

    pointer = built.index_dir / "CURRENT"
    pointer.write_bytes(b"\xff\xfe\x00garbage\n")
    one_error_line(newsbot(["ask", STRIKE], built), "cannot read CURRENT")
    pointer.write_text("../../../etc\n")
    one_error_line(newsbot(["ask", STRIKE], built), "missing build")


def test_a_citation_that_no_longer_matches_its_file_is_dropped(built, embedder) -> None:
    bot = Newsbot(built, embedder=embedder)
    assert "Rotterdam" in bot.ask(STRIKE).answer
    port = built.corpus_dir / "port.txt"
    port.write_text("Correction: an earlier version misnamed the port.\n\n" + PORT)
    answer = bot.ask(STRIKE)
    assert answer.answer is None and answer.abstained  # never an answer without its citation
    assert answer.abstain_reason == (
        "the article that held the answer changed since the index was built"
    )
    assert [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        with open(citation.path, encoding="utf-8") as fh:
            assert fh.read()[citation.start : citation.end] == citation.text
        assert citation.doc_id != "port.txt"
    where = ["--corpus", str(built.corpus_dir), "--index", str(built.index_dir)]
    shown = json.loads(runner.invoke(app, ["ask", "--json", STRIKE, *where]).stdout)
    for citation in shown["citations"]:
        with open(citation["path"], encoding="utf-8") as fh:
            assert fh.read()[citation["start"] : citation["end"]] == citation["text"]
    port.write_text(PORT + "\nA paragraph added at the end keeps the old offsets.\n")
    assert "Rotterdam" in bot.ask(STRIKE).answer


def test_a_damaged_new_build_leaves_the_running_bot_answering(
    built, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    bot = Newsbot(built, embedder=embedder)
    loaded = bot.manifest["build"]
    (built.corpus_dir / "more.txt").write_text("Weather\n\nIt rained in Oslo all week.\n")
    fresh = build_index(built, embedder=embedder)
    _flip(fresh.location / "chunks.faiss")
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        answer = bot.ask(STRIKE)
        assert "Rotterdam" in answer.answer
    assert bot.manifest["build"] == loaded
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1 and "chunks.faiss is damaged" in problems[0], problems
    assert "still answering from build" in problems[0]


def test_a_failed_pointer_swap_leaves_no_debris(
    built, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = store.current_build(built.index_dir)
    real_replace = os.replace

    def disk_full_at_the_pointer(src, dst, *args, **kwargs):
        if Path(dst).name == "CURRENT":
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_full_at_the_pointer)
    (built.corpus_dir / "more.txt").write_text("Weather\n\nIt rained in Oslo all week.\n")
    with pytest.raises(store.DiskFullError, match=r"no space left on the disk of .*MB"):
        build_index(built, embedder=embedder)
    monkeypatch.undo()
    assert store.current_build(built.index_dir) == serving
    assert list(built.index_dir.glob(".CURRENT*")) == []
    assert [p.name for p in (built.index_dir / "builds").iterdir()] == [serving.name]
    assert "Rotterdam" in Newsbot(built, embedder=embedder).ask(STRIKE).answer


def test_the_next_build_removes_what_dead_builds_left(built, embedder) -> None:
    dead = 999_999_999
    index = built.index_dir
    (index / f".CURRENT.{dead}").write_bytes(b"")
    orphan = index / "builds" / f"29990101T000000-000000000-{dead}"  # renamed, never served
    orphan.mkdir()
    (orphan / "chunks.faiss").write_bytes(b"x" * 1000)
    (index / "builds" / f".tmp-20200101T000000-000000000-{dead}").mkdir()
    (index / "blobs" / f".tmp-{dead}-partial.onnx").write_bytes(b"half")
    previous = store.current_build(index)
    fresh = build_index(built, embedder=embedder)
    assert list(index.glob(".CURRENT.*")) == []
    assert sorted(p.name for p in (index / "builds").iterdir()) == sorted(
        [previous.name, fresh.location.name]
    )
    assert [p.suffix for p in (index / "blobs").iterdir()] in (
        [".onnx", ".json"],
        [".json", ".onnx"],
    )


def test_every_file_is_fsynced_before_the_pointer_names_its_build(
    built, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        events.append(("replace", str(dst)))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    fresh = build_index(built, embedder=embedder).location
    monkeypatch.undo()
    swap = events.index(("replace", str(built.index_dir / "CURRENT")))
    synced_before = {path for kind, path in events[:swap] if kind == "fsync"}
    staging = fresh.parent / f".tmp-{fresh.name}"
    for path in fresh.rglob("*"):
        assert str(staging / path.relative_to(fresh)) in synced_before or str(path) in synced_before
    assert str(fresh.parent) in synced_before  # the rename of the build is durable
    assert ("fsync", str(built.index_dir)) in events[swap:]  # and so is the pointer


def test_a_full_disk_is_one_line_and_the_encoder_is_stored_once(built, tmp_path: Path) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small file system of its own")
    index = tmp_path / "small-disk"
    index.mkdir()
    script = f"""
        mount -t tmpfs -o size=130m tmpfs "$NEWSBOT_INDEX" || exit 97
        for n in 1 2; do
            "{SCRIPT}" index build >/dev/null 2>"$NEWSBOT_INDEX/../build$n.err"
            echo "build$n=$?"
        done
        echo "used=$(du -sm "$NEWSBOT_INDEX" | cut -f1)"
        dd if=/dev/zero of="$NEWSBOT_INDEX/filler" bs=1M >/dev/null 2>&1
        "{SCRIPT}" index build >/dev/null 2>"$NEWSBOT_INDEX/../full.err"
        echo "full=$?"
        "{SCRIPT}" ask "{STRIKE}" 2>/dev/null | head -1 | sed 's/^/answer=/'
        echo "debris=$(ls -A "$NEWSBOT_INDEX" "$NEWSBOT_INDEX/builds" | grep -c '^[.]')"
    """
    env = {**os.environ, "NEWSBOT_CORPUS": str(built.corpus_dir), "NEWSBOT_INDEX": str(index)}
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if done.returncode == 97:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    errors = {n: (tmp_path / f"{n}.err").read_text() for n in ("build1", "build2", "full")}
    assert found["build1"] == "0" and found["build2"] == "0", errors  # 2 builds in 130 MB
    assert int(found["used"]) < 110  # the 90 MB encoder is stored once, not once per build
    assert found["full"] == "1", errors["full"]
    [line] = [
        line
        for line in errors["full"].strip().splitlines()
        if not PROGRESS_LINE.fullmatch(line)  # what the build said as it went
    ]
    assert line.startswith("newsbot: error: no space left on the disk of"), line
    assert "needs about" in line and "MB" in line
    assert "Rotterdam" in found["answer"]  # the previous index keeps serving
    assert found["debris"] == "0"


def test_index_status_checks_the_build_files(built) -> None:
    assert newsbot(["index", "status"], built).returncode == 0
    (store.current_build(built.index_dir) / "chunks.faiss").unlink()
    one_error_line(newsbot(["index", "status"], built), "chunks.faiss is missing")


def test_a_missing_corpus_directory_is_an_error_not_an_empty_answer(built) -> None:
    moved = built.corpus_dir.with_name("moved")
    built.corpus_dir.rename(moved)
    one_error_line(newsbot(["ask", STRIKE], built), "corpus directory not found")


def test_adding_to_a_mistyped_corpus_leaves_the_index_of_the_real_one(built, tmp_path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("Harbour\n\nThe harbour reopened on Friday after repairs.\n")
    serving = store.current_build(built.index_dir)
    typo = built.corpus_dir.with_name("corpsu")
    result = newsbot(["add", str(page), "--corpus", str(typo)], built)
    one_error_line(result, f"holds the corpus {built.corpus_dir}, not {typo}")
    assert store.current_build(built.index_dir) == serving and not typo.exists()
    assert "Rotterdam" in newsbot(["ask", STRIKE], built).stdout.decode()
