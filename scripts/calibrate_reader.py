"""Fit the reader's shortlist prior and calibrate its abstention on SQuAD v1.1 *train*.

    make bench-deps && .venv/bin/python scripts/calibrate_reader.py

Only train articles the reader never saw in training (scripts/train_reader.py holds its
articles out of here) are used, and never SQuAD dev or the seed gold set, so that
scripts/bench_squad.py and `newsbot eval tests/data/seed_gold.jsonl` stay honest. A corpus of
such articles is built with a quarter of each article's paragraphs held out:

- questions on kept paragraphs are answerable;
- questions on held-out paragraphs whose answer appears nowhere in the kept article are
  near-topic unanswerable questions (the corpus has the article, not the answer);
- questions on articles left out of the corpus altogether are off-corpus ones.

Articles are split in two. "Fit" articles fit the prior (PRIOR_WEIGHTS in bot/answering/prior.py,
listwise, so that the reader's shortlist holds the answer), the calibration of the
reader's score (Platt scaling: the probability that a sentence answers) and the answer's
confidence (logistic regression on the best sentence's probability and its lead over the
runner-up: the probability that the answer is right). "Calibration"
articles, plus the seed dev set (tests/data/seed_dev.jsonl, on the bundled corpus), choose
the abstention threshold: the highest that turns away at most MAX_FALSE_ABSTENTIONS of the
answerable questions. The calibration is written into bot/models/reader.json, and the
threshold is printed for `min_confidence` in bot/config.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib
import squadlib
import train_reader

from bot.answering import prior, question, reading
from bot.answering.reader import (
    CARD_FILE,
    MODELS_DIR,
    Reader,
    confidence_features,
)
from bot.config import load_settings
from bot.evaluation import contains_answer, load_qa
from bot.query import Query
from bot.retrieval import Retriever

SEED = 20240611
INDEXED_ARTICLES = 40
FIT_ARTICLES = 24  # the first 24 indexed articles fit; the other 16 calibrate
ABSENT_ARTICLES = 40  # articles kept out of the corpus (half fit, half calibrate)
HELD_OUT_SHARE = 0.25
# The abstention threshold is the highest that withholds at most this share of the answers
# that would have been right: a false abstention costs more than answering an unanswerable
# question. On the seed dev set (13-15 right answers) 8% is one question.
MAX_FALSE_ABSTENTIONS = {"calibration": 0.05, "seed dev": 0.08}
BLENDS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
THRESHOLDS = np.round(np.arange(0.02, 0.81, 0.02), 3)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Item:
    question: str
    answers: list[str]  # empty: unanswerable
    kind: str  # answerable, near-topic, off-corpus


@dataclass
class Observation:
    """What the answering path computed for one question."""

    item: Item
    query: Query
    features: np.ndarray  # candidate pairs x PRIOR_FEATURES
    labels: np.ndarray  # pair's sentence contains an answer
    pairs: prior.Candidates


def split_articles() -> tuple[list[dict], dict[str, set[int]], list[dict], list[dict]]:
    """(indexed articles, kept paragraphs per title, absent fit articles, absent cal articles),
    all from the train articles the reader was not trained or checked on."""
    articles = squadlib.load_split("train")
    reader_seen = {
        squadlib.title_of(a) for part in train_reader.split_articles(articles) for a in part
    }
    unseen = [a for a in articles if squadlib.title_of(a) not in reader_seen]
    rng = random.Random(SEED)
    rng.shuffle(unseen)
    indexed = unseen[:INDEXED_ARTICLES]
    absent = unseen[INDEXED_ARTICLES : INDEXED_ARTICLES + ABSENT_ARTICLES]
    keep = {}
    for article in indexed:
        numbers = list(range(1, len(article["paragraphs"]) + 1))
        held = set(rng.sample(numbers, int(len(numbers) * HELD_OUT_SHARE)))
        keep[squadlib.title_of(article)] = set(numbers) - held
    half = ABSENT_ARTICLES // 2
    return indexed, keep, absent[:half], absent[half:]


def items_for(indexed: list[dict], keep: dict[str, set[int]], absent: list[dict]) -> list[Item]:
    items = []
    for article in indexed:
        title = squadlib.title_of(article)
        kept_text = " ".join(
            squadlib.clean(p["context"])
            for i, p in enumerate(article["paragraphs"], start=1)
            if i in keep[title]
        )
        for q in squadlib.questions_of([article]):
            if q.paragraph in keep[title]:
                items.append(Item(q.question, q.answers, "answerable"))
            elif not contains_answer(kept_text, q.answers):
                items.append(Item(q.question, [], "near-topic"))
    items += [Item(q.question, [], "off-corpus") for q in squadlib.questions_of(absent)]
    return items


def pick(items: list[Item], counts: dict[str, int], seed: int) -> list[Item]:
    chosen = []
    for kind, n in counts.items():
        chosen += squadlib.sample([i for i in items if i.kind == kind], n, seed)
    return chosen


def observe(
    retriever: Retriever, embedder, items: list[Item], candidates: int
) -> list[Observation]:
    vectors = embedder.encode([i.question for i in items], batch_size=64)
    observations = []
    for item, vector in zip(items, vectors, strict=True):
        query = Query.analyse(item.question, vector)
        hits = retriever.search(query, "hybrid", candidates)
        asked = question.analyse_question(retriever, query)
        pairs = prior.candidate_features(retriever, asked, hits)
        labels = np.array(
            [
                bool(item.answers)
                and contains_answer(retriever.data.sentence_text(int(s)), item.answers)
                for s in pairs.sentences
            ]
        )
        observations.append(Observation(item, query, pairs.features, labels, pairs))
    return observations


def fit_listwise(
    observations: list[Observation], l2: float = 1e-3, steps: int = 1500
) -> np.ndarray:
    """Weights maximising the softmax likelihood of the answer-bearing pairs of each question."""
    usable = [o for o in observations if o.labels.any()]
    x = np.vstack([o.features for o in usable])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    groups = np.concatenate([np.full(len(o.labels), g) for g, o in enumerate(usable)])
    targets = np.concatenate([o.labels / o.labels.sum() for o in usable])
    z = (x - mean) / std
    w = np.zeros(x.shape[1])
    adam_m, adam_v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, steps + 1):
        logits = z @ w
        peak = np.full(len(usable), -np.inf)
        np.maximum.at(peak, groups, logits)
        exp = np.exp(logits - peak[groups])
        norm = np.bincount(groups, exp)
        prob = exp / norm[groups]
        grad = z.T @ (prob - targets) / len(usable) + l2 * w
        adam_m = 0.9 * adam_m + 0.1 * grad
        adam_v = 0.999 * adam_v + 0.001 * grad**2
        w -= 0.05 * (adam_m / (1 - 0.9**step)) / (np.sqrt(adam_v / (1 - 0.999**step)) + 1e-8)
    return w / std  # the mean shifts every candidate of a question alike: it cancels


def shortlist_recall(observations: list[Observation], weights: np.ndarray) -> tuple[float, float]:
    """(prior picks the answer first, the answer is in the reader's shortlist) on answerable."""
    first = inside = 0
    answerable = [o for o in observations if o.item.answers]
    for o in answerable:
        chosen, _ = prior.shortlist(o.pairs, o.features @ weights)
        right = {int(s) for s, y in zip(o.pairs.sentences, o.labels, strict=True) if y}
        first += int(chosen[0]) in right
        inside += any(int(s) in right for s in chosen)
    return first / len(answerable), inside / len(answerable)


@dataclass
class Read:
    """The reader's raw view of one question's shortlist."""

    logits: np.ndarray
    prior: np.ndarray
    right: np.ndarray  # each shortlisted sentence holds an answer
    answerable: bool
    sentences: np.ndarray  # the shortlisted sentences' ids
    documents: np.ndarray  # ... and their documents


def read(
    retriever: Retriever, reader: Reader, observations: list[Observation], weights: np.ndarray
) -> list[Read]:
    """The reader's logits for each question's shortlist, with the prior and the truth."""
    reads = []
    for o in observations:
        chosen, chosen_prior = prior.shortlist(o.pairs, o.features @ weights)
        texts = [reading.reader_candidate(retriever, reader, int(s)) for s in chosen]
        right = np.array(
            [
                bool(o.item.answers)
                and contains_answer(retriever.data.sentence_text(int(s)), o.item.answers)
                for s in chosen
            ]
        )
        reads.append(
            Read(
                reader.logits(o.query.text, texts),
                chosen_prior,
                right,
                bool(o.item.answers),
                chosen,
                retriever.data.sentences["doc"][chosen],
            )
        )
    return reads


def verdicts(reads: list[Read], blend: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(best blended score, answer right, answerable) per question."""
    best, right, answerable = [], [], []
    for r in reads:
        scores = reading.blend(r.logits, r.prior, blend)
        top = int(np.argmax(scores))
        best.append(float(scores[top]))
        right.append(bool(r.right[top]))
        answerable.append(r.answerable)
    return np.array(best), np.array(right), np.array(answerable)


def fit_platt(logit: np.ndarray, y: np.ndarray, steps: int = 5000) -> tuple[float, float]:
    """(scale, shift) so that sigmoid(scale * logit + shift) is the probability of `y`."""
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * logit + b)))
        a -= 0.05 * float(np.mean((p - y) * logit))
        b -= 0.05 * float(np.mean(p - y))
    return a, b


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 4000) -> tuple[np.ndarray, float]:
    """(weights, shift) so that sigmoid(x @ weights + shift) is the probability of `y`
    (Adam on standardised columns, unregularised)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    theta = np.zeros(x.shape[1] + 1)
    adam_m, adam_v = np.zeros_like(theta), np.zeros_like(theta)
    for step in range(1, steps + 1):
        p = 1 / (1 + np.exp(-(z @ theta[:-1] + theta[-1])))
        grad = np.append(z.T @ (p - y) / len(y), np.mean(p - y))
        adam_m = 0.9 * adam_m + 0.1 * grad
        adam_v = 0.999 * adam_v + 0.001 * grad**2
        theta -= 0.05 * (adam_m / (1 - 0.9**step)) / (np.sqrt(adam_v / (1 - 0.999**step)) + 1e-8)
    weights = theta[:-1] / std
    return weights, float(theta[-1] - mean @ weights)


def best_and_runner_up(
    reads: list[Read], blend: float, reader: Reader
) -> list[tuple[float, float | None]]:
    """Per question, the probabilities (by `reader`'s Platt scaling) of the best sentence and
    of its likeliest rival: what Reader.answer_confidence reads."""
    pairs = []
    for r in reads:
        p = reader.probabilities(reading.blend(r.logits, r.prior, blend))
        pairs.append((float(p.max()), reading.runner_up(p, r.sentences, r.documents)))
    return pairs


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels.sum()
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * (len(labels) - pos)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answerable", type=int, default=1500, help="fit questions")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--index-only", action="store_true", help="build the corpora and stop")
    parser.add_argument(
        "--keep-prior",
        action="store_true",
        help="calibrate for the shipped PRIOR_WEIGHTS and PRIOR_BLEND (the fitted ones are "
        "still printed)",
    )
    parser.add_argument(
        "--reader",
        type=Path,
        default=MODELS_DIR,
        help="the reader's directory; its reader.json receives the calibration",
    )
    parser.add_argument("--results", default="calibrate_reader", help="results file name")
    args = parser.parse_args()

    from bot.embedding import SentenceTransformerEmbedder
    from bot.engine import Newsbot
    from bot.indexing import build_index

    indexed, keep, absent_fit, absent_cal = split_articles()
    settings = squadlib.build_cached_index(
        "squad-train-calibration", lambda d: squadlib.write_corpus(indexed, d, keep)
    )
    embedder = SentenceTransformerEmbedder()
    seed_settings = load_settings(
        corpus_dir=REPO / "corpus", index_dir=squadlib.CACHE / "seed" / "index"
    )
    if not squadlib.index_usable(seed_settings):
        build_index(seed_settings, embedder=embedder)
    if args.index_only:
        return
    retriever = Newsbot(settings, embedder=embedder)._retriever
    reader = Reader.from_directory(args.reader)
    n = args.answerable
    fit_items = pick(
        items_for(indexed[:FIT_ARTICLES], keep, absent_fit),
        {"answerable": n, "near-topic": n // 3, "off-corpus": n // 3},
        SEED,
    )
    cal_items = pick(
        items_for(indexed[FIT_ARTICLES:], keep, absent_cal),
        {"answerable": 800, "near-topic": 300, "off-corpus": 300},
        SEED + 1,
    )
    print(f"fit: {len(fit_items)} questions, calibration: {len(cal_items)}", file=sys.stderr)
    fit_obs = observe(retriever, embedder, fit_items, args.candidates)
    cal_obs = observe(retriever, embedder, cal_items, args.candidates)
    seed_retriever = Newsbot(seed_settings, embedder=embedder)._retriever
    seed_items = [
        Item(q.question, list(q.answers), q.kind)
        for q in load_qa(REPO / "tests" / "data" / "seed_dev.jsonl")
    ]
    seed_obs = observe(seed_retriever, embedder, seed_items, args.candidates)

    weights = fit_listwise(fit_obs)
    print("prior (calibration articles, answerable): picks the answer first / in the shortlist")
    for name, w in (("current", prior.PRIOR_WEIGHTS), ("fitted", weights)):
        first, inside = shortlist_recall(cal_obs, w)
        print(f"  {name} weights: {first:.3f} / {inside:.3f}")

    used = prior.PRIOR_WEIGHTS if args.keep_prior else weights
    fit_reads = read(retriever, reader, fit_obs, used)
    cal_reads = read(retriever, reader, cal_obs, used)
    seed_reads = read(seed_retriever, reader, seed_obs, used)
    print("blend of reader and prior: answer sentence right on answerable (fit / calibration)")
    blends = {}
    for candidate in BLENDS:
        fit_right_b = verdicts(fit_reads, candidate)[1]
        cal_right_b = verdicts(cal_reads, candidate)[1]
        fit_answerable = np.array([r.answerable for r in fit_reads])
        cal_answerable = np.array([r.answerable for r in cal_reads])
        blends[candidate] = float(fit_right_b[fit_answerable].mean())
        print(
            f"  {candidate:.2f}: {blends[candidate]:.3f} / {cal_right_b[cal_answerable].mean():.3f}"
        )
    blend = max(blends, key=lambda b: (round(blends[b], 3), -b))  # chosen on fit articles
    if args.keep_prior:
        blend = reading.PRIOR_BLEND
    print(f"chosen blend: {blend:.2f}  (PRIOR_BLEND in bot/answering/reading.py)")
    fit_logit, fit_right, _ = verdicts(fit_reads, blend)
    scale, shift = fit_platt(fit_logit, fit_right.astype(float))
    cal_logit, cal_right, answerable_cal = verdicts(cal_reads, blend)
    _, seed_right, answerable_seed = verdicts(seed_reads, blend)
    # The fitted card's own Reader computes the probabilities and confidences it will ship.
    platt = Reader(replace(reader.card, scale=scale, shift=shift), args.reader)
    platt_cal = platt.probabilities(cal_logit)
    weights_c, shift_c = fit_logistic(
        np.array([confidence_features(*x) for x in best_and_runner_up(fit_reads, blend, platt)]),
        fit_right.astype(float),
    )
    calibrated = Reader(
        replace(
            platt.card,
            confidence_weight=float(weights_c[0]),
            lead_weight=float(weights_c[1]),
            confidence_shift=shift_c,
        ),
        args.reader,
    )

    def confidences(reads: list[Read]) -> np.ndarray:
        return np.array(
            [calibrated.answer_confidence(*x) for x in best_and_runner_up(reads, blend, platt)]
        )

    p_cal, p_seed = confidences(cal_reads), confidences(seed_reads)
    print(
        f"reader: answer sentence right on calibration answerable "
        f"{cal_right[answerable_cal].mean():.3f}, seed dev {seed_right[answerable_seed].mean():.3f}"
    )
    print(
        f"confidence AUC on calibration: right {auc(p_cal, cal_right):.3f}, "
        f"answerable {auc(p_cal, answerable_cal):.3f} (the sentence's probability alone: "
        f"right {auc(platt_cal, cal_right):.3f}, answerable {auc(platt_cal, answerable_cal):.3f})"
    )
    kinds_cal = np.array([o.item.kind for o in cal_obs])
    kinds_seed = np.array([o.item.kind for o in seed_obs])
    print("abstention curve: share abstained on (right answers: false abstentions)")
    columns = [
        "calibration answerable",
        "calibration right answers",
        "calibration near-topic",
        "calibration off-corpus",
        "seed dev answerable",
        "seed dev right answers",
        "seed dev near-topic",
        "seed dev off-topic",
    ]
    print("threshold  " + "  ".join(columns))
    best_threshold = float(THRESHOLDS[0])
    curve = []
    for threshold in THRESHOLDS:
        # A false abstention withholds an answer that would have been right.
        cal_far = float(np.mean(p_cal[cal_right] < threshold))
        seed_far = float(np.mean(p_seed[seed_right] < threshold))
        shares = [
            float(np.mean(p_cal[answerable_cal] < threshold)),
            cal_far,
            np.mean(p_cal[kinds_cal == "near-topic"] < threshold),
            np.mean(p_cal[kinds_cal == "off-corpus"] < threshold),
            float(np.mean(p_seed[answerable_seed] < threshold)),
            seed_far,
            np.mean(p_seed[kinds_seed == "near-topic"] < threshold),
            np.mean(p_seed[kinds_seed == "off-topic"] < threshold),
        ]
        print(f"  {threshold:.2f}    " + "   ".join(f"{v:8.3f}" for v in shares))
        curve.append([float(threshold), *(float(v) for v in shares)])
        if (
            cal_far <= MAX_FALSE_ABSTENTIONS["calibration"]
            and seed_far <= MAX_FALSE_ABSTENTIONS["seed dev"]
        ):
            best_threshold = float(threshold)
    print(f"chosen threshold: {best_threshold:.2f}  (min_confidence in bot/config.py)")
    print("PRIOR_WEIGHTS = np.array([" + ", ".join(f"{v:.4f}" for v in weights) + "])")
    print(f"PRIOR_BLEND = {blend}")

    card_path = args.reader / CARD_FILE
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["calibration"] = {
        "scale": round(scale, 4),
        "shift": round(shift, 4),
        "confidence": {
            "probability": round(float(weights_c[0]), 4),
            "lead": round(float(weights_c[1]), 4),
            "shift": round(shift_c, 4),
        },
        "threshold": best_threshold,
        "fitted_on": "scripts/calibrate_reader.py: SQuAD v1.1 train articles unseen in training",
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the calibration into {card_path}", file=sys.stderr)
    benchlib.write_results(
        args.results,
        {
            "questions": {
                "fit": len(fit_items),
                "calibration": len(cal_items),
                "seed dev": len(seed_items),
            },
            "prior_first_and_in_shortlist_calibration": shortlist_recall(cal_obs, weights),
            "reader_right_calibration": float(cal_right[answerable_cal].mean()),
            "reader_right_seed_dev": float(seed_right[answerable_seed].mean()),
            "confidence_auc_calibration_right": auc(p_cal, cal_right),
            "confidence_auc_calibration_answerable": auc(p_cal, answerable_cal),
            "probability_alone_auc_calibration_right": auc(platt_cal, cal_right),
            "probability_alone_auc_calibration_answerable": auc(platt_cal, answerable_cal),
            "abstention_curve_columns": ["threshold", *columns],
            "abstention_curve": curve,
            "threshold": best_threshold,
            "prior_blend": {"chosen": blend, "fit_accuracy_by_blend": blends},
            "platt": {"scale": scale, "shift": shift},
            "confidence": {"weights": weights_c.tolist(), "shift": shift_c},
            "prior_weights": dict(zip(prior.PRIOR_FEATURES, weights.tolist(), strict=True)),
            "read_with": "the shipped PRIOR_WEIGHTS" if args.keep_prior else "the fitted weights",
        },
    )


if __name__ == "__main__":
    main()
