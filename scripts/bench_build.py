"""Index build throughput: full and incremental builds, a big file, and the sentence splitters.

    make bench-deps && .venv/bin/python scripts/bench_build.py [--articles 20] [--big-mb 20]
        [--skip-big] [--skip-splitters] [--chunks-only]

Everything is measured in one run, each build in a fresh process of the installed `newsbot`
command, with the ONNX export already cached (a first, untimed build primes it):

- build: the first `--articles` SQuAD v1.1 train articles as one file each. Baseline: a fresh
  process loads sentence-transformers and encodes the same paragraphs (what the issue
  measured). Then `newsbot index build --full`, adding one more article (incremental) and
  removing it again.
- big file: one `--big-mb` MB article (SQuAD train paragraphs, blank-line separated),
  `newsbot index build --full`, with its peak RSS.
- splitters: pysbd against the rule-based splitter: speed on the same text, sentence boundary
  agreement, and answer quality with each (seed gold and dev sets, and SQuAD dev questions on
  a few articles), through the real build and `Newsbot.ask`.

Results in scripts/results/bench_build.json.
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

import squadlib
from benchlib import print_table, write_results

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NEWSBOT = str(BIN / "newsbot")
# Runs a command and prints its peak RSS (KiB) last: getrusage of the waited-for children.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(done.returncode)\n"
)
_BASELINE = (
    "import json, sys\n"
    "from bot.embedding import SentenceTransformerEmbedder\n"
    "paragraphs = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "SentenceTransformerEmbedder().encode(paragraphs, batch_size=32)\n"
)


# A full build as `newsbot index build --full` does it, but embedding chunks only (no
# sentences.npy): what builds become once answering stops reading sentence vectors.
_CHUNKS_ONLY = (
    "import sys\n"
    "from pathlib import Path\n"
    "import bot.indexing.build as build\n"
    "from bot.config import load_settings\n"
    "build.SENTENCE_VECTORS = False\n"
    "settings = load_settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))\n"
    "report = build.build_index(settings, full=True)\n"
    "print(f'Indexed {report.documents} document(s): {report.chunks} chunks, "
    "{report.embedded_texts} texts embedded')\n"
)


def measured(command: list[str]) -> dict[str, Any]:
    """Wall-clock seconds and peak RSS (MB) of one fresh process, and its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    *output, rss = done.stdout.rstrip("\n").split("\n")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(int(rss) / 1024, 1),
        "stdout": "\n".join(output),
        "stderr": done.stderr,
    }


def build(corpus: Path, index: Path, *extra: str) -> dict[str, Any]:
    run = measured(
        [NEWSBOT, "index", "build", "--corpus", str(corpus), "--index", str(index), *extra]
    )
    print(f"  build {' '.join(extra)}: {run['seconds']:.1f} s, {run['stdout'].strip()}", flush=True)
    return run


def article_text(article: dict[str, Any]) -> str:
    body = "\n\n".join(squadlib.clean(p["context"]) for p in article["paragraphs"])
    return f"---\ntitle: {squadlib.title_of(article)}\n---\n{body}\n"


def bench_build(articles: int, root: Path, chunks_only: bool = False) -> dict[str, Any]:
    """Full build against the baseline, then adding and removing one article."""
    train = squadlib.load_split("train")
    chosen, extra = train[:articles], train[articles]
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir(parents=True)
    for number, article in enumerate(chosen):
        (corpus / f"{number:03d}.txt").write_text(article_text(article), encoding="utf-8")
    paragraphs = [squadlib.clean(p["context"]) for a in chosen for p in a["paragraphs"]]
    (root / "paragraphs.json").write_text(json.dumps(paragraphs), encoding="utf-8")
    print(f"build: {articles} articles, {len(paragraphs)} paragraphs", flush=True)

    primer = root / "primer"
    primer.mkdir()
    (primer / "a.txt").write_text(article_text(extra), encoding="utf-8")
    build(primer, root / "primer-index")  # caches the ONNX export; not timed

    baseline = measured([sys.executable, "-c", _BASELINE, str(root / "paragraphs.json")])
    print(f"  baseline (sentence-transformers load + encode): {baseline['seconds']:.1f} s")
    full = build(corpus, index, "--full")
    (corpus / "zzz-extra.txt").write_text(article_text(extra), encoding="utf-8")
    added = build(corpus, index)
    (corpus / "zzz-extra.txt").unlink()
    removed = build(corpus, index)
    unchanged = build(corpus, index)
    only = None
    if chunks_only:
        only = measured([sys.executable, "-c", _CHUNKS_ONLY, str(corpus), str(root / "only")])
        print(f"  chunks only: {only['seconds']:.1f} s, {only['stdout'].strip()}", flush=True)
    strip = ("stdout", "stderr")
    result = {
        "articles": articles,
        "paragraphs": len(paragraphs),
        "baseline": {k: v for k, v in baseline.items() if k not in strip},
        "full": {k: v for k, v in full.items() if k not in strip},
        "add_one": {k: v for k, v in added.items() if k not in strip},
        "remove_one": {k: v for k, v in removed.items() if k not in strip},
        "unchanged": {k: v for k, v in unchanged.items() if k not in strip},
        "summary": full["stdout"].strip(),
    }
    result["full_over_baseline"] = round(full["seconds"] / baseline["seconds"], 3)
    if only is not None:
        result["chunks_only"] = {k: v for k, v in only.items() if k not in strip}
        result["chunks_only_over_baseline"] = round(only["seconds"] / baseline["seconds"], 3)
    result["add_over_full"] = round(added["seconds"] / full["seconds"], 3)
    result["remove_over_full"] = round(removed["seconds"] / full["seconds"], 3)
    return result


