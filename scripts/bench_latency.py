"""Latency of the terminal front end: ONNX query path against the sentence-transformers one.

    .venv/bin/python scripts/bench_latency.py [--runs 7] [--rounds 2]

Everything runs as a user runs it, in fresh processes of the installed `newsbot` command, over
an index of the bundled corpus built in a temporary directory (with an empty export cache, so
the first build pays the ONNX export). The sentence-transformers side is measured in the same
run, interleaved: a copy of the same index without its ONNX file (the query path falls back),
and the baseline the issue names, a fresh process that loads the model with
sentence-transformers and encodes one question.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import median, percentile, print_table, write_results

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NEWSBOT = str(BIN / "newsbot")
QUESTION = "Who is Ryan Ding?"
BASELINE = (
    "from bot.embedding import SentenceTransformerEmbedder\n"
    f"SentenceTransformerEmbedder().encode([{QUESTION!r}])\n"
)
# One warm sentence-transformers encode of one question: the unit the warm figure is compared to.
WARM_ENCODE = (
    "import statistics, time\n"
    "from bot.embedding import SentenceTransformerEmbedder\n"
    "model = SentenceTransformerEmbedder()\n"
    f"model.encode([{QUESTION!r}])\n"
    "times = []\n"
    "for _ in range(100):\n"
    "    started = time.perf_counter()\n"
    f"    model.encode([{QUESTION!r}])\n"
    "    times.append(time.perf_counter() - started)\n"
    "print(statistics.median(times))\n"
)


def questions() -> list[str]:
    """The seed gold and dev questions (100)."""
    found = []
    for name in ("seed_gold", "seed_dev"):
        for line in (REPO / "tests" / "data" / f"{name}.jsonl").read_text().splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    return found


def timed(command: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, str]:
    """Wall-clock seconds of one fresh process, and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds, done.stdout


def build(index: Path, env: dict[str, str]) -> dict[str, Any]:
    seconds, _ = timed([NEWSBOT, "index", "build", "--index", str(index)], env)
    manifest = json.loads((current_build(index) / "manifest.json").read_text())
    encoder = manifest["query_encoder"]
    return {
        "seconds": seconds,
        "export_seconds": encoder["seconds"],
        "cached": encoder["from_cache"],
    }


def current_build(index: Path) -> Path:
    return index / "builds" / (index / "CURRENT").read_text().strip()


