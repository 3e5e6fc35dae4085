"""Commands load only what they need: no torch or sentence-transformers on the query path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Runs the CLI in a fresh interpreter, then reports which heavy packages ended up imported.
RUNNER = """
import json, sys
from bot.cli import app
sys.argv = ["newsbot", *sys.argv[1:]]
try:
    app()
    code = 0
except SystemExit as done:
    code = done.code or 0
heavy = ("torch", "sentence_transformers", "transformers", "onnxruntime", "faiss", "bm25s")
print("IMPORTED " + json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""
MODEL_CODE = {"torch", "sentence_transformers", "transformers"}


def run_cli(args: list[str], settings, stdin: str = "") -> tuple[str, set[str]]:
    env = {
        **os.environ,
        "NEWSBOT_INDEX": str(settings.index_dir),
        "NEWSBOT_CORPUS": str(settings.corpus_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = [line for line in done.stderr.splitlines() if line.startswith("IMPORTED ")]
    assert len(report) == 1, done.stderr
    assert "warning" not in done.stderr, done.stderr  # no fallback: the ONNX encoder served
    return done.stdout, set(json.loads(report[0].removeprefix("IMPORTED ")))


@pytest.mark.parametrize("args", [["--help"], ["index", "status"]])
def test_help_and_status_import_no_model_or_index_code(args, seed_settings) -> None:
    output, imported = run_cli(args, seed_settings)
    assert output
    assert imported == set(), imported


def test_ask_answers_without_torch(seed_settings, seed_bot) -> None:
    question = "Who is Ryan Ding?"
    output, imported = run_cli(["ask", "--json", question], seed_settings)
    assert json.loads(output)["answer"] == seed_bot.ask(question).answer
    assert not imported & MODEL_CODE, imported
    assert "onnxruntime" in imported


def test_batch_and_chat_answer_without_torch(seed_settings, seed_bot) -> None:
    questions = ["Who is Ryan Ding?", "How much does Huawei plan to invest?"]
    output, imported = run_cli(["ask", "--json", "-"], seed_settings, "\n".join(questions))
    answers = [json.loads(line)["answer"] for line in output.splitlines()]
    assert answers == [seed_bot.ask(q).answer for q in questions]
    assert not imported & MODEL_CODE, imported

    output, imported = run_cli(["chat"], seed_settings, questions[0] + "\n/quit\n")
    assert seed_bot.ask(questions[0]).answer in output
    assert not imported & MODEL_CODE, imported
