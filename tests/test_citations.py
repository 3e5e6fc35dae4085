"""Citations are checked against the passage the index recorded, reading the file anew each time
(issue 20): a same-size edit with its time restored is caught, and a FIFO at a cited path is
never opened for reading, so it cannot hang an answer."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from bot.citations import read_regular_file
from bot.config import load_settings
from bot.engine import Newsbot
from bot.indexing import build_index
from scripts.bench_integrity import HashEmbedder

QUESTION = "Where did the dock workers strike?"
PORT = (
    "Port strike\n\nDock workers in Rotterdam walked out on Tuesday over pay. "
    "The union said the strike would last three days.\n\n"
    "Shipping firms diverted twelve vessels to Antwerp.\n"
)


@pytest.fixture
def bot(tmp_path: Path) -> Newsbot:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.txt").write_text(PORT, encoding="utf-8")
    (corpus / "tea.txt").write_text("Tea\n\nFarmers in Kenya grew tea.\n", encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=HashEmbedder())
    return Newsbot(settings, embedder=HashEmbedder())


def _cited_port(bot: Newsbot) -> Path:
    answer = bot.ask(QUESTION)
    [cited] = [c for c in answer.citations if "Rotterdam" in c.text]
    return Path(cited.path)


def test_a_same_size_edit_with_the_time_restored_is_not_cited(bot: Newsbot) -> None:
    path = _cited_port(bot)  # read once, as a running chat or bot does
    before = path.stat()
    path.write_text(PORT.replace("Rotterdam", "Amsterdam"), encoding="utf-8")  # cp -p, touch -r
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    answer = bot.ask(QUESTION)
    assert all("Rotterdam" not in c.text for c in answer.citations)
    assert answer.answer is None or "Rotterdam" not in answer.answer


def test_a_fifo_at_a_cited_path_is_never_opened(bot: Newsbot) -> None:
    path = _cited_port(bot)
    path.unlink()
    os.mkfifo(path)
    answers = []
    asking = threading.Thread(target=lambda: answers.append(bot.ask(QUESTION)), daemon=True)
    asking.start()
    asking.join(timeout=120)  # a bound for a broken build, not a timing assumption
    assert not asking.is_alive(), "a FIFO at a cited path hung the answer"
    assert all(c.path != str(path) for c in answers[0].citations)
    assert read_regular_file(str(path)) is None
    assert read_regular_file("/dev/zero") is None
