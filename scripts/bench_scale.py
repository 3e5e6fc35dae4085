"""Scale: indexes of 1,000 and 10,000 articles, and where dense search should leave exact FAISS.

    make bench-deps && .venv/bin/python scripts/bench_scale.py [--sizes 1000 10000]
        [--questions 300] [--synthetic 50000 100000 200000] [--store milvus [--no-gold]]

Articles are SQuAD v1.1 train paragraphs, one per file (title in front matter), in the order
of the data set: news-sized texts of ~120 words, with real questions about them. For each size:

- `newsbot index build --full` in a fresh process (time, peak RSS, size on disk), with exact
  (flat) dense search;
- adding one article (`newsbot index build`, incremental), time and ratio to the full build;
- warm latency per question through `Newsbot.ask` (ONNX query encoder, hybrid retrieval), p50
  and p95 over `--questions` questions on the indexed paragraphs;
- dense search alone: exact (flat) against HNSW over the same vectors, per query, and HNSW's
  recall@10 against exact search for the same questions.

Then flat and HNSW search time per query on `--synthetic` chunk counts (real chunk vectors
repeated with a little noise, re-normalised), to find where flat search gets slow; HNSW's
recall there is reported too, but real data above is what the recall target is judged on.
Results in scripts/results/bench_scale.json.

With `--store milvus` (issue 19), each size is also built into Milvus (a `milvus-lite server`
on 127.0.0.1 started for the run, so questions go over gRPC as replicas' would), in the same
run as the FAISS baseline, and both stores answer the same questions, each in its own fresh
process: build time, warm p50/p95 with the reader, the answering process's resident memory
(peak and after the questions), the server's, and how many answers are identical. The seed
article's gold, dev and users sets are answered through both stores too (`--gold`, on by
default with milvus). Results in scripts/results/bench_scale_milvus.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import squadlib
from bench_build import measured
from benchlib import percentile, print_table, write_results

BIN = Path(sys.executable).parent
NEWSBOT = str(BIN / "newsbot")
HNSW_EF_SEARCH = (32, 64, 128)


def paragraphs_as_articles(count: int) -> list[tuple[str, str, list[squadlib.Question]]]:
    """(title, paragraph, its questions) for the first `count` SQuAD train paragraphs."""
    found = []
    for article in squadlib.load_split("train"):
        title = squadlib.title_of(article)
        for paragraph in article["paragraphs"]:
            questions = [
                squadlib.Question(
                    squadlib.clean(qa["question"]),
                    sorted({squadlib.clean(a["text"]) for a in qa["answers"]}),
                    title,
                    1,
                )
                for qa in paragraph["qas"]
            ]
            found.append((title, squadlib.clean(paragraph["context"]), questions))
            if len(found) == count:
                return found
    return found


def write_article(path: Path, title: str, text: str) -> None:
    path.write_text(f"---\ntitle: {title}\n---\n{text}\n", encoding="utf-8")


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1_000_000


def one_size(count: int, root: Path, question_count: int) -> dict[str, Any]:
    from bot.config import load_settings
    from bot.engine import Newsbot
    from bot.indexing import store

    items = paragraphs_as_articles(count + 1)
    extra, items = items[-1], items[:count]
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir(parents=True)
    for number, (title, text, _) in enumerate(items):
        write_article(corpus / f"{number:05d}.txt", title, text)
    env_flat = ["--corpus", str(corpus), "--index", str(index)]
    os.environ["NEWSBOT_HNSW_MIN_CHUNKS"] = "0"  # exact search: the reference
    full = measured([NEWSBOT, "index", "build", *env_flat, "--full"])
    print(f"{count} articles: full build {full['seconds']:.1f} s; {full['stdout'].strip()}")
    write_article(corpus / "zzzzz-extra.txt", extra[0], extra[1])
    added = measured([NEWSBOT, "index", "build", *env_flat])
    print(f"  add one: {added['seconds']:.1f} s")
    build_dir = store.current_build(index)
    size = disk_mb(build_dir)

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    bot = Newsbot(settings)
    questions = squadlib.sample([q for _, _, qs in items for q in qs], question_count, seed=1234)
    bot.ask(questions[0].question)  # warm-up
    latencies = []
    for question in questions:
        started = time.perf_counter()
        bot.ask(question.question)
        latencies.append((time.perf_counter() - started) * 1000)

    data = store.load(index)
    vectors = data.chunk_vectors.reconstruct_n(0, data.chunk_vectors.ntotal)
    queries = bot.embedder.encode([q.question for q in questions])
    dense = dense_search(vectors, queries)
    result = {
        "articles": count,
        "documents": data.manifest["counts"]["documents"],
        "chunks": data.manifest["counts"]["chunks"],
        "sentences": data.manifest["counts"]["sentences"],
        "build_seconds": full["seconds"],
        "build_peak_rss_mb": full["peak_rss_mb"],
        "add_one_seconds": added["seconds"],
        "add_over_full": round(added["seconds"] / full["seconds"], 3),
        "index_mb": round(size, 1),
        "ask_p50_ms": round(percentile(latencies, 50), 2),
        "ask_p95_ms": round(percentile(latencies, 95), 2),
        "questions": len(questions),
        "dense": dense,
    }
    print(f"  {result}", flush=True)
    return result


def dense_search(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Flat against HNSW (as the build makes it): per-query time, HNSW build time, recall@k."""
    import faiss

    from bot.indexing.build import HNSW_EF_CONSTRUCTION, HNSW_M

    faiss.omp_set_num_threads(1)  # one question at a time, as the bot searches
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    flat_ms = _per_query_ms(flat, queries, k)
    _, exact = flat.search(queries, k)

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # the build uses every core
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    build_seconds = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    result: dict[str, Any] = {
        "chunks": len(vectors),
        "flat_ms": round(flat_ms, 3),
        "hnsw_build_seconds": round(build_seconds, 2),
    }
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        _, found = hnsw.search(queries, k)
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact, strict=True)])
        result[f"hnsw_ef{ef}_ms"] = round(_per_query_ms(hnsw, queries, k), 3)
        result[f"hnsw_ef{ef}_recall_at_{k}"] = round(float(recall), 4)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return result


