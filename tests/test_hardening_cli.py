"""Issue 20 in the terminal: odd configuration and index directories are one line, never a
traceback; what a citation prints (file names, text) cannot forge lines or reorder itself with
bidi controls; `chat`'s /sources re-checks its passages; a removed cache directory is quiet."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.indexing import build_index
from scripts.bench_integrity import HashEmbedder
from tests.hostile import newsbot, one_error_line, shared_tmp

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
