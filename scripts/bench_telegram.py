"""The Telegram bot under load: 50 chats asking 200 questions at once, through the fake Bot API.

    .venv/bin/python scripts/bench_telegram.py [--chats 50] [--per-chat 4]

Each chat asks its questions at the same instant (all updates are queued before the bot's
first poll). Measured per question: the time from its update being queued to the bot's last
reply message for it reaching the server. Checked: every question is answered exactly once,
with exactly the reply the engine gives on its own, in the order asked within each chat.

Compared in the same run:
- the engine alone, one question after another (`Newsbot.ask` + rendering): the baseline;
- the bot with Telegram's flood limits (AIORateLimiter, 30 messages/s): what users get;
- the bot without a flood limiter: what the bot itself sustains.

The fake server runs in the same process and event loop as the bot, so its work is counted
against the bot. The corpus is corpus/, indexed once into scripts/.cache/telegram-index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib

from bot.config import load_settings
from bot.engine import Newsbot
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.format import render_answer
from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "424242:bench-token"
QUESTION_FILES = ["seed_gold.jsonl", "seed_dev.jsonl", "eval_fixture.jsonl"]
CACHE = ROOT / "scripts" / ".cache" / "telegram-index"


def load_questions() -> list[str]:
    """The project's question sets about the bundled article (on- and off-topic)."""
    questions: list[str] = []
    for name in QUESTION_FILES:
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                question = json.loads(line)["question"]
                if question not in questions:
                    questions.append(question)
    return questions


def open_newsbot() -> Newsbot:
    """The bundled corpus, indexed once into the benchmark's cache."""
    settings = load_settings(corpus_dir=ROOT / "corpus", index_dir=CACHE)
    try:
        newsbot = Newsbot.open(settings, build_if_missing=True)
        if newsbot.changed_files():
            raise RuntimeError("stale")
    except Exception:  # stale or unusable: start over
        shutil.rmtree(CACHE, ignore_errors=True)
        newsbot = Newsbot.open(settings, build_if_missing=True)
    newsbot.embedder  # noqa: B018 -- load the model before timing anything
    return newsbot


def engine_alone(newsbot: Newsbot, plan: dict[int, list[str]]) -> dict[str, Any]:
    """Baseline: every question asked and rendered in turn, no Telegram."""
    latencies = []
    start = time.perf_counter()
    for questions in plan.values():
        for question in questions:
            began = time.perf_counter()
            render_answer(newsbot.ask(question))
            latencies.append(time.perf_counter() - began)
    seconds = time.perf_counter() - start
    return summary("engine alone, sequential (baseline)", latencies, seconds, None)


async def through_the_bot(
    newsbot: Newsbot, plan: dict[int, list[str]], expected: dict[str, list[str]], flood_limits: bool
) -> dict[str, Any]:
    """All questions queued at once; the bot polls, answers and replies over HTTP."""
    settings = newsbot.settings.replace(user_questions_per_minute=0)
    async with FakeBotApi(TOKEN) as server:
        application = build_application(
            TOKEN, settings, newsbot=newsbot, base_url=server.base_url, flood_limits=flood_limits
        )
        async with application:
            await application.post_init(application)
            asked_at: dict[int, list[float]] = {}
            for chat_id, questions in plan.items():
                asked_at[chat_id] = []
                for question in questions:
                    server.message(chat_id, question)
                    asked_at[chat_id].append(time.monotonic())
            start = time.monotonic()
            await application.updater.start_polling(timeout=1, allowed_updates=ALLOWED_UPDATES)
            await application.start()
            total = sum(len(expected[q]) for questions in plan.values() for q in questions)
            await server.wait_for(lambda: len(server.calls_to("sendMessage")) >= total, 600)
            finished = time.monotonic()
            await asyncio.sleep(0.5)  # anything extra (a duplicate) would arrive now
            await application.updater.stop()
            await application.stop()
    latencies, in_order = [], True
    for chat_id, questions in plan.items():
        calls = server.calls_to("sendMessage", chat_id)
        wanted = [part for q in questions for part in expected[q]]
        in_order &= [c.params["text"] for c in calls] == wanted
        position = 0
        for question, queued in zip(questions, asked_at[chat_id], strict=True):
            position += len(expected[question])
            if position <= len(calls):
                latencies.append(calls[position - 1].at - queued)
    in_order &= len(server.calls_to("sendMessage")) == total and not server.unknown_methods
    name = "bot, Telegram flood limits (30 msg/s)" if flood_limits else "bot, no flood limiter"
    result = summary(name, latencies, finished - start, in_order)
    result["chat_actions"] = len(server.calls_to("sendChatAction"))
    return result


def summary(
    name: str, latencies: list[float], seconds: float, in_order: bool | None
) -> dict[str, Any]:
    return {
        "setup": name,
        "questions": len(latencies),
        "seconds": round(seconds, 3),
        "questions_per_second": round(len(latencies) / seconds, 2),
        "p50_seconds": round(benchlib.percentile(latencies, 50), 3),
        "p99_seconds": round(benchlib.percentile(latencies, 99), 3),
        "answered_once_in_order": in_order,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--per-chat", type=int, default=4)
    options = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    newsbot = open_newsbot()
    pool = load_questions()
    # Chat i asks per-chat consecutive questions of the pool: distinct within a chat.
    plan = {
        1000 + i: [pool[(i * options.per_chat + k) % len(pool)] for k in range(options.per_chat)]
        for i in range(options.chats)
    }
    expected = {q: render_answer(newsbot.ask(q)) for qs in plan.values() for q in qs}

    results = [engine_alone(newsbot, plan)]
    for flood_limits in (True, False):
        results.append(asyncio.run(through_the_bot(newsbot, plan, expected, flood_limits)))

    machine = benchlib.machine()
    print(
        f"{options.chats} chats x {options.per_chat} questions, {len(pool)} distinct questions; "
        f"{machine['cpu']}, {machine['cores']} cores, {machine['date']}"
    )
    benchlib.print_table(
        ["setup", "questions", "seconds", "questions/s", "p50 reply (s)", "p99 reply (s)", "ok"],
        [
            [
                r["setup"],
                r["questions"],
                r["seconds"],
                r["questions_per_second"],
                r["p50_seconds"],
                r["p99_seconds"],
                {None: "-", True: "yes", False: "NO"}[r["answered_once_in_order"]],
            ]
            for r in results
        ],
    )
    path = benchlib.write_results(
        "bench_telegram",
        {
            "chats": options.chats,
            "questions_per_chat": options.per_chat,
            "distinct_questions": len(pool),
            "notes": "p50/p99: from the update being queued to the last reply message for it "
            "(baseline: one ask + render). ok: every question answered exactly once, with the "
            "engine's own reply, in order within each chat.",
            "results": results,
        },
    )
    print(f"\nwrote {path.relative_to(ROOT)}")
    if not all(r["answered_once_in_order"] in (None, True) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
