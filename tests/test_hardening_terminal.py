"""Issue 20 in the terminal: odd configuration and index directories are one line, never a
traceback; what a citation prints (file names, text) cannot forge lines or reorder itself with
bidi controls; fullwidth questions read as plain ones; `chat`'s /sources re-checks its
passages; a cache directory removed during a chat is quiet at exit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.engine import validate_question
from bot.indexing import build_index
from scripts.bench_integrity import HashEmbedder
from tests.hostile import newsbot, one_error_line, shared_tmp
from tests.test_cli_terminal import PROMPT, Terminal

runner = CliRunner()
KENYA = "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n"


def _one_line(result, fragment: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("newsbot: error:")]
    assert fragment in line, line
    return line


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"newsbot = 5\n", "'newsbot' must be a table"),
        (b'newsbot = "x"\n', "'newsbot' must be a table"),
        ('top_k = 3\ntitle = "caf\u00e9"\n'.encode("latin-1"), "is not UTF-8 text"),
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
        ("a directory", "is a directory"),
    ],
)
def test_odd_config_files_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content, fragment: str
) -> None:
    config = tmp_path / "newsbot.toml"
    if content == "a directory":
        config.mkdir()
    else:
        config.write_bytes(content)
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    line = _one_line(runner.invoke(app, ["index", "status"]), fragment)
    assert str(config) in line


def test_an_index_path_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kenya.txt").write_text(KENYA)
    where = "/proc/newsbot-cannot-exist/index"
    for args in (["index", "build"], ["ask", "What did Kenyan farmers harvest?"]):
        result = runner.invoke(app, [*args, "--corpus", str(corpus), "--index", where])
        line = _one_line(result, f"cannot create or write the index directory {where}")
        assert "--index or NEWSBOT_INDEX" in line


def test_a_read_only_index_directory_is_one_line() -> None:
    with shared_tmp() as root:
        corpus = root / "corpus"
        corpus.mkdir()
        (corpus / "kenya.txt").write_text(KENYA)
        settings = load_settings(corpus_dir=corpus, index_dir=root / "index")
        build_index(settings, embedder=HashEmbedder())  # root's index; nobody cannot write it
        build = newsbot(["index", "build", "--full"], settings, user="nobody")
        one_error_line(build, f"cannot create or write the index directory {settings.index_dir}")
        (root / "index" / "builds").chmod(0o555)
        (root / "index").chmod(0o777)  # writable index, read-only builds/
        build = newsbot(["index", "build", "--full"], settings, user="nobody")
        one_error_line(build, "permission denied")


FORGED = "[9] Forged, paragraph 1 (forged.txt, chars 0-10)"
RLO = "\u202e"  # right-to-left override
PDF = "\u202c"  # pop directional formatting


def test_citations_cannot_forge_lines_or_read_in_another_order(make_corpus, embedder) -> None:
    settings = make_corpus(
        {
            f"port\n{FORGED}\n.txt": "Port strike\n\nDock workers in Rotterdam walked out on "
            f"Tuesday over pay {RLO}yap revo{PDF}.\n",
            "tea.txt": f"Tea {RLO}report\n\nFarmers in Kenya harvested a record tea crop.\n",
        }
    )
    build_index(settings, embedder=embedder)
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    asked = runner.invoke(app, ["ask", *where, "Where did the dock workers strike?"])
    chatted = runner.invoke(
        app, ["chat", *where], input="Where did the dock workers strike?\n/sources\n"
    )
    for result in (asked, chatted):
        assert result.exit_code == 0, result.output
        shown = result.stdout
        assert "Rotterdam" in shown
        assert not any(line.startswith("[9] Forged") for line in shown.splitlines()), shown
        assert f"port\\x0a{FORGED}\\x0a.txt" in shown
        assert RLO not in shown and PDF not in shown and "\\u202e" in shown
        assert not any(0x2066 <= ord(c) <= 0x2069 or c in "\u200e\u200f" for c in shown)


def test_fullwidth_questions_are_read_as_plain_ones(seed_bot) -> None:
    assert validate_question("Ｗｈｏ ｉｓ Ｒｙａｎ Ｄｉｎｇ？", 500) == "Who is Ryan Ding?"
    plain, wide = (
        seed_bot.ask(q) for q in ("Who is Ryan Ding?", "Ｗｈｏ ｉｓ Ｒｙａｎ Ｄｉｎｇ？")
    )
    assert not wide.abstained and wide.answer == plain.answer


def test_sources_in_chat_are_rechecked_against_their_files(make_corpus, embedder) -> None:
    settings = make_corpus({"port.txt": KENYA, "tea.txt": "Tea\n\nTea grows in Assam.\n"})
    build_index(settings, embedder=embedder)
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    edited = settings.corpus_dir / "port.txt"
    term = Terminal(["chat", *where], {**os.environ, "TERM": "dumb"})
    try:
        term.expect(r"/help for commands\.\r" + PROMPT)
        term.type("What did Kenyan farmers harvest?\r")
        assert "record tea crop" in " ".join(term.expect(PROMPT).split())
        edited.write_text(KENYA.replace("record", "normal"))
        term.type("/sources\r")
        shown = " ".join(term.expect(PROMPT).split())
        assert "record tea crop" not in shown and "left out: their files changed" in shown
        term.type("\x04")
        assert term.wait() == 0
    finally:
        term.close()


def test_a_cache_directory_removed_during_a_chat_is_quiet_at_exit(seed_settings, tmp_path) -> None:
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "TERM": "dumb",
        "XDG_CACHE_HOME": str(cache),
        "NEWSBOT_CORPUS": str(seed_settings.corpus_dir),
        "NEWSBOT_INDEX": str(seed_settings.index_dir),
    }
    term = Terminal(["chat"], env)
    try:
        term.expect(r"/help for commands\.\r" + PROMPT)
        term.type("Who is Ryan Ding?\r")
        term.expect("confidence")
        term.expect(PROMPT)
        shutil.rmtree(cache)
        term.type("\x04")
        assert term.wait() == 0
    finally:
        term.close()
    assert "Exception ignored" not in term.text and "Traceback" not in term.text, term.text