def _per_query_ms(index: Any, queries: np.ndarray, k: int) -> float:
    times = []
    for row in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[row : row + 1], k)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def synthetic(base: np.ndarray, queries: np.ndarray, sizes: list[int]) -> list[dict[str, Any]]:
    """Flat and HNSW search cost at larger chunk counts (real vectors, repeated with noise)."""
    rng = np.random.default_rng(7)
    found = []
    for size in sizes:
        reps = -(-size // len(base))
        vectors = np.vstack([base] * reps)[:size]
        vectors = vectors + rng.normal(0, 0.05, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        result = dense_search(np.ascontiguousarray(vectors, dtype=np.float32), queries)
        print(f"synthetic {size}: {result}", flush=True)
        found.append(result)
    return found


SEED_SETS = ("seed_gold", "seed_dev", "seed_users")
REPO = Path(__file__).resolve().parent.parent


def ask_worker(spec_path: Path) -> None:
    """In a fresh process: open the index, answer the questions, write timings, answers and
    this process's memory to the spec's `out` file."""
    from bot.config import load_settings
    from bot.engine import Newsbot

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    settings = load_settings(**spec["settings"])
    bot = Newsbot(settings)
    questions = spec["questions"]
    bot.ask(questions[0])  # warm-up: model, reader, first search
    latencies, answers = [], []
    for question in questions:
        started = time.perf_counter()
        answer = bot.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
        answers.append([answer.answer, answer.abstained, round(answer.confidence, 3)])
    out = {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "rss_mb": round(_status_mb("VmRSS"), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "answers": answers,
    }
    Path(spec["out"]).write_text(json.dumps(out), encoding="utf-8")


def _status_mb(field: str, pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def asked(settings: dict[str, str], questions: list[str], scratch: Path) -> dict[str, Any]:
    spec = scratch / f"ask-{time.time_ns()}.json"
    out = spec.with_suffix(".out.json")
    spec.write_text(
        json.dumps({"settings": settings, "questions": questions, "out": str(out)}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, __file__, "--ask-worker", str(spec)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"ask worker failed:\n{done.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def milvus_size(count: int, root: Path, question_count: int, uri: str, server: Any) -> dict:
    """The FAISS index `one_size` built at `root`, built again into Milvus, both asked."""
    corpus, index = root / "corpus", root / "index"
    items = paragraphs_as_articles(count)
    questions = [
        q.question
        for q in squadlib.sample([q for _, _, qs in items for q in qs], question_count, seed=1234)
    ]
    collection = f"bench{count}"
    flags = ["--corpus", str(corpus), "--index", str(index), "--store", "milvus"]
    os.environ["NEWSBOT_MILVUS_COLLECTION"] = collection
    built = measured([NEWSBOT, "index", "build", *flags, "--milvus-uri", uri, "--full"])
    del os.environ["NEWSBOT_MILVUS_COLLECTION"]
    print(f"  milvus build {built['seconds']:.1f} s; {built['stdout'].strip()}", flush=True)
    base = {"corpus_dir": str(corpus), "index_dir": str(index)}
    faiss_run = asked(base, questions, root)
    milvus_run = asked(
        {**base, "store": "milvus", "milvus_uri": uri, "milvus_collection": collection},
        questions,
        root,
    )
    same = sum(a == b for a, b in zip(faiss_run["answers"], milvus_run["answers"], strict=True))
    same_text = sum(
        a[:2] == b[:2] for a, b in zip(faiss_run["answers"], milvus_run["answers"], strict=True)
    )
    result = {
        "articles": count,
        "milvus_build_seconds": built["seconds"],
        "milvus_build_peak_rss_mb": built["peak_rss_mb"],
        "server_rss_mb": round(_status_mb("VmRSS", server.pid), 1),
        "server_peak_rss_mb": round(_status_mb("VmHWM", server.pid), 1),
        "faiss": {k: v for k, v in faiss_run.items() if k != "answers"},
        "milvus": {k: v for k, v in milvus_run.items() if k != "answers"},
        "questions": len(questions),
        "identical_answers": same,
        "identical_answer_text": same_text,
        "differences": [
            {"question": q, "faiss": a, "milvus": b}
            for q, a, b in zip(questions, faiss_run["answers"], milvus_run["answers"], strict=True)
            if a[:2] != b[:2]
        ][:20],
    }
    print(f"  {json.dumps({k: v for k, v in result.items() if k != 'differences'})}", flush=True)
    return result


def gold_sets(root: Path, uri: str) -> list[dict[str, Any]]:
    """The seed article's question sets through both stores: right answers and identity."""
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(REPO / "corpus", corpus)
    for store in ("faiss", "milvus"):
        extra = ["--store", store, "--milvus-uri", uri]
        measured(
            [NEWSBOT, "index", "build", "--corpus", str(corpus), "--index", str(index), *extra]
        )
    found = []
    for name in SEED_SETS:
        path = REPO / "tests" / "data" / f"{name}.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        questions = [row["question"] for row in rows]
        base = {"corpus_dir": str(corpus), "index_dir": str(index)}
        runs = {
            store: asked({**base, "store": store, "milvus_uri": uri}, questions, root)
            for store in ("faiss", "milvus")
        }
        evals = {}
        for store in ("faiss", "milvus"):
            done = subprocess.run(
                [
                    NEWSBOT,
                    "eval",
                    str(path),
                    "--json",
                    "--corpus",
                    str(corpus),
                    "--index",
                    str(index),
                    "--store",
                    store,
                    "--milvus-uri",
                    uri,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            evals[store] = json.loads(done.stdout)
        answers = zip(runs["faiss"]["answers"], runs["milvus"]["answers"], strict=True)
        result = {
            "set": name,
            "questions": len(questions),
            "identical_answers": sum(a[:2] == b[:2] for a, b in answers),
            "faiss_right": _right(evals["faiss"]),
            "milvus_right": _right(evals["milvus"]),
            "faiss_eval": evals["faiss"],
            "milvus_eval": evals["milvus"],
        }
        print(f"  {name}: {result['identical_answers']}/{len(questions)} identical", flush=True)
        found.append(result)
    return found


def _right(report: dict[str, Any]) -> int:
    """Answerable questions answered right, from `newsbot eval --json`."""
    return round((report["sentence_accuracy"] or 0) * report["answerable"])


def milvus_main(args: argparse.Namespace) -> None:
    from bot.stores.milvus.lite import start_server, stop_server

    results: dict[str, Any] = {"load_before": os.getloadavg(), "sizes": [], "milvus": []}
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {uptime}")
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as scratch:
        server, uri = start_server(Path(scratch) / "milvus")
        try:
            if args.gold:
                results["gold"] = gold_sets(Path(scratch) / "seed", uri)
            for count in args.sizes:
                root = Path(scratch) / str(count)
                results["sizes"].append(one_size(count, root, args.questions))
                results["milvus"].append(milvus_size(count, root, args.questions, uri, server))
        finally:
            stop_server(server)
    results["load_after"] = os.getloadavg()
    path = write_results("bench_scale_milvus", results)
    print()
    print_table(
        [
            "articles",
            "build s FAISS / Milvus",
            "ask p50 ms FAISS / Milvus",
            "ask p95 ms FAISS / Milvus",
            "answering RSS MB FAISS / Milvus",
            "server RSS MB",
            "identical answers",
        ],
        [
            [
                f["articles"],
                f"{f['build_seconds']} / {m['milvus_build_seconds']}",
                f"{m['faiss']['p50_ms']} / {m['milvus']['p50_ms']}",
                f"{m['faiss']['p95_ms']} / {m['milvus']['p95_ms']}",
                f"{m['faiss']['rss_mb']} / {m['milvus']['rss_mb']}",
                m["server_rss_mb"],
                f"{m['identical_answer_text']}/{m['questions']}",
            ]
            for f, m in zip(results["sizes"], results["milvus"], strict=True)
        ],
    )
    if results.get("gold"):
        print()
        print_table(
            ["seed set", "questions", "right FAISS / Milvus", "identical answers"],
            [
                [
                    g["set"],
                    g["questions"],
                    f"{g['faiss_right']} / {g['milvus_right']}",
                    g["identical_answers"],
                ]
                for g in results["gold"]
            ],
        )
    print(f"\nload average before {results['load_before']}, after {results['load_after']}")
    print(f"results: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--synthetic", type=int, nargs="*", default=[50_000, 100_000, 200_000])
    parser.add_argument("--store", choices=("faiss", "milvus"), default="faiss")
    parser.add_argument("--gold", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ask-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ask_worker:
        ask_worker(args.ask_worker)
        return
    if args.store == "milvus":
        milvus_main(args)
        return
    results: dict[str, Any] = {"load_before": os.getloadavg(), "sizes": []}
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {uptime}")
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as scratch:
        for count in args.sizes:
            results["sizes"].append(one_size(count, Path(scratch) / str(count), args.questions))
        if args.synthetic:
            from bot.config import load_settings
            from bot.engine import Newsbot
            from bot.indexing import store

            last = Path(scratch) / str(args.sizes[-1])
            settings = load_settings(corpus_dir=last / "corpus", index_dir=last / "index")
            data = store.load(settings.index_dir)
            base = data.chunk_vectors.reconstruct_n(0, data.chunk_vectors.ntotal)
            questions = [q for _, _, qs in paragraphs_as_articles(200) for q in qs][:200]
            queries = Newsbot(settings).embedder.encode([q.question for q in questions])
            results["synthetic"] = synthetic(base, queries, args.synthetic)
        shutil.rmtree(scratch, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    path = write_results("bench_scale", results)

    print()
    print_table(
        [
            "articles",
            "chunks",
            "full build s",
            "add one s (ratio)",
            "index MB",
            "peak RSS MB",
            "ask p50 / p95 ms",
            "flat ms",
            "HNSW ef128 ms",
            "HNSW recall@10 ef 32/64/128",
        ],
        [
            [
                r["articles"],
                r["chunks"],
                r["build_seconds"],
                f"{r['add_one_seconds']} ({r['add_over_full']})",
                r["index_mb"],
                r["build_peak_rss_mb"],
                f"{r['ask_p50_ms']} / {r['ask_p95_ms']}",
                r["dense"]["flat_ms"],
                r["dense"]["hnsw_ef128_ms"],
                " / ".join(str(r["dense"][f"hnsw_ef{ef}_recall_at_10"]) for ef in HNSW_EF_SEARCH),
            ]
            for r in results["sizes"]
        ],
    )
    if results.get("synthetic"):
        print()
        print_table(
            [
                "chunks (synthetic)",
                "flat ms",
                "HNSW build s",
                "HNSW ef64 ms",
                "HNSW ef128 ms",
                "recall@10 ef128",
            ],
            [
                [
                    s["chunks"],
                    s["flat_ms"],
                    s["hnsw_build_seconds"],
                    s["hnsw_ef64_ms"],
                    s["hnsw_ef128_ms"],
                    s["hnsw_ef128_recall_at_10"],
                ]
                for s in results["synthetic"]
            ],
        )
    print(f"\nload average before {results['load_before']}, after {results['load_after']}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
