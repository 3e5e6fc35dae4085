"""Chats as users have them: overviews, "tell me more", follow-ups, over the crowded corpus.

    .venv/bin/python scripts/bench_chat.py

tests/data/dialogues_users.jsonl holds 12 dialogues (59 turns) written by a helper session
that saw only the articles and what a right reply is, never the code: each turn is what the
user typed and phrases of a right reply ([] when the corpus cannot answer it). Each dialogue is
asked as one conversation (`Newsbot.ask_in`), and, as the baseline in the same run, each turn
alone (`Newsbot.ask`, no conversation). Turns are grouped by what they ask: an overview
(bot/answering/overview.py), "tell me more" (bot/answering/more.py), or anything else.
A turn is right when an answer holds a gold phrase, or when an unanswerable one is withheld.
tests/data/dialogues_fresh.jsonl (14 dialogues, 77 turns) is held out: written blind by a helper
that read only the articles of tests/data/fresh/corpus, on stories no conversation rule was
tuned on; ask it with `--dialogues tests/data/dialogues_fresh.jsonl --corpus fresh`.
Writes scripts/results/bench_chat.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import benchlib
from bench_crowded import settings_for

from bot import evaluation
from bot.answering import Answer
from bot.answering.more import asks_for_more
from bot.answering.overview import asked_overview
from bot.conversation import Conversation
from bot.engine import Newsbot
from bot.errors import QuestionError

DIALOGUES = Path(__file__).resolve().parent.parent / "tests" / "data" / "dialogues_users.jsonl"


def kind_of(typed: str) -> str:
    if asks_for_more(typed):
        return "tell me more"
    return "overview" if asked_overview(typed) else "other"


def asked_of(ask: Callable[[str], Answer], typed: str) -> Answer:
    """The reply to `typed`; a question with nothing to look up ("why?" alone) is withheld."""
    try:
        return ask(typed)
    except QuestionError as problem:
        return Answer(typed, None, True, 0.0, [], abstain_reason=str(problem))


def right(answer: Answer, gold: list[str]) -> bool:
    if not gold:
        return answer.abstained
    return not answer.abstained and evaluation.contains_answer(answer.answer, gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES, help="a dialogues file")
    parser.add_argument(
        "--corpus", choices=("crowded", "fresh"), default="crowded", help="the corpus asked"
    )
    parser.add_argument("--name", default="bench_chat", help="results file name")
    args = parser.parse_args()
    bot = Newsbot(settings_for(args.corpus))
    lines = args.dialogues.read_text(encoding="utf-8").splitlines()
    dialogues = [json.loads(line) for line in lines]
    asked: Counter[str] = Counter()
    scores = {"in conversation": Counter(), "each turn alone": Counter()}
    missed = []
    started = time.perf_counter()
    for dialogue in dialogues:
        conversation = Conversation()
        for turn in dialogue["turns"]:
            kind = kind_of(turn["typed"])
            asked[kind] += 1
            chatted = asked_of(partial(bot.ask_in, conversation), turn["typed"])
            alone = asked_of(bot.ask, turn["typed"])
            scores["in conversation"][kind] += right(chatted, turn["answers"])
            scores["each turn alone"][kind] += right(alone, turn["answers"])
            if not right(chatted, turn["answers"]):
                missed.append(
                    {
                        "dialogue": dialogue["id"],
                        "typed": turn["typed"],
                        "looked_up": chatted.looked_up,
                        "answer": chatted.answer,
                    }
                )
    kinds = ["overview", "tell me more", "other"]
    rows = [
        [
            how,
            *(f"{score[k]}/{asked[k]}" for k in kinds),
            f"{sum(score.values())}/{sum(asked.values())}",
        ]
        for how, score in scores.items()
    ]
    benchlib.print_table(["asked", *kinds, "all turns"], rows)
    machine = benchlib.machine()
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['date']}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    results = {
        "machine": machine,
        "turns": dict(asked),
        "right": {how: dict(score) for how, score in scores.items()},
        "missed": missed,
    }
    print(f"wrote {benchlib.write_results(args.name, results)}")


if __name__ == "__main__":
    main()