def bench_big_file(megabytes: float, root: Path) -> dict[str, Any]:
    """One article of `megabytes` MB: full build time and peak RSS."""
    corpus = root / "big-corpus"
    corpus.mkdir(parents=True)
    pieces, size = [], 0
    # SQuAD train holds about 14 MB of paragraphs: beyond that they repeat (dev's after train's).
    for article in itertools.cycle(squadlib.load_split("train") + squadlib.load_split("dev")):
        for paragraph in article["paragraphs"]:
            text = squadlib.clean(paragraph["context"])
            pieces.append(text)
            size += len(text.encode("utf-8")) + 2
            if size >= megabytes * 1_000_000:
                break
        if size >= megabytes * 1_000_000:
            break
    path = corpus / "big.txt"
    path.write_text("Everything at once\n\n" + "\n\n".join(pieces) + "\n", encoding="utf-8")
    mb = path.stat().st_size / 1_000_000
    print(f"big file: {mb:.1f} MB, {len(pieces)} paragraphs", flush=True)
    run = build(corpus, root / "big-index", "--full")
    return {
        "megabytes": round(mb, 2),
        "paragraphs": len(pieces),
        "seconds": run["seconds"],
        "peak_rss_mb": run["peak_rss_mb"],
        "summary": run["stdout"].strip(),
    }


def bench_splitters(root: Path) -> dict[str, Any]:
    """pysbd against the rule-based splitter: speed, agreement, answer quality."""
    from bot.indexing.segment import paragraphs, pysbd_sentences, sentences

    dev = squadlib.load_split("dev")
    text = "\n\n".join(squadlib.clean(p["context"]) for a in dev[:20] for p in a["paragraphs"])
    spans = paragraphs(text)
    timings, ends = {}, {}
    for name, split in (("pysbd", pysbd_sentences), ("rules", sentences)):
        started = time.perf_counter()
        found = [s for p in spans for s in split(text, p)]
        timings[name] = time.perf_counter() - started
        ends[name] = {end for _, end in found}
    mb = len(text.encode("utf-8")) / 1_000_000
    agree = len(ends["pysbd"] & ends["rules"])
    speed = {
        "megabytes": round(mb, 3),
        "pysbd_seconds": round(timings["pysbd"], 3),
        "rules_seconds": round(timings["rules"], 4),
        "pysbd_mb_per_s": round(mb / timings["pysbd"], 3),
        "rules_mb_per_s": round(mb / timings["rules"], 1),
        "sentences_pysbd": len(ends["pysbd"]),
        "sentences_rules": len(ends["rules"]),
        "boundaries_agreeing": agree,
    }
    print(f"splitters: {json.dumps(speed)}", flush=True)
    quality = {name: _quality(name, root / f"split-{name}") for name in ("pysbd", "rules")}
    return {"speed": speed, "quality": quality}


