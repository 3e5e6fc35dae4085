"""Milvus through a `milvus-lite server` on 127.0.0.1: shared by processes, built in shards,
robust to a killed build and to the server going away."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine import Newsbot
from bot.errors import IndexMissingError
from bot.stores import build_index, publish_index
from bot.stores.milvus.build import serving_build
from bot.stores.milvus.client import StoreUnavailableError, what_else_answers
from bot.stores.milvus.lite import free_port

NEWSBOT = str(Path(sys.executable).parent / "newsbot")
REPO = Path(__file__).resolve().parent.parent.parent
ARTICLES = {
    "robots.txt": "Warehouse robots\n\nThe new warehouse robots lift heavy boxes all day. "
    "Engineers at Acme tested how the robots cope with boxes over the design limit.\n",
    "bread.txt": "Sourdough\n\nSourdough bread needs a starter made of flour and water. "
    "The dough rises slowly overnight in a cool kitchen.\n",
    "rail.txt": "Rail strike\n\nTrain drivers walked out on Monday over pay. "
    "The union said the strike would last three days.\n",
}


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSBOT_CORPUS": str(settings.corpus_dir),
        "NEWSBOT_INDEX": str(settings.index_dir),
        "NEWSBOT_STORE": "milvus",
        "NEWSBOT_MILVUS_URI": settings.milvus_uri,
        "NEWSBOT_MILVUS_COLLECTION": settings.milvus_collection,
        "HF_HUB_OFFLINE": "1",
    }


def test_two_processes_answer_at_once_from_one_server(server_seed_settings) -> None:
    env = _env(server_seed_settings)
    command = [NEWSBOT, "ask", "--json", "Who is Ryan Ding?"]
    asking = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in asking:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        answer = json.loads(out)
        assert "Ryan Ding, president of Huawei" in answer["answer"]


def test_shards_built_by_two_workers_then_published_answer(lite_server, tmp_path, embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = load_settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        store="milvus",
        milvus_uri=lite_server.uri,
        milvus_collection="sharded",
    )
    env = _env(settings)
    workers = [
        subprocess.Popen(
            [NEWSBOT, "index", "build", "--shard", f"{i}/2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    embedded = 0
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        embedded += int(out.split("embedded")[0].split(":")[-1].split()[0])
    assert embedded == 4  # every document once, split between the workers
    with pytest.raises(IndexMissingError):  # nothing serves before the final step
        serving_build(settings)
    counts = publish_index(settings)  # the final step, in this process (the same ONNX recipe)
    assert counts["documents"] == 4
    bot = Newsbot(settings, embedder=embedder)
    assert "needs a starter" in bot.ask("What does sourdough bread need?").answer
    # Incremental by document hash: only the edited document is embedded again.
    (corpus / "bread.txt").write_text(
        "Sourdough\n\nSourdough bread needs a starter and a hot oven.\n", encoding="utf-8"
    )
    (corpus / "rail.txt").unlink()
    report = build_index(settings)  # the workers' ONNX encoder, so the recipe is the same
    assert (report.embedded_documents, report.reused_documents, report.removed_documents) == (
        1,
        2,
        1,
    )
    assert "hot oven" in bot.ask("What does sourdough bread need?").answer  # picked up live
    assert bot.ask("How long will the rail strike last?").abstained


def test_a_killed_build_leaves_the_alias_serving_and_the_next_build_finishes(
    server_seed_settings, embedder
) -> None:
    settings = server_seed_settings
    bot = Newsbot(settings, embedder=embedder)
    serving = serving_build(settings)
    corpus = settings.corpus_dir
    for number in range(30):  # enough passages that the build is still embedding when killed
        (corpus / f"extra-{number:02d}.txt").write_text(
            f"Extra {number}\n\n"
            + " ".join(f"Sentence {i} of extra {number} is here." for i in range(40)),
            encoding="utf-8",
        )
    try:
        build = subprocess.Popen(
            [NEWSBOT, "index", "build"],
            env=_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for line in build.stderr:  # the progress lines: kill it while it embeds
            if "embedding" in line or "splitting" in line:
                break
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=60)
        assert serving_build(settings) == serving
        assert "Ryan Ding, president of Huawei" in bot.ask("Who is Ryan Ding?").answer
    finally:
        for number in range(30):
            (corpus / f"extra-{number:02d}.txt").unlink()
    # The corpus is back as it was: nothing to build, the same build serves.
    report = build_index(settings, embedder=embedder)
    assert serving_build(settings) == serving and report.embedded_documents == 0


def test_the_server_stopped_mid_session_is_a_clear_error_then_answers_resume(
    lite_server, server_seed_settings, embedder
) -> None:
    bot = Newsbot(server_seed_settings, embedder=embedder)
    assert not bot.ask("Who is Ryan Ding?").abstained
    lite_server.stop()
    try:
        with pytest.raises(StoreUnavailableError) as stopped:
            bot.ask("Who is Ryan Ding?")
        assert str(stopped.value).startswith(f"cannot reach Milvus at {lite_server.uri}")
        assert "\n" not in str(stopped.value)
    finally:
        lite_server.start()  # same port, same data: the bot object is not restarted
    # The restarted server has released its collections, the terms' too (spelling looks
    # terms up before the search does).
    assert "Australia" in bot.ask("Which countries banned Huawei?").answer
    assert "Ryan Ding, president of Huawei" in bot.ask("Who is Ryan Ding?").answer


def test_an_unreachable_server_is_one_line_and_a_non_zero_exit(seed_settings) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    env = {**_env(seed_settings), "NEWSBOT_MILVUS_URI": uri}
    for command in (["ask", "Who is Ryan Ding?"], ["index", "status"]):
        done = subprocess.run([NEWSBOT, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 1, command
        assert done.stderr.splitlines()[-1] == (
            f"newsbot: error: cannot reach Milvus at {uri} (is the server running? "
            "setting milvus_uri, env NEWSBOT_MILVUS_URI)"
        ), command
        assert "Traceback" not in done.stderr


def test_a_milvus_server_is_never_taken_for_something_else(lite_server) -> None:
    assert what_else_answers(lite_server.uri) == ""


def test_a_missing_collection_is_one_line_and_a_non_zero_exit(server_seed_settings) -> None:
    env = {**_env(server_seed_settings), "NEWSBOT_MILVUS_COLLECTION": "nothing_here"}
    done = subprocess.run(
        [NEWSBOT, "ask", "Who is Ryan Ding?"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "newsbot: error: no newsbot index 'nothing_here' in Milvus at "
        f"{server_seed_settings.milvus_uri}; run `newsbot index build`"
    )
