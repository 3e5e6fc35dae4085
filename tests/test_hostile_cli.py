"""Issue 10, terminal and corpus: hostile articles, unreadable files, undecodable questions and
settings out of range, through the installed `newsbot` as a user runs it."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.indexing import build_index, index_status
from tests.hostile import SCRIPT, newsbot, one_error_line, shared_tmp

runner = CliRunner()
CLEAR_SCREEN = "\x1b[2J"
SET_TITLE = "\x1b]0;pwned\x07"
CSI_C1 = "\x9b31m"
HOSTILE = (
    "---\ntitle: Bridge \x1b[2J news\n---\n"
    f"The mayor {CLEAR_SCREEN}opened{SET_TITLE} a new bridge {CSI_C1}on Monday in Springfield.\n\n"
    "The bridge cost four million dollars and took two years to build.\n"
)
BRIDGE = "Who opened a new bridge in Springfield?"


@pytest.fixture
def hostile(make_corpus, embedder):
    settings = make_corpus({"bridge.txt": HOSTILE})
    build_index(settings, embedder=embedder)
    return settings


def _raw_controls(text: str) -> list[str]:
    return [c for c in (CLEAR_SCREEN, SET_TITLE, "\x1b]", "\x07", "\x9b") if c in text]


def test_escape_sequences_in_articles_never_reach_a_piped_terminal(hostile) -> None:
    where = ["--corpus", str(hostile.corpus_dir), "--index", str(hostile.index_dir)]
    result = runner.invoke(app, ["ask", BRIDGE, *where])
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "opened\\x1b]0;pwned\\x07" in result.stdout  # shown, harmlessly
    chat = runner.invoke(app, ["chat", *where], input=f"{BRIDGE}\n/sources\n")
    assert chat.exit_code == 0
    assert "\x1b" not in chat.stdout and "\x9b" not in chat.stdout and "\\x1b[2J" in chat.stdout
    # JSON keeps the text exactly, escaped: C0 by json itself, C1 too.
    raw = runner.invoke(app, ["ask", "--json", BRIDGE, *where]).stdout
    assert "\x1b" not in raw and "\x9b" not in raw
    assert CLEAR_SCREEN in json.loads(raw)["citations"][0]["text"]


def test_escape_sequences_in_articles_never_reach_a_real_tty(hostile) -> None:
    primary, secondary = pty.openpty()
    env = {
        **os.environ,
        "NEWSBOT_CORPUS": str(hostile.corpus_dir),
        "NEWSBOT_INDEX": str(hostile.index_dir),
        "TERM": "xterm-256color",
    }
    process = subprocess.Popen([SCRIPT, "ask", BRIDGE], stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    text = shown.decode("utf-8", "replace")
    assert "Springfield" in text  # it answered, with its own styling
    assert _raw_controls(text) == [], text


def test_a_huge_sentence_is_cut_in_the_answer_and_kept_whole_in_json(make_corpus, embedder):
    # ~8,700 characters, no full stop (the splitter cuts sentences at 10,000 characters)
    words = " ".join(f"word{i}" for i in range(1_100))
    settings = make_corpus({"endless.txt": f"Endless\n\nThe lighthouse keeper said {words}\n"})
    build_index(settings, embedder=embedder)
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    question = "What did the lighthouse keeper say?"
    shown = runner.invoke(app, ["ask", "--retriever", "bm25", question, *where])
    assert shown.exit_code == 0, shown.stderr
    assert len(shown.stdout) < 5_000
    assert "…" in shown.stdout.splitlines()[0]
    full = json.loads(runner.invoke(app, ["ask", "--json", question, *where]).stdout)
    assert len(full["citations"][0]["text"]) > 8_000
    sources = runner.invoke(app, ["chat", *where], input=f"{question}\n/sources\n")
    assert "word1099" in sources.stdout  # /sources shows the passage in full


def test_empty_files_do_not_make_the_corpus_look_changed_forever(make_corpus, embedder) -> None:
    settings = make_corpus(
        {
            "news.txt": "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n",
            "empty.txt": "",
            "blank.md": "  \n\n\t\n",
            "front-only.md": "---\ntitle: Nothing yet\n---\n",
        }
    )
    report = build_index(settings, embedder=embedder)
    assert sum("is empty" in w for w in report.warnings) == 3  # reported once, at the build
    assert index_status(settings).changed_files == []
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    asked = runner.invoke(app, ["ask", "What did Kenyan farmers harvest?", *where])
    assert asked.exit_code == 0 and "changed" not in asked.stderr
    again = runner.invoke(app, ["index", "build", "--if-needed", *where])
    assert "up to date" in again.stdout
    (settings.corpus_dir / "empty.txt").write_text("Now it says something new.\n")
    assert index_status(settings).changed_files == ["empty.txt"]


def test_unreadable_files_give_one_line_and_never_stop_an_answer(embedder) -> None:
    with shared_tmp() as root:
        corpus = root / "corpus"
        corpus.mkdir()
        (corpus / "kenya.txt").write_text(
            "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n"
        )
        settings = load_settings(corpus_dir=corpus, index_dir=root / "index")
        build_index(settings, embedder=embedder)
        secret = corpus / "secret.txt"
        secret.write_text("Private notes.\n")
        secret.chmod(0o000)

        build = newsbot(["index", "build"], settings, user="nobody")
        one_error_line(build, "cannot read corpus file secret.txt: permission denied")

        asked = newsbot(["ask", "What did Kenyan farmers harvest?"], settings, user="nobody")
        err = asked.stderr.decode()
        assert asked.returncode == 0, err
        assert "record tea crop" in asked.stdout.decode()
        assert "Traceback" not in err and "secret.txt" in err  # named, once
        assert "cannot read 1 corpus file(s) (secret.txt: permission denied)" in err

        (corpus / "kenya.txt").chmod(0o000)  # the article that answers, now unreadable
        asked = newsbot(["ask", "What did Kenyan farmers harvest?"], settings, user="nobody")
        err, out = asked.stderr.decode(), asked.stdout.decode()
        assert "cannot read 2 corpus file(s) (kenya.txt: permission denied" in err, err
        assert "changed since" not in err + out, (err, out)
        assert out.startswith(
            "The corpus does not say (the article that held the answer cannot be read: "
            "kenya.txt, permission denied)"
        ), out
        (corpus / "kenya.txt").chmod(0o644)

        status = newsbot(["index", "status"], settings, user="nobody")
        assert status.returncode == 0, status.stderr.decode()
        assert "secret.txt" in status.stdout.decode()
        assert b"Traceback" not in status.stderr


def test_unreadable_directory_is_skipped_with_a_warning() -> None:
    with shared_tmp() as root:
        corpus = root / "corpus"
        (corpus / "private").mkdir(parents=True)
        (corpus / "kenya.txt").write_text(
            "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n"
        )
        (corpus / "private" / "inside.txt").write_text("Hidden.\n")
        (corpus / "private").chmod(0o000)
        from bot.indexing.corpus import load_corpus

        # As nobody, scanning only (no model needed): the directory is named, not silently lost.
        code = (
            "from pathlib import Path; from bot.indexing.corpus import load_corpus; "
            f"print('\\n'.join(load_corpus(Path({str(corpus)!r})).warnings))"
        )
        from tests.hostile import as_user

        result = subprocess.run(
            [*as_user("nobody"), str(SCRIPT.with_name("python")), "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": str(root)},
        )
        assert result.returncode == 0, result.stderr
        assert "skipped directory private: permission denied" in result.stdout
        assert load_corpus(corpus).documents  # root reads it all


def test_a_file_removed_while_reading_is_skipped_not_a_traceback(
    make_corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.indexing import corpus as corpus_module

    settings = make_corpus(
        {"a.txt": "Alpha\n\nThe alpha text.\n", "b.txt": "Beta\n\nThe beta text.\n"}
    )
    real_scan = corpus_module.scan_corpus

    def scan_then_delete(*args, **kwargs):
        scan = real_scan(*args, **kwargs)
        (settings.corpus_dir / "b.txt").unlink(missing_ok=True)  # gone after it was listed
        return scan

    monkeypatch.setattr(corpus_module, "scan_corpus", scan_then_delete)
    assert set(corpus_module.file_hashes(settings.corpus_dir)) == {"a.txt"}
    (settings.corpus_dir / "b.txt").write_text("Beta\n\nThe beta text.\n")
    loaded = corpus_module.load_corpus(settings.corpus_dir)
    assert [d.doc_id for d in loaded.documents] == ["a.txt"]
    assert any("b.txt" in w and "removed while reading" in w for w in loaded.warnings)


def test_invalid_utf8_questions_get_an_error_in_place_and_the_rest_is_answered(seed_settings):
    argv = newsbot(["ask", b"Who is \xffRyan Ding?"], seed_settings)
    one_error_line(argv, "not valid UTF-8")
    batch = newsbot(
        ["ask", "--json", "-"],
        seed_settings,
        input=b"Who is Ryan Ding?\nWho \xfe\xff is this?\nWho is New Zealand's prime minister?\n",
    )
    assert batch.returncode == 1
    assert b"Traceback" not in batch.stderr
    first, bad, third = (json.loads(line) for line in batch.stdout.decode().splitlines())
    assert "Ryan Ding" in first["answer"]
    assert "not valid UTF-8" in bad["error"] and "\ufffd" in bad["question"]
    assert "Ardern" in third["answer"]
    chat = newsbot(["chat"], seed_settings, input=b"Who \xff is this?\nWho is Ryan Ding?\n/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert b"not valid UTF-8" in chat.stderr and b"Ryan Ding, president" in chat.stdout


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        (
            {"NEWSBOT_MIN_CONFIDENCE": "nan"},
            [],
            "'min_confidence' must be a number between 0 and 1",
        ),
        ({"NEWSBOT_MIN_CONFIDENCE": "5"}, [], "'min_confidence' must be a number between 0 and 1"),
        ({"NEWSBOT_MIN_CONFIDENCE": "-0.1"}, [], "between 0 and 1"),
        ({"NEWSBOT_CANDIDATES": "0"}, [], "'candidates' must be between 1 and 1000"),
        ({"NEWSBOT_MAX_QUESTION_CHARS": "-3"}, [], "'max_question_chars' must be between"),
        ({"NEWSBOT_CHUNK_MAX_CHARS": "0"}, [], "'chunk_max_chars' must be between"),
        ({"NEWSBOT_FOLLOW_SYMLINKS": "perhaps"}, [], "'follow_symlinks' must be of type bool"),
        ({}, ["--top-k", "0"], "--top-k must be between 1 and 20, got 0"),
        ({}, ["--top-k", "21"], "--top-k must be between 1 and 20, got 21"),
    ],
)
def test_settings_out_of_range_are_one_line_errors(
    seed_settings, monkeypatch: pytest.MonkeyPatch, env: dict, args: list, fragment: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEWSBOT_CORPUS", str(seed_settings.corpus_dir))
    monkeypatch.setenv("NEWSBOT_INDEX", str(seed_settings.index_dir))
    result = runner.invoke(app, ["ask", *args, "Who is Ryan Ding?"])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("newsbot: error:") and fragment in line, line


def test_index_pointing_at_a_file_is_one_line(seed_settings, tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-directory"
    a_file.write_text("x")
    result = newsbot(["ask", "Who is Ryan Ding?"], seed_settings, env={})
    assert result.returncode == 0
    result = newsbot(
        ["ask", "Who is Ryan Ding?"],
        env={"NEWSBOT_CORPUS": str(seed_settings.corpus_dir), "NEWSBOT_INDEX": str(a_file)},
    )
    one_error_line(result, "'index_dir' must be a directory")
