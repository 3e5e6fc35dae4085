"""Overviews at a larger scale: "tell me about <title>" for each of the 48 SQuAD v1.1 dev
articles (4,668 passages), the overview path against the factoid reader in the same run.

    make bench-deps && .venv/bin/python scripts/bench_overview.py

A reply is right when its first citation is the article whose title was asked about (for the
overview path, the reply is then that article's lead). The baseline is the same question with
overview questions not recognised, so the reader picks a sentence as for any question.
Writes scripts/results/bench_overview.json.
"""

from __future__ import annotations

import os
import time
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import benchlib
import squadlib

from bot import engine
from bot.engine import Newsbot


def main() -> None:
    articles = squadlib.load_split("dev")
    settings = squadlib.build_cached_index(
        "squad-dev", lambda d: squadlib.write_corpus(articles, d)
    )
    bot = Newsbot(settings)
    documents = bot.documents
    bot.ask("tell me about the news")  # load the models before timing
    results: dict = {"machine": benchlib.machine(), "articles": len(documents)}
    rows = []
    for label, recognised in (("overview", True), ("factoid reader (baseline)", False)):
        right, seconds, missed = 0, [], []
        with mock.patch.object(
            engine, "asked_overview", engine.asked_overview if recognised else lambda _: None
        ):
            for document in documents:
                started = time.perf_counter()
                answer = bot.ask(f"tell me about {document.title}")
                seconds.append(time.perf_counter() - started)
                found = not answer.abstained and answer.citations[0].doc_id == document.doc_id
                right += found
                if not found:
                    missed.append(document.title)
        p50 = round(1000 * benchlib.percentile(seconds, 50), 1)
        results[label] = {"right": right, "p50_ms": p50, "missed": missed}
        rows.append([label, f"{right}/{len(documents)}", p50])
    benchlib.print_table(["asked as", "the article's own answer", "p50 ms"], rows)
    machine = results["machine"]
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['date']}")
    print(f"wrote {benchlib.write_results('bench_overview', results)}")


if __name__ == "__main__":
    main()
