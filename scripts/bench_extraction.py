"""How well `newsbot add` extracts article text, on the public article-extraction benchmark.

    .venv/bin/python scripts/bench_extraction.py [BENCHMARK_DIR]

BENCHMARK_DIR (default ../shared/benchmarks/article-extraction beside the checkout) holds
`html/<id>.html.gz` and `ground-truth.json` (181 pages; see its README). Each page goes through
what `newsbot add` does with a saved page (decode, extract, render the stored Markdown), and the
body of the stored file is scored as the benchmark scores: 4-word shingles per page, counts
normalised per page, precision and recall averaged over pages, F1 their harmonic mean. The
same run scores trafilatura's defaults and `favor_precision=True` on the same pages as the
baseline. Results in scripts/results/bench_extraction.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.indexing.corpus import parse_document
from bot.ingest.extract import MIN_ARTICLE_CHARS, decode_html, extract_article
from bot.ingest.pages import render
from bot.language import text_language
from scripts.benchlib import print_table, write_results

REPO = Path(__file__).resolve().parent.parent
# ../shared/... beside the checkout (or beside the folder of worktrees holding it)
DEFAULT_DIR = next(
    (
        base / "shared" / "benchmarks" / "article-extraction"
        for base in (REPO.parent, REPO.parent.parent)
        if (base / "shared" / "benchmarks" / "article-extraction").is_dir()
    ),
    REPO.parent / "shared" / "benchmarks" / "article-extraction",
)
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words)


def page_counts(expected: str, extracted: str) -> tuple[float, float, float]:
    """(true positives, false positives, false negatives) as shares of their sum."""
    want, got = shingles(expected), shingles(extracted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else tp / (tp + fp)

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"f1": 2 * p * r / (p + r), "precision": p, "recall": r}


def stored_body(
    raw: bytes, page: str, scratch: Path, refused: list[str], foreign: dict[str, str]
) -> str:
    """The text `newsbot add` would index for this saved page (the stored file's body); a page
    it would refuse as no article is noted in `refused` (why), one it would skip as not in
    English in `foreign` (`page`, its address: the language), and either is scored as stored
    anyway. The page is extracted as a saved page, without its URL."""
    article = extract_article(decode_html(raw))
    if why := article.not_article or ("" if len(article.text) >= MIN_ARTICLE_CHARS else "short"):
        refused.append(why)
    elif language := text_language(article.text):
        foreign[page] = language
    stored = render(article).encode("utf-8")
    document = parse_document(scratch, scratch / "page.md", stored)
    return document.text[document.body_start :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    begun = time.perf_counter()
    truth = json.loads((args.benchmark / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {
        key: gzip.decompress((args.benchmark / "html" / f"{key}.html.gz").read_bytes())
        for key in truth
    }
    import trafilatura

    scratch = Path("/nonexistent-scratch")
    refused: list[str] = []
    foreign: dict[str, str] = {}
    # Each run reads (page bytes, the page's address for reports); none is given the URL.
    runs: dict[str, Callable[[bytes, str], str]] = {
        f"trafilatura {trafilatura.__version__}, defaults": lambda raw, page: (
            trafilatura.extract(raw.decode("utf-8")) or ""
        ),
        "trafilatura, favor_precision=True": lambda raw, page: (
            trafilatura.extract(raw.decode("utf-8"), favor_precision=True) or ""
        ),
        "newsbot add (the stored text)": lambda raw, page: stored_body(
            raw, page, scratch, refused, foreign
        ),
    }
    rows, results = [], {}
    for name, extract in runs.items():
        started = time.perf_counter()
        counts = [
            page_counts(
                truth[k].get("articleBody", ""), extract(pages[k], truth[k].get("url") or k)
            )
            for k in truth
        ]
        seconds = time.perf_counter() - started
        figures = scores(counts)
        results[name] = {**figures, "seconds": round(seconds, 1)}
        rows.append(
            [name, figures["f1"], figures["precision"], figures["recall"], f"{seconds:.1f}"]
        )
    total = time.perf_counter() - begun
    print(f"{len(truth)} pages from {args.benchmark}; the whole run took {total:.0f} s")
    print_table(["extractor", "F1", "precision", "recall", "seconds"], rows)
    print(f"pages newsbot add would refuse as no article: {len(refused)} {sorted(refused)}")
    print(f"pages newsbot add would skip as not English: {len(foreign)}")
    for url, language in sorted(foreign.items(), key=lambda pair: pair[1]):
        print(f"  {language}: {url}")
    path = write_results(
        "bench_extraction",
        {
            "pages": len(truth),
            "total_seconds": round(total, 1),
            "runs": results,
            "refused": len(refused),
            "not_english": foreign,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
