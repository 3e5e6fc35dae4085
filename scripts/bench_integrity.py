"""What issue 10's integrity and durability cost: verifying every build file's checksum when an
index is loaded, and fsyncing a build before CURRENT names it.

    .venv/bin/python scripts/bench_integrity.py [--copies 100] [--runs 5]

The corpus is the bundled article copied `--copies` times (so the index is a few MB, like a
small newsroom archive); vectors come from a hash embedder (random unit vectors), since the
cost measured depends only on bytes on disk. Results in scripts/results/bench_integrity.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings
from bot.indexing import build_index, store
from scripts.benchlib import median, print_table, write_results

REPO = Path(__file__).resolve().parent.parent


class HashEmbedder:
    """Deterministic random unit vectors: the index's size without the model's cost."""

    name = "hash-embedder"
    dimension = 384

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            row = np.random.default_rng(seed).standard_normal(self.dimension)
            rows.append(row / np.linalg.norm(row))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)


def timed_fsync(total: list[float]):
    real = os.fsync

    def fsync(fd: int) -> None:
        started = time.perf_counter()
        real(fd)
        total[0] += time.perf_counter() - started

    return fsync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-integrity-", dir=REPO))  # the project's disk
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        article = next((REPO / "corpus").glob("*.*")).read_text(encoding="utf-8")
        for n in range(options.copies):
            (corpus / f"copy-{n:04d}.txt").write_text(article, encoding="utf-8")
        settings = load_settings(corpus_dir=corpus, index_dir=work / "index")
        embedder = HashEmbedder()
        builds, fsyncs = [], []
        for _ in range(options.runs):
            spent = [0.0]
            real = os.fsync
            os.fsync = timed_fsync(spent)
            try:
                started = time.perf_counter()
                build_index(settings, embedder=embedder)
                builds.append(time.perf_counter() - started)
            finally:
                os.fsync = real
            fsyncs.append(spent[0])
        build = store.current_build(settings.index_dir)
        manifest = store.read_manifest(settings.index_dir)
        size = sum((build / name).stat().st_size for name in manifest[store.CHECKSUMS])
        verify, load = [], []
        for _ in range(options.runs):
            started = time.perf_counter()
            store.verify_build(build, manifest)
            verify.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.load(settings.index_dir)
            load.append(time.perf_counter() - started)
        results = {
            "copies": options.copies,
            "runs": options.runs,
            "checked_files": len(manifest[store.CHECKSUMS]),
            "checked_mb": round(size / 1e6, 2),
            "verify_s_median": round(median(verify), 4),
            "load_s_median_with_verify": round(median(load), 4),
            "build_s_median": round(median(builds), 3),
            "fsync_s_median": round(median(fsyncs), 4),
        }
        print_table(
            ["measure", "median"],
            [
                [
                    f"checksums verified at load ({results['checked_mb']} MB, "
                    f"{results['checked_files']} files)",
                    f"{results['verify_s_median']:.4f} s",
                ],
                [
                    "whole load, verification included",
                    f"{results['load_s_median_with_verify']:.4f} s",
                ],
                ["time in fsync during a build", f"{results['fsync_s_median']:.4f} s"],
                ["whole build (hash embedder)", f"{results['build_s_median']:.3f} s"],
            ],
        )
        print(f"results: {write_results('bench_integrity', results)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
