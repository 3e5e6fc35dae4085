"""One build of an index at a time: a build started while another runs waits for it (and says
so once), then indexes the corpus as it is by then, so an article reported as indexed is never
dropped by a slower build publishing what it read earlier. Readers never wait."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any

import pytest

from bot.cli import WAITING_LINE
from bot.config import Settings
from bot.engine import Newsbot
from bot.errors import IndexMissingError
from bot.indexing import build_index, index_status
from bot.indexing.lock import build_lock
from tests.hostile import SCRIPT

MINUTES = "Council minutes\n\nThe council of Harrowby discussed the harbour budget on Monday.\n"
BRIDGE_PAGE = (
    "<html><head><title>Bridge reopens</title></head><body><article><p>The Harrowby bridge "
    "over the river Tane reopened on Monday after two years of repairs, council leader Petra "
    "Quill said.</p><p>The repairs cost 12 million pounds.</p></article></body></html>"
)


class PausedBuild:
    """`build_index` in a thread that stops once it has read the corpus, until released: a
    slow build, deterministically."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        self.has_read = threading.Event()  # set once the corpus is read (or the build ended)
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(settings, options))
        self.thread.start()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if stage == "splitting":  # the first stage after reading
            self.has_read.set()
            self.release.wait()

    def _run(self, settings: Settings, options: dict[str, Any]) -> None:
        try:
            build_index(settings, progress=self._progress, **options)
        except BaseException as error:  # re-raised by finish()
            self.error = error
        finally:
            self.has_read.set()

    def finish(self) -> None:
        self.release.set()
        self.thread.join()
        if self.error is not None:
            raise self.error


def test_an_article_added_during_a_slower_build_stays_indexed(
    make_corpus, embedder, tmp_path
) -> None:
    settings = make_corpus({"minutes.txt": MINUTES})
    build_index(settings, embedder=embedder)
    page = tmp_path / "bridge.html"
    page.write_text(BRIDGE_PAGE, encoding="utf-8")

    slow = PausedBuild(settings, embedder=embedder, full=True)  # read the corpus without it
    slow.has_read.wait()
    adding = subprocess.Popen(
        [SCRIPT, "add", "--corpus", settings.corpus_dir, "--index", settings.index_dir, page],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    said = []
    for line in adding.stderr:  # until it says it waits (or ends, which it must not yet)
        said.append(line)
        if WAITING_LINE in line:
            break
    # Meanwhile questions are answered from the serving index, without waiting.
    reader = Newsbot(settings, embedder=embedder)
    assert "harbour budget" in reader.ask("What did the Harrowby council discuss?").answer
    slow.finish()  # publishes the corpus as it read it: without the bridge
    out, err = adding.communicate()
    said.append(err)

    assert adding.returncode == 0, "".join(said)
    assert out.startswith("added: "), out
    assert not index_status(settings).stale  # the add's build came last and holds both
    answer = Newsbot(settings, embedder=embedder).ask("How much did the bridge repairs cost?")
    assert "12 million pounds" in answer.answer
    assert sum(WAITING_LINE in line for line in "".join(said).splitlines()) == 1, said


def test_a_milvus_build_waits_for_the_same_lock_and_publishes_after_it(
    make_corpus, embedder, tmp_path
) -> None:
    from bot.stores import build_index as build_any_store
    from bot.stores.milvus.build import serving_build
    from bot.stores.milvus.client import forget

    settings = make_corpus({"minutes.txt": MINUTES}).replace(
        store="milvus", milvus_uri=str(tmp_path / "milvus.db")
    )
    stages: list[str] = []
    waiting = threading.Event()  # set when the build says it waits (or when it ended)
    failed: list[BaseException] = []

    def progress(stage: str, done: int, total: int) -> None:
        stages.append(stage)
        if stage == "waiting":
            waiting.set()

    def run() -> None:
        try:
            build_any_store(settings, embedder=embedder, progress=progress)
        except BaseException as error:
            failed.append(error)
        finally:
            waiting.set()

    builder = threading.Thread(target=run)
    try:
        with build_lock(settings.index_dir):  # another build holds the index
            builder.start()
            waiting.wait()
            assert stages == ["waiting"], (stages, failed)  # it read nothing meanwhile
            with pytest.raises(IndexMissingError):
                serving_build(settings)  # and published nothing
        builder.join()
        assert not failed, failed
        assert serving_build(settings)
        assert "reading" in stages
    finally:
        forget(settings)
