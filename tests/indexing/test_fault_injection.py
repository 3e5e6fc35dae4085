"""Fault injection: `index build` processes killed with SIGKILL at random moments (seeded).
After every kill the previous index still answers, CURRENT names a complete build whose
checksums hold, and the next build clears the debris."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import load_settings
from bot.engine import Newsbot
from bot.indexing import build_index, store
from scripts.bench_integrity import HashEmbedder

RUNS = 24
SEED = 20261128
BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from bot.config import load_settings
from bot.indexing import build_index
from scripts.bench_integrity import HashEmbedder
settings = load_settings(corpus_dir=Path({corpus!r}), index_dir=Path({index!r}))
print("ready", flush=True)
build_index(settings, embedder=HashEmbedder())
print("done", flush=True)
"""
REPO = Path(__file__).resolve().parents[2]


def test_killed_builds_never_leave_a_broken_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(30):
        (corpus / f"port-{n:02d}.txt").write_text(
            f"Port strike {n}\n\nDock workers in Rotterdam walked out on day {n} over pay. "
            "The union said the strike would last three days.\n\n"
            "Shipping firms diverted twelve vessels to Antwerp.\n"
        )
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    embedder = HashEmbedder()
    build_index(settings, embedder=embedder)
    script = BUILD.format(repo=str(REPO), corpus=str(corpus), index=str(settings.index_dir))

    def start() -> tuple[subprocess.Popen[str], float]:
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        return process, time.monotonic()

    spans = []
    for _ in range(3):  # untouched builds: how long the build itself takes
        process, began = start()
        process.wait(timeout=120)
        spans.append(time.monotonic() - began)
    span = min(spans)
    # Bounded by construction: each run waits at most one build's span before its kill, and
    # at most 30 s for the process to go (the whole test: 7 s idle, 16 s on a busy machine).
    rng = random.Random(SEED)
    killed = finished = 0
    for _ in range(RUNS):
        process, began = start()
        time.sleep(rng.uniform(0, span))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        killed += process.returncode == -signal.SIGKILL
        finished += process.returncode == 0
        if process.returncode == 0:  # a busy machine's timings drift: aim earlier
            span *= 0.7
        serving = store.current_build(settings.index_dir)
        manifest = store.read_manifest(settings.index_dir)
        store.verify_build(serving, manifest)  # complete: every file there, every checksum holds
        answer = Newsbot(settings, embedder=embedder).ask("Where did the dock workers strike?")
        assert answer.citations and "Rotterdam" in answer.citations[0].text
    assert killed >= RUNS // 2, (killed, finished)
    build_index(settings, embedder=embedder)  # the next build clears what the killed ones left
    index = settings.index_dir
    assert list(index.glob(".CURRENT.*")) == []
    assert list((index / "builds").glob(".tmp-*")) == []
    assert len(list((index / "builds").iterdir())) <= 2


def test_a_write_probe_left_by_a_killed_build_is_cleared(tmp_path: Path) -> None:
    """A build killed while proving it can write leaves its probe file; the next build clears
    it (and keeps a probe of a build still running)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.txt").write_text("Port strike\n\nDock workers in Rotterdam walked out.\n")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=HashEmbedder())
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    builds = settings.index_dir / "builds"
    stale = builds / f"{store.PROBE_PREFIX}{gone}-x1y2z3"
    alive = builds / f"{store.PROBE_PREFIX}{os.getppid()}-a1b2c3"
    stale.touch()
    alive.touch()
    build_index(settings, embedder=HashEmbedder(), full=True)
    assert not stale.exists() and alive.exists()
