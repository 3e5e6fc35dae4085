"""Measuring answer quality: a QA file run through the real answering path, and its metrics.

A QA file is JSON Lines, one question per line::

    {"question": "Who is Ryan Ding?", "answers": ["president of Huawei's carrier business group"]}
    {"question": "Who founded Huawei?", "answerable": false, "kind": "near-topic"}

`answers` lists acceptable answer strings (any one, found inside a passage or the answer
sentence, counts); `"answerable": false` marks a question the corpus cannot answer; `kind`
is an optional label the report breaks figures down by.
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import NewsbotError, QuestionError

if TYPE_CHECKING:
    from bot.answering import Answer

CITATIONS_EVALUATED = 10  # passages asked for, so that MRR@10 can be computed


class QAFileError(NewsbotError):
    """A QA file is missing or malformed."""


@dataclass(frozen=True)
class QAItem:
    """One question of a QA file; `answers` is empty for an unanswerable question."""

    question: str
    answers: tuple[str, ...]
    kind: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class ItemResult:
    """What happened to one question."""

    item: QAItem
    answer: str | None
    abstained: bool
    confidence: float
    passage_rank: int | None  # 1-based rank of the first passage containing an answer
    seconds: float

    @property
    def correct(self) -> bool:
        """An answerable question whose (non-abstained) answer sentence contains an answer."""
        return (
            self.item.answerable
            and self.answer is not None
            and contains_answer(self.answer, self.item.answers)
        )


@dataclass
class Report:
    """The metrics of `newsbot eval`. Rates are None when there is nothing to count."""

    questions: int
    answerable: int
    unanswerable: int
    passage_recall_at_1: float | None
    passage_recall_at_5: float | None
    mrr_at_10: float | None
    sentence_accuracy: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    false_abstentions: int
    false_abstention_rate: float | None
    latency_p50_ms: float
    latency_p95_ms: float
    # kind -> {"questions", "answerable", "correct", "abstained"}
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form used for answer matching."""
    return " ".join(text.casefold().split()).replace("’", "'")


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any acceptable answer string occurs in `text`."""
    haystack = normalise(text)
    return any(normalise(answer) in haystack for answer in answers)


def load_qa(path: Path, max_question_chars: int = Settings.max_question_chars) -> list[QAItem]:
    """Read a QA file (a UTF-8 byte order mark is allowed); `QAFileError` naming the line of
    the first malformed entry, or of the first question `newsbot ask` would refuse."""
    from bot.engine import validate_question  # not at the top: it pulls in the whole engine

    items = []
    for number, line in enumerate(_read_lines(path), start=1):
        if line.strip():
            where = f"{path}:{number}"
            item = _parse(line, where)
            try:
                validate_question(item.question, max_question_chars)
            except QuestionError as problem:
                raise QAFileError(f"{where}: {problem}") from None
            items.append(item)
    if not items:
        raise QAFileError(f"QA file {path} has no questions")
    return items


def _read_lines(path: Path) -> list[str]:
    """The lines of a regular UTF-8 file, split at "\n" only (a JSON string may hold U+2028)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the read forever
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise QAFileError(f"cannot read QA file {path}: {kind}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise QAFileError(f"QA file not found: {path}") from None
    except OSError as exc:
        reason = (exc.strerror or "unreadable").lower()
        raise QAFileError(f"cannot read QA file {path}: {reason}") from None
    try:
        return data.decode("utf-8-sig").split("\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise QAFileError(f"{path}:{line}: not valid UTF-8 text") from None


def _parse(line: str, where: str) -> QAItem:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QAFileError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(entry, dict):
        raise QAFileError(f"{where}: expected a JSON object")
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QAFileError(f'{where}: "question" must be a non-empty string')
    kind = entry.get("kind", "")
    if not isinstance(kind, str):
        raise QAFileError(f'{where}: "kind" must be a string')
    answerable = entry.get("answerable", True)
    if not isinstance(answerable, bool):
        raise QAFileError(f'{where}: "answerable" must be true or false')
    answers = entry.get("answers")
    if not answerable:
        if answers is not None:
            raise QAFileError(f'{where}: give "answers" or "answerable": false, not both')
        return QAItem(question, (), kind or "unanswerable")
    if (
        not isinstance(answers, list)
        or not answers
        or not all(isinstance(a, str) and a.strip() for a in answers)
    ):
        raise QAFileError(
            f'{where}: give "answers" (a non-empty list of strings) or "answerable": false'
        )
    return QAItem(question, tuple(answers), kind)


def judge(item: QAItem, answer: Answer, seconds: float) -> ItemResult:
    """Score one answer against its QA item."""
    rank = None
    if item.answerable:
        for citation in answer.citations:
            if contains_answer(citation.text, item.answers):
                rank = citation.rank
                break
    return ItemResult(item, answer.answer, answer.abstained, answer.confidence, rank, seconds)


def run(items: list[QAItem], ask: Callable[[str], Answer]) -> list[ItemResult]:
    """Ask every question (timing each, after one untimed warm-up) and judge the answers."""
    if items:
        ask(items[0].question)  # loads the query encoder: not part of any question's latency
    results = []
    for item in items:
        started = time.perf_counter()
        answer = ask(item.question)
        results.append(judge(item, answer, time.perf_counter() - started))
    return results


def report(results: list[ItemResult]) -> Report:
    """The metrics over judged results."""
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    abstained = [r for r in results if r.abstained]
    ranks = [r.passage_rank for r in answerable]
    false_abstentions = sum(r.abstained for r in answerable)
    latencies = sorted(r.seconds * 1000 for r in results)
    by_kind: dict[str, dict[str, int]] = {}
    for r in results:
        counts = by_kind.setdefault(
            r.item.kind or "answerable",
            {"questions": 0, "answerable": 0, "correct": 0, "abstained": 0},
        )
        counts["questions"] += 1
        counts["answerable"] += r.item.answerable
        counts["correct"] += r.correct
        counts["abstained"] += r.abstained
    return Report(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        passage_recall_at_1=_rate(sum(k == 1 for k in ranks), len(ranks)),
        passage_recall_at_5=_rate(sum(k is not None and k <= 5 for k in ranks), len(ranks)),
        mrr_at_10=_rate(sum(1 / k for k in ranks if k is not None and k <= 10), len(ranks)),
        sentence_accuracy=_rate(sum(r.correct for r in answerable), len(answerable)),
        abstention_precision=_rate(sum(not r.item.answerable for r in abstained), len(abstained)),
        abstention_recall=_rate(sum(r.abstained for r in unanswerable), len(unanswerable)),
        false_abstentions=false_abstentions,
        false_abstention_rate=_rate(false_abstentions, len(answerable)),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        by_kind=by_kind,
    )


def _rate(count: float, total: int) -> float | None:
    return count / total if total else None


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def format_report(report: Report, retriever: str) -> str:
    """The metrics as an aligned plain-text table, then the breakdown by kind."""

    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"questions              {report.questions} ({report.answerable} answerable, "
        f"{report.unanswerable} unanswerable), retriever {retriever}",
        f"passage R@1            {show(report.passage_recall_at_1)}",
        f"passage R@5            {show(report.passage_recall_at_5)}",
        f"passage MRR@10         {show(report.mrr_at_10)}",
        f"answer sentence right  {show(report.sentence_accuracy)}",
        f"abstention precision   {show(report.abstention_precision)}",
        f"abstention recall      {show(report.abstention_recall)}",
        f"false abstentions      {report.false_abstentions} "
        f"({show(report.false_abstention_rate)} of answerable)",
        f"latency p50 / p95      {report.latency_p50_ms:.1f} / {report.latency_p95_ms:.1f} ms",
        "",
        f"{'kind':<16} {'questions':>9} {'right':>6} {'abstained':>9}",
    ]
    for kind, counts in report.by_kind.items():
        right = str(counts["correct"]) if counts["answerable"] else "-"
        lines.append(f"{kind:<16} {counts['questions']:>9} {right:>6} {counts['abstained']:>9}")
    return "\n".join(lines)