def batch_latencies(index: Path, texts: list[str], env: dict[str, str]) -> tuple[list[float], list]:
    """Per-question seconds in `newsbot ask --json -`: the gaps between answer lines."""
    process = subprocess.Popen(
        [NEWSBOT, "ask", "--json", "--index", str(index), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n".join(texts) + "\n")
    process.stdin.close()
    stamps, answers = [], []
    for line in process.stdout:
        stamps.append(time.perf_counter())
        answer = json.loads(line)
        answers.append(
            (answer["answer"], [(c["path"], c["start"], c["end"]) for c in answer["citations"]])
        )
    if process.wait() != 0 or len(answers) != len(texts):
        raise SystemExit("batch run failed")
    # The first answer includes start-up; every later gap is one question, output included.
    return [b - a for a, b in itertools.pairwise(stamps)], answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per cold figure")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the 100 questions")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(work / "cache"),  # empty: the first build exports
        "NEWSBOT_CORPUS": str(REPO / "corpus"),
    }
    env.pop("NEWSBOT_CONFIG", None)
    try:
        onnx_index, st_index = work / "index", work / "index-st"
        first_build = build(onnx_index, env)
        cached_build = build(onnx_index, env)
        shutil.copytree(onnx_index, st_index)
        (current_build(st_index) / "query_encoder.onnx").unlink()  # the fallback path

        cold: dict[str, list[float]] = {
            "onnx": [],
            "st": [],
            "baseline": [],
            "help": [],
            "python": [],
        }
        outputs: dict[str, set[str]] = {"onnx": set(), "st": set()}
        for _ in range(args.runs):  # interleaved, so background load hits every side alike
            for side, index in (("onnx", onnx_index), ("st", st_index)):
                seconds, out = timed(
                    [NEWSBOT, "ask", "--json", "--index", str(index), QUESTION], env
                )
                cold[side].append(seconds)
                outputs[side].add(json.loads(out)["answer"])
            cold["baseline"].append(timed([sys.executable, "-c", BASELINE], env)[0])
            cold["help"].append(timed([NEWSBOT, "--help"], env)[0])
            cold["python"].append(timed([sys.executable, "-c", "pass"], env)[0])

        st_encode = float(
            subprocess.run(
                [sys.executable, "-c", WARM_ENCODE], env=env, capture_output=True, text=True
            ).stdout.split()[-1]
        )
        texts = questions() * args.rounds
        warm_onnx, answers_onnx = batch_latencies(onnx_index, texts, env)
        warm_st, answers_st = batch_latencies(st_index, texts, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    same = sum(a == b for a, b in zip(answers_onnx, answers_st, strict=True))
    baseline = median(cold["baseline"])
    results = {
        "runs": args.runs,
        "question": QUESTION,
        "cold_ask_onnx_s": median(cold["onnx"]),
        "cold_ask_sentence_transformers_s": median(cold["st"]),
        "baseline_sentence_transformers_process_s": baseline,
        "cold_ask_ratio_to_baseline": median(cold["onnx"]) / baseline,
        "help_s": median(cold["help"]),
        "python_startup_s": median(cold["python"]),
        "cold_same_answer": outputs["onnx"] == outputs["st"] and len(outputs["onnx"]) == 1,
        "warm_questions": len(warm_onnx),
        "warm_onnx_p50_ms": percentile(warm_onnx, 50) * 1000,
        "warm_onnx_p95_ms": percentile(warm_onnx, 95) * 1000,
        "warm_sentence_transformers_one_encode_ms": st_encode * 1000,
        "warm_p50_ratio_to_one_encode": percentile(warm_onnx, 50) / st_encode,
        "warm_sentence_transformers_p50_ms": percentile(warm_st, 50) * 1000,
        "warm_sentence_transformers_p95_ms": percentile(warm_st, 95) * 1000,
        "identical_answers_and_passages": f"{same}/{len(texts)}",
        "build_with_fresh_export": first_build,
        "build_with_cached_export": cached_build,
        "raw": cold,
    }
    path = write_results("bench_latency", results)

    ms = "{:.1f} ms".format
    s = "{:.2f} s".format
    print_table(
        ["measure", "ONNX query path", "sentence-transformers", "ratio", "target"],
        [
            [
                f"cold `newsbot ask` (median of {args.runs})",
                s(results["cold_ask_onnx_s"]),
                s(results["cold_ask_sentence_transformers_s"]),
                f"{results['cold_ask_onnx_s'] / results['cold_ask_sentence_transformers_s']:.2f}",
                "",
            ],
            [
                f"baseline: fresh process, ST loads the model + encodes one question (median of {args.runs})",
                "",
                s(baseline),
                f"{results['cold_ask_ratio_to_baseline']:.2f}",
                "cold ask <= 0.2x baseline",
            ],
            [f"`newsbot --help` (median of {args.runs})", s(results["help_s"]), "", "", "< 0.3 s"],
            ["python -c pass (floor)", s(results["python_startup_s"]), "", "", ""],
            [
                f"warm `newsbot ask --json -` p50 ({len(warm_onnx)} questions)",
                ms(results["warm_onnx_p50_ms"]),
                ms(results["warm_sentence_transformers_p50_ms"]),
                f"{results['warm_onnx_p50_ms'] / results['warm_sentence_transformers_p50_ms']:.2f}",
                "<= 50 ms",
            ],
            [
                "warm p50 against one sentence-transformers encode of one question",
                ms(results["warm_onnx_p50_ms"]),
                ms(results["warm_sentence_transformers_one_encode_ms"]),
                f"{results['warm_p50_ratio_to_one_encode']:.1f}x",
                "<= 6x",
            ],
            [
                "warm `newsbot ask --json -` p95",
                ms(results["warm_onnx_p95_ms"]),
                ms(results["warm_sentence_transformers_p95_ms"]),
                f"{results['warm_onnx_p95_ms'] / results['warm_sentence_transformers_p95_ms']:.2f}",
                "",
            ],
            [
                "same answer and passages on both paths",
                results["identical_answers_and_passages"],
                "",
                "",
                "all",
            ],
            [
                "`newsbot index build`, export not cached (export time)",
                f"{s(first_build['seconds'])} ({s(first_build['export_seconds'])})",
                "",
                "",
                "",
            ],
            [
                "`newsbot index build`, export cached (copy + checksums)",
                f"{s(cached_build['seconds'])} ({s(cached_build['export_seconds'])})",
                "",
                "",
                "",
            ],
        ],
    )
    print(f"\nwritten to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
