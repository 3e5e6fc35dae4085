"""Conversations measured on tests/data/dialogues.jsonl: follow-ups and topic switches.

    .venv/bin/python scripts/bench_dialogue.py [--split dev|test|all] [--repeats 3]

Each dialogue is run three ways over the index of its corpus (the bundled article, or the
crowded corpus of tests/data/crowded/corpus), built in a temporary directory:

- in conversation: every turn through `Newsbot.ask_in`, in order, as `newsbot chat` asks them;
- alone: every turn's typed question through `Newsbot.ask`, as if it were the first;
- written out: every turn's fully written-out standalone question through `Newsbot.ask`.

A turn is right when the answer (not an abstention) contains one of its answer strings. Reported
by kind: follow-ups (pronoun, ellipsis, "and X?") right in conversation against alone and written
out; of the pronoun follow-ups looked up with a name put in ("he" as "Ryan Ding"), how many put
in only names that the written-out question has ("names put in right"); topic switches right in conversation against alone, and how many got the very same answer.
Latency: each follow-up asked in its conversation against its written-out question asked alone,
interleaved, `--repeats` times each (median per question), p50 over the follow-ups.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import median, percentile, print_table, write_results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config import load_settings  # noqa: E402
from bot.conversation import Conversation, names_in  # noqa: E402
from bot.engine import Newsbot  # noqa: E402
from bot.errors import QuestionError  # noqa: E402
from bot.evaluation import contains_answer  # noqa: E402
from bot.indexing import build_index  # noqa: E402

DIALOGUES = REPO / "tests" / "data" / "dialogues.jsonl"
CORPORA = {"seed": REPO / "corpus", "crowded": REPO / "tests" / "data" / "crowded" / "corpus"}
FOLLOW_UPS = ("pronoun", "ellipsis", "and-x")
TARGET_SHARE = 0.85  # follow-ups right in conversation, as a share of written out
TARGET_LATENCY = 0.20  # at most this much slower than a standalone question


@dataclass
class TurnResult:
    dialogue: str
    split: str
    corpus: str
    kind: str
    typed: str
    looked_up: str
    standalone: str
    in_conversation: bool
    alone: bool
    written_out: bool
    same_as_alone: bool
    seconds: dict[str, float] = field(default_factory=dict)


def right(bot: Newsbot, ask: Any, answers: list[str]) -> tuple[bool, Any]:
    """Whether `ask()` answers with one of `answers` (a refused question is wrong)."""
    try:
        answer = ask()
    except QuestionError:
        return False, None
    ok = not answer.abstained and answer.answer is not None
    return ok and contains_answer(answer.answer, answers), answer


def run_dialogue(bot: Newsbot, dialogue: dict, repeats: int) -> list[TurnResult]:
    conversation = Conversation()
    results = []
    for turn in dialogue["turns"]:
        before = conversation.last
        answers = turn["answers"]
        in_conversation, given = right(
            bot, lambda t=turn: bot.ask_in(conversation, t["typed"]), answers
        )
        if given is None:  # refused: the conversation goes on from where it was
            conversation.last = before
        alone, alone_answer = right(bot, lambda t=turn: bot.ask(t["typed"]), answers)
        written_out, _ = right(bot, lambda t=turn: bot.ask(t["standalone"]), answers)
        same = (
            given is not None
            and alone_answer is not None
            and (given.answer, given.confidence, given.abstained)
            == (alone_answer.answer, alone_answer.confidence, alone_answer.abstained)
        )
        result = TurnResult(
            dialogue=dialogue["id"],
            split=dialogue["split"],
            corpus=dialogue["corpus"],
            kind=turn["kind"],
            typed=turn["typed"],
            looked_up=(given.looked_up or turn["typed"]) if given is not None else "",
            standalone=turn["standalone"],
            in_conversation=in_conversation,
            alone=alone,
            written_out=written_out,
            same_as_alone=same,
        )
        if turn["kind"] in FOLLOW_UPS and before is not None and given is not None:
            result.seconds = time_follow_up(bot, before, turn, repeats)
        results.append(result)
    return results


def time_follow_up(bot: Newsbot, before: Any, turn: dict, repeats: int) -> dict[str, float]:
    """Median seconds of the follow-up in its conversation and of its written-out question
    alone, interleaved."""
    follow_up: list[float] = []
    standalone: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        bot.ask_in(Conversation(before), turn["typed"])
        follow_up.append(time.perf_counter() - start)
        start = time.perf_counter()
        bot.ask(turn["standalone"])
        standalone.append(time.perf_counter() - start)
    return {"follow_up": median(follow_up), "standalone": median(standalone)}


def rate(hits: int, total: int) -> float:
    return hits / total if total else float("nan")


def names_put_right(result: TurnResult) -> bool | None:
    """Whether every name a pronoun follow-up was looked up with, and not typed, is in its
    written-out question ("he" as Ryan Ding where the gold says Ryan Ding); None when the
    lookup put in no name."""
    if result.kind != "pronoun":
        return None
    typed, written = result.typed.lower(), result.standalone.lower()
    added = [n.text.lower() for n in names_in(result.looked_up) if n.text.lower() not in typed]
    return all(name in written for name in added) if added else None


def summary(results: list[TurnResult]) -> dict[str, Any]:
    follow = [r for r in results if r.kind in FOLLOW_UPS]
    switches = [r for r in results if r.kind == "topic-switch"]
    firsts = [r for r in results if r.kind == "first"]
    timed = [r for r in follow if r.seconds]
    follow_up_p50 = percentile([r.seconds["follow_up"] for r in timed], 50)
    standalone_p50 = percentile([r.seconds["standalone"] for r in timed], 50)
    in_conversation = sum(r.in_conversation for r in follow)
    written_out = sum(r.written_out for r in follow)
    named = [verdict for r in follow if (verdict := names_put_right(r)) is not None]
    return {
        "pronoun_names_put_in": len(named),
        "pronoun_names_right": sum(named),
        "follow_ups": len(follow),
        "follow_ups_right_alone": sum(r.alone for r in follow),
        "follow_ups_right_in_conversation": in_conversation,
        "follow_ups_right_written_out": written_out,
        "share_of_written_out": rate(in_conversation, written_out),
        "by_kind": {
            kind: {
                "turns": len(of_kind := [r for r in follow if r.kind == kind]),
                "alone": sum(r.alone for r in of_kind),
                "in_conversation": sum(r.in_conversation for r in of_kind),
                "written_out": sum(r.written_out for r in of_kind),
            }
            for kind in FOLLOW_UPS
        },
        "topic_switches": len(switches),
        "topic_switches_right_alone": sum(r.alone for r in switches),
        "topic_switches_right_in_conversation": sum(r.in_conversation for r in switches),
        "topic_switches_same_answer_as_alone": sum(r.same_as_alone for r in switches),
        "first_turns": len(firsts),
        "first_turns_right": sum(r.in_conversation for r in firsts),
        "latency_follow_up_p50_ms": round(follow_up_p50 * 1000, 1),
        "latency_standalone_p50_ms": round(standalone_p50 * 1000, 1),
        "latency_extra": round(follow_up_p50 / standalone_p50 - 1, 3) if timed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dialogues = [json.loads(line) for line in DIALOGUES.read_text(encoding="utf-8").splitlines()]
    if args.split != "all":
        dialogues = [d for d in dialogues if d["split"] == args.split]
    results: list[TurnResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-dialogue-") as work:
        for corpus, directory in CORPORA.items():
            mine = [d for d in dialogues if d["corpus"] == corpus]
            if not mine:
                continue
            settings = load_settings(corpus_dir=directory, index_dir=Path(work) / corpus)
            build_index(settings)
            bot = Newsbot(settings)
            bot.ask("What is in the news?")  # load everything first
            for dialogue in mine:
                results.extend(run_dialogue(bot, dialogue, args.repeats))
    splits = sorted({r.split for r in results}) + (["all"] if args.split == "all" else [])
    report = {
        split: summary([r for r in results if split == "all" or r.split == split])
        for split in splits
    }
    rows = []
    for split, figures in report.items():
        follow = figures["follow_ups"]
        rows.append(
            [
                split,
                f"{figures['follow_ups_right_alone']}/{follow}",
                f"{figures['follow_ups_right_in_conversation']}/{follow}",
                f"{figures['follow_ups_right_written_out']}/{follow}",
                f"{figures['share_of_written_out']:.2f} (>= {TARGET_SHARE})",
                f"{figures['pronoun_names_right']}/{figures['pronoun_names_put_in']}",
                f"{figures['topic_switches_right_alone']}/{figures['topic_switches']}",
                f"{figures['topic_switches_right_in_conversation']}/{figures['topic_switches']}"
                f" ({figures['topic_switches_same_answer_as_alone']} same)",
                f"{figures['latency_follow_up_p50_ms']} vs {figures['latency_standalone_p50_ms']}"
                f" ({figures['latency_extra']:+.0%}, <= +{TARGET_LATENCY:.0%})",
            ]
        )
    print_table(
        [
            "split",
            "follow-ups alone",
            "in conversation",
            "written out",
            "conv./written",
            "names put in right",
            "switches alone",
            "switches in conv.",
            "p50 ms follow-up vs standalone",
        ],
        rows,
    )
    misses = [
        r for r in results if r.kind in FOLLOW_UPS and r.written_out and not r.in_conversation
    ]
    for miss in misses:
        print(f"missed ({miss.split}, {miss.kind}): {miss.typed!r} -> {miss.looked_up!r}")
    name = "bench_dialogue" if args.split == "all" else f"bench_dialogue_{args.split}"
    path = write_results(
        name,
        {
            "dialogues": len(dialogues),
            "report": report,
            "turns": [r.__dict__ for r in results],
        },
    )
    print(f"results: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