def _quality(splitter: str, root: Path) -> dict[str, Any]:
    """Seed gold/dev and SQuAD dev (5 articles) answer quality with `splitter` in the build."""
    import bot.indexing.build as build_module
    import bot.indexing.chunking as chunking
    from bot import evaluation
    from bot.config import load_settings
    from bot.engine import Newsbot
    from bot.indexing import build_index
    from bot.indexing.segment import SPLITTER, pysbd_sentences, sentences

    chunking.sentences = pysbd_sentences if splitter == "pysbd" else sentences
    build_module.SPLITTER = "pysbd" if splitter == "pysbd" else SPLITTER
    try:
        figures: dict[str, Any] = {}
        seed = load_settings(corpus_dir=REPO / "corpus", index_dir=root / "seed-index")
        build_index(seed, full=True)
        bot = Newsbot(seed)
        for name in ("seed_gold", "seed_dev"):
            items = evaluation.load_qa(REPO / "tests" / "data" / f"{name}.jsonl")
            report = evaluation.report(evaluation.run(items, bot.ask))
            figures[name] = {
                "sentence_accuracy": report.sentence_accuracy,
                "passage_recall_at_1": report.passage_recall_at_1,
                "passage_recall_at_5": report.passage_recall_at_5,
                "abstention_recall": report.abstention_recall,
                "false_abstentions": report.false_abstentions,
            }
        articles = squadlib.load_split("dev")[:5]
        squad = load_settings(corpus_dir=root / "squad-corpus", index_dir=root / "squad-index")
        squadlib.write_corpus(articles, squad.corpus_dir)
        build_index(squad, full=True)
        bot = Newsbot(squad.replace(min_confidence=0.0))
        questions = squadlib.sample(squadlib.questions_of(articles), 400, seed=1234)
        right = sum(
            1
            for q in questions
            if (answer := bot.ask(q.question)).answer
            and squadlib.contains(answer.answer, q.answers)
        )
        figures["squad_dev_5_articles"] = {
            "questions": len(questions),
            "answer_sentence": round(right / len(questions), 3),
        }
        print(f"  {splitter}: {json.dumps(figures)}", flush=True)
        return figures
    finally:
        chunking.sentences = sentences
        build_module.SPLITTER = SPLITTER


def print_build(b: dict[str, Any]) -> None:
    """The full and incremental build table."""
    rows = [
        [
            "baseline: load sentence-transformers, encode the paragraphs",
            b["baseline"]["seconds"],
            "",
        ],
        ["`newsbot index build --full`", b["full"]["seconds"], b["full_over_baseline"]],
        ["add one article (incremental)", b["add_one"]["seconds"], b["add_over_full"]],
        ["remove it again (incremental)", b["remove_one"]["seconds"], b["remove_over_full"]],
        ["nothing changed", b["unchanged"]["seconds"], ""],
    ]
    if "chunks_only" in b:
        rows.append(
            [
                "full build, chunks only (no sentence vectors)",
                b["chunks_only"]["seconds"],
                b["chunks_only_over_baseline"],
            ]
        )
    print(f"\n{b['articles']} articles, {b['paragraphs']} paragraphs: {b['summary']}")
    print_table(["measure", "seconds", "ratio"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--big-mb", type=float, default=20.0)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-splitters", action="store_true")
    parser.add_argument(
        "--chunks-only", action="store_true", help="also time a full build without sentence vectors"
    )
    parser.add_argument(
        "--big-only",
        action="store_true",
        help="only the big file (results in bench_build_big_file.json)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-build-") as scratch:
        root = Path(scratch)
        if not args.big_only:
            results["build"] = bench_build(args.articles, root / "build", args.chunks_only)
        if not (args.skip_splitters or args.big_only):
            results["splitters"] = bench_splitters(root / "splitters")
        if not args.skip_big:
            results["big_file"] = bench_big_file(args.big_mb, root / "big")
        shutil.rmtree(root, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    path = write_results("bench_build_big_file" if args.big_only else "bench_build", results)
    if "build" in results:
        print_build(results["build"])
    if "big_file" in results:
        big = results["big_file"]
        print(
            f"\nbig file {big['megabytes']} MB: {big['seconds']:.0f} s, "
            f"peak RSS {big['peak_rss_mb']:.0f} MB ({big['summary']})"
        )
    if "splitters" in results:
        s = results["splitters"]
        speed, quality = s["speed"], s["quality"]
        print(
            f"\nsplitters on {speed['megabytes']} MB: pysbd {speed['pysbd_mb_per_s']} MB/s, "
            f"rules {speed['rules_mb_per_s']} MB/s; {speed['boundaries_agreeing']} of "
            f"{speed['sentences_pysbd']} pysbd sentence ends shared"
        )
        print_table(
            [
                "splitter",
                "gold answer sentence",
                "gold R@1",
                "dev answer sentence",
                "SQuAD dev 5 art.",
            ],
            [
                [
                    name,
                    q["seed_gold"]["sentence_accuracy"],
                    q["seed_gold"]["passage_recall_at_1"],
                    q["seed_dev"]["sentence_accuracy"],
                    q["squad_dev_5_articles"]["answer_sentence"],
                ]
                for name, q in quality.items()
            ],
        )
    print(f"\nload average before {results['load_before']}, after {results['load_after']}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
