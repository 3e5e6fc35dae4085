"""The command line as a user runs it: typer's CliRunner, and the installed console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import NO_QUESTIONS_ON_STDIN, app, below
from bot.config import Settings
from bot.indexing import build as build_module
from tests.hostile import PROGRESS_LINE

runner = CliRunner()


@pytest.fixture
def seed_env(seed_settings, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at the session's index of the bundled article (never rebuilt here)."""
    monkeypatch.setenv("NEWSBOT_CORPUS", str(seed_settings.corpus_dir))
    monkeypatch.setenv("NEWSBOT_INDEX", str(seed_settings.index_dir))
    return seed_settings


def read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def assert_one_line_error(result, fragment: str) -> None:
    assert result.exit_code != 0
    lines = [
        line for line in result.stderr.strip().splitlines() if not PROGRESS_LINE.fullmatch(line)
    ]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsbot: error:")
    assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_ask_prints_the_answer_then_numbered_citations(seed_env) -> None:
    result = runner.invoke(app, ["ask", "Who is Ryan Ding?"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Ryan Ding, president of Huawei's carrier business group" in lines[0]
    assert any(line.startswith("[1] NCSC believes risks") and "paragraph" in line for line in lines)
    assert "[3]" in result.stdout and "[4]" not in result.stdout
    # Piped output marks the answer sentence inside its passage in plain text.
    assert "**Earlier this month, Ryan Ding" in result.stdout


def test_ask_json_follows_the_contract(seed_env) -> None:
    result = runner.invoke(
        app, ["ask", "--json", "--top-k", "2", "How much does Huawei plan to invest?"]
    )
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"question", "answer", "abstained", "confidence", "citations"}
    assert answer["abstained"] is False and "$2 billion" in answer["answer"]
    assert 0.0 <= answer["confidence"] <= 1.0
    assert len(answer["citations"]) == 2
    for citation in answer["citations"]:
        assert set(citation) >= {
            "rank",
            "doc_id",
            "title",
            "path",
            "paragraph",
            "start",
            "end",
            "text",
            "score",
        }
        assert Path(citation["path"]).is_absolute()
        assert read(citation["path"])[citation["start"] : citation["end"]] == citation["text"]


def test_ask_json_batch_reads_stdin_in_order_and_skips_blank_lines(seed_env) -> None:
    questions = "Who is Ryan Ding?\n\n   \nWhich country's prime minister is Jacinda Ardern?\nWho won the 1998 World Cup?\n"
    result = runner.invoke(app, ["ask", "--json", "-"], input=questions)
    assert result.exit_code == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [
        "Who is Ryan Ding?",
        "Which country's prime minister is Jacinda Ardern?",
        "Who won the 1998 World Cup?",
    ]
    assert answers[2]["abstained"] is True and answers[2]["answer"] is None


def test_a_bad_line_in_a_batch_is_reported_in_place(seed_env) -> None:
    result = runner.invoke(
        app, ["ask", "--json", "-"], input="Who is Ryan Ding?\n" + "why " * 200 + "\n"
    )
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["answer"] and "limit is 500" in second["error"]


def test_an_over_long_question_is_not_copied_back_whole(seed_env) -> None:
    huge = "why " * 250_000  # a megabyte on one line
    for command in (["ask", "--json", "-"], ["chat", "--json"]):
        result = runner.invoke(app, command, input=huge + "\n")
        [reply] = [json.loads(line) for line in result.stdout.splitlines()]
        assert reply["question"] == huge[:500] + "…", command
        assert "the question is 999999 characters long" in reply["error"]


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("", "the question is empty"),
        ("   ", "the question is empty"),
        ("x" * 600, "the limit is 500"),
        ("?", "nothing to look up"),
    ],
)
def test_bad_questions_get_one_line_errors(seed_env, question: str, fragment: str) -> None:
    assert_one_line_error(runner.invoke(app, ["ask", question]), fragment)


@pytest.mark.parametrize("stdin", ["", "\n", "  \n\n\t\n"], ids=["empty", "newline", "blank"])
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_ask_from_stdin_without_a_question_is_a_one_line_error(
    seed_env, stdin: str, json_output: bool
) -> None:
    result = runner.invoke(app, ["ask", *(["--json"] if json_output else []), "-"], input=stdin)
    assert result.exit_code == 1
    assert_one_line_error(result, "no question on stdin")
    assert result.stdout == ""


def test_unknown_retriever_is_a_one_line_error(seed_env) -> None:
    assert_one_line_error(
        runner.invoke(app, ["ask", "--retriever", "magic", "Who?"]), "dense, bm25 or hybrid"
    )


def test_missing_and_empty_corpus_directories(tmp_path: Path) -> None:
    missing = runner.invoke(
        app, ["index", "build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")]
    )
    assert_one_line_error(missing, "corpus directory not found")
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(
        app, ["index", "build", "--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "i")]
    )
    assert_one_line_error(empty, "has no non-empty .txt or .md articles")


def test_ask_builds_a_missing_index_and_a_bad_file_keeps_the_old_one(make_corpus) -> None:
    settings = make_corpus(
        {"kenya.txt": "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n"}
    )
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    first = runner.invoke(app, ["ask", "What did Kenyan farmers harvest?", *where])
    assert first.exit_code == 0, first.stderr
    assert "record tea crop" in first.stdout

    (settings.corpus_dir / "bad.md").write_bytes(b"\x00\x01\x02 binary junk")
    failed = runner.invoke(app, ["index", "build", *where])
    assert_one_line_error(failed, "bad.md looks binary")
    again = runner.invoke(app, ["ask", "What did Kenyan farmers harvest?", *where])
    assert again.exit_code == 0 and "record tea crop" in again.stdout
    assert "changed since the index was built (bad.md)" in again.stderr


def test_corrupt_index_says_to_rebuild(make_corpus, seed_settings) -> None:
    settings = make_corpus({})
    shutil.copytree(seed_settings.index_dir, settings.index_dir)
    (settings.index_dir / "CURRENT").write_text("no-such-build\n")
    result = runner.invoke(app, ["ask", "Who is Ryan Ding?", "--index", str(settings.index_dir)])
    assert_one_line_error(result, "run `newsbot index build`")


def test_index_status_tells_what_is_indexed_and_whether_it_is_stale(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": "Headline here\n\nThe mayor opened a new bridge on Monday.\n"})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    assert runner.invoke(app, ["index", "status", *where]).exit_code == 1
    built = runner.invoke(app, ["index", "build", *where])
    assert built.exit_code == 0 and "Indexed 1 document(s)" in built.stdout
    status = runner.invoke(app, ["index", "status", *where])
    assert "documents: 1" in status.stdout and "all-MiniLM-L6-v2" in status.stdout
    assert "corpus unchanged" in status.stdout
    assert "questions: encoded with ONNX Runtime" in status.stdout
    (settings.corpus_dir / "b.md").write_text("Another\n\nA second story.\n", encoding="utf-8")
    assert "corpus changed since: b.md" in runner.invoke(app, ["index", "status", *where]).stdout
    skipped = runner.invoke(app, ["index", "build", "--if-needed", *where])
    assert "Indexed 2 document(s)" in skipped.stdout
    assert "up to date" in runner.invoke(app, ["index", "build", "--if-needed", *where]).stdout
    both = runner.invoke(app, ["index", "build", "--if-needed", "--full", *where])
    assert_one_line_error(both, "--if-needed and --full contradict each other")  # not ignored


def test_an_index_split_by_another_splitter_is_rebuilt_if_needed(
    make_corpus, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_corpus({"a.txt": "Headline here\n\nThe mayor opened a new bridge on Monday.\n"})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    assert runner.invoke(app, ["index", "build", *where]).exit_code == 0
    monkeypatch.setattr(build_module, "SPLITTER", "rules-next")  # a newer newsbot's splitter
    rebuilt = runner.invoke(app, ["index", "build", "--if-needed", *where])
    assert "Indexed 1 document(s)" in rebuilt.stdout, rebuilt.stdout
    assert "up to date" in runner.invoke(app, ["index", "build", "--if-needed", *where]).stdout


def test_chat_answers_shows_sources_and_quits(seed_env) -> None:
    result = runner.invoke(
        app, ["chat"], input="/sources\nWho is Ryan Ding?\n/sources\n/quit\nnever asked\n"
    )
    assert result.exit_code == 0, result.stderr
    # Piped, each line is echoed before its reply, so the replies do not run together.
    assert result.stdout.startswith("? /sources\nNo answer yet.\n\n? Who is Ryan Ding?\n")
    assert result.stdout.count("Ryan Ding, president") >= 3  # answer, its citation, /sources
    assert str(seed_env.corpus_dir / "ncsc-huawei-5g.txt") in result.stdout  # full source path
    assert "never asked" not in result.stdout


def test_a_piped_chat_echoes_a_huge_line_only_in_part(seed_env) -> None:
    result = runner.invoke(app, ["chat"], input="x" * 100_000 + "\nWho is Ryan Ding?\n")
    echoed = result.stdout.splitlines()[0]
    assert echoed.endswith("… (100,000 characters)") and len(echoed) < 700
    assert "the limit is 500" in result.stderr and "Ryan Ding, president" in result.stdout


def test_chat_json_carries_the_conversation_one_object_per_line(seed_env) -> None:
    lines = [
        "Who runs Huawei's carrier business?",
        "how much will the company invest?",
        "/new",
        "how much?",  # nothing to point back to after /new
        "What is the NCSC?",
        "exit",
        "never asked",
    ]
    result = runner.invoke(app, ["chat", "--json"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    first, follow_up, new, error, switch = (json.loads(line) for line in result.stdout.splitlines())
    # `ask --json`'s contract, plus looked_up: the question actually used.
    assert set(first) >= {"question", "answer", "abstained", "confidence", "citations"}
    assert first["looked_up"] == first["question"] == lines[0]
    assert follow_up["question"] == lines[1]
    assert follow_up["looked_up"] == "How much will Huawei invest?"
    assert "$2 billion" in follow_up["answer"]
    assert new == {"command": "/new"}
    assert error["question"] == "how much?" and "nothing to look up" in error["error"]
    assert switch["looked_up"] == "What is the NCSC?"
    assert result.stderr.count("newsbot: error:") == 1


def test_chat_answers_small_talk_in_kind_and_questions_as_questions(seed_env) -> None:
    result = runner.invoke(app, ["chat"], input="hi!\nthanks\nhi, who is Ryan Ding?\n")
    assert result.exit_code == 0, result.stderr
    assert "? hi!\nHello! Ask me a question about the news" in result.stdout
    assert "? thanks\nYou're welcome." in result.stdout
    assert "Ryan Ding, president" in result.stdout  # the greeting before a question is no talk
    assert result.stdout.count("does not say") == 0
    json_result = runner.invoke(app, ["chat", "--json"], input="hello\n")
    assert json.loads(json_result.stdout)["reply"].startswith("Hello!")


def test_chat_blames_the_filter_only_when_no_article_passes_it(make_corpus) -> None:
    settings = make_corpus(
        {
            "bridge.md": "---\ntitle: Bridge opens\nsource: Wire\npublished: 2024-03-01\n---\n\n"
            "The mayor of Vel opened the Tane bridge on Monday.\n\n"
            "The bridge cost 12 million crowns, the council said.\n"
        }
    )
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    typed = [
        "/filter source Wire",
        "How much did the bridge cost?",
        "tell me more",  # the article ends there: that is why, not the filter
        "news from January 2018",
        "/filter source Nowhere",
        "Who opened the bridge?",
    ]
    result = runner.invoke(app, ["chat", *where], input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.stderr
    _, cost, more, period, _, nowhere = result.stdout.split("\n? ")  # each reply after its line
    assert "12 million crowns" in cost
    assert "(the article says no more after that)" in more
    assert "(no article published from 2018-01-01 to 2018-01-31 matches)" in period
    assert "(no article matches the filter: source Nowhere)" in nowhere
    assert result.stdout.count("no article matches the filter") == 1


def test_chat_words_alone_on_a_line_are_commands(seed_env) -> None:
    result = runner.invoke(app, ["chat"], input="/\nclear\nquit\nnever asked\n")
    assert result.exit_code == 0, result.stderr
    assert "/new" in result.stdout and "/sources" in result.stdout  # "/" lists the commands
    assert "confidence" not in result.stdout and "never asked" not in result.stdout


def test_installed_console_script_answers_and_fails_cleanly(seed_settings) -> None:
    script = Path(sys.executable).with_name("newsbot")
    env = {
        **os.environ,
        "NEWSBOT_CORPUS": str(seed_settings.corpus_dir),
        "NEWSBOT_INDEX": str(seed_settings.index_dir),
    }
    ok = subprocess.run(
        [script, "ask", "--json", "Who is New Zealand's prime minister?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Jacinda Ardern" in json.loads(ok.stdout)["answer"]
    bad = subprocess.run([script, "ask", "  "], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 1
    assert (
        bad.stderr.strip()
        == 'newsbot: error: the question is empty; ask something, e.g. newsbot ask "Who is Ryan Ding?"'
    )


def test_help_shows_defaults_env_vars_and_flags_without_values() -> None:
    result = runner.invoke(app, ["ask", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    options = dict(re.findall(r"(--[\w-]+) (.*?)(?= --[\w-]+ |$)", text.split("Options: ")[1]))
    assert "[env var: NEWSBOT_CORPUS; default: (corpus/ of the checkout" in options["--corpus"]
    assert "[env var: NEWSBOT_RETRIEVER; default: (hybrid)]" in options["--retriever"]
    assert "[env var: NEWSBOT_TOP_K; default: (3)]" in options["--top-k"]
    assert options["--json"].startswith("Print JSON")  # a flag: no value after it
    telegram = " ".join(runner.invoke(app, ["telegram", "--help"]).stdout.split())
    assert "environment variable TELEGRAM_BOT_TOKEN" in telegram


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"newsbot \d+\.\d+\.\d+\S*\n", result.stdout)


def test_unquoted_question_words_are_joined(seed_env) -> None:
    result = runner.invoke(app, ["ask", "--json", "Who", "is", "Ryan", "Ding"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == "Who is Ryan Ding"
    assert "Ryan Ding, president" in answer["answer"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ask", "--bogus", "Who?"], "No such option: --bogus"),
        (["ask"], "Missing argument 'QUESTION'"),
        (["ask", "--top-k", "many", "Who?"], "'--top-k'"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_usage_mistakes_are_one_line_errors(seed_env, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, args)
    assert_one_line_error(result, fragment)
    assert "--help" in result.stderr


def test_abstention_says_why_without_rounding_to_the_threshold(seed_env) -> None:
    result = runner.invoke(app, ["ask", "What is the best recipe for pancakes?"])
    assert result.exit_code == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    threshold = re.escape(f"{Settings().min_confidence:g}")
    assert re.fullmatch(
        rf"The corpus does not say \(not confident enough: 0\.\d{{3}} < {threshold}\)", first
    )
    assert second == "Closest I found:"
    assert below(0.4996, 0.5) == "0.499 < 0.5"  # never shown as the threshold it missed
    assert below(0.0, 0.5) == "0.000 < 0.5"


def test_abstention_names_what_the_corpus_never_mentions(seed_env) -> None:
    result = runner.invoke(app, ["ask", "What did Angela Merkel say about Huawei?"])
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "The corpus does not say (it never mentions Angela Merkel)"
    answered = runner.invoke(app, ["ask", "What did Tim Cook send to the British lawmakers?"])
    assert "never mentions Tim Cook" in answered.stdout.splitlines()[1]


def test_plain_ask_shows_where_else_a_passage_appears(make_corpus) -> None:
    story = "Tea harvest\n\nFarmers in Kenya harvested a record tea crop this year.\n"
    settings = make_corpus({"wire/a.txt": story, "wire/b.txt": story})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    result = runner.invoke(app, ["ask", "What did farmers in Kenya harvest?", *where])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    cited = next(i for i, line in enumerate(lines) if line.startswith("[1] Tea harvest"))
    copy = "b.txt" if "(a.txt," in lines[cited] else "a.txt"
    assert lines[cited + 1] == f"also in: Tea harvest (wire/{copy}, paragraph 1)"


def test_piped_index_build_prints_a_line_per_stage(make_corpus) -> None:
    settings = make_corpus({"a.txt": "Headline here\n\nThe mayor opened a new bridge on Monday.\n"})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    result = runner.invoke(app, ["index", "build", *where])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "newsbot: loading the model…"
    for expected in ("reading 1/1 files", "splitting 1/1 documents", "writing 3/3 steps"):
        assert f"newsbot: {expected}" in lines
    assert any(re.fullmatch(r"newsbot: embedding (\d+)/\1 passages", line) for line in lines)


def test_chat_catches_mistyped_commands_and_prefixes_errors(seed_env) -> None:
    typed = "/source\n/foo\n/quit!\n/filter off now\n" + "x" * 600 + "\n/quit\n"
    result = runner.invoke(app, ["chat"], input=typed)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "newsbot: error: unknown command /source; did you mean /sources?",
        "newsbot: error: unknown command /foo; commands: /new, /sources, /filter, /clear, /help, /quit",
        "newsbot: error: unknown command /quit!; did you mean /quit?",
        "newsbot: error: /filter off clears the filter and takes nothing after it (got 'now'); "
        "use /filter off alone",
        "newsbot: error: the question is 600 characters long; the limit is 500 "
        "(setting max_question_chars, env NEWSBOT_MAX_QUESTION_CHARS)",
    ]
    assert "confidence" not in result.stdout  # nothing was sent to the answer engine


def test_the_refresh_option_wins_over_the_setting(
    seed_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.telegram import app as telegram_app

    started: list[Settings] = []
    monkeypatch.setattr(
        telegram_app, "run_bot", lambda token, settings, **_: started.append(settings)
    )
    monkeypatch.setenv("NEWSBOT_FEEDS_REFRESH", "1h")
    token = tmp_path / "token"
    token.write_text("123456789:AAEfakefakefakefakefakefakefakefake1")
    result = runner.invoke(app, ["telegram", "--token-file", str(token), "--refresh", "2m"])
    assert result.exit_code == 0, result.stderr
    assert [s.feeds_refresh for s in started] == ["2m"]


def test_chat_json_applies_a_filter_and_reports_a_bad_one_as_json(seed_env) -> None:
    typed = "/filter source NoSuchOutlet\nWho is Ryan Ding?\n/filter since 2024-13-45\n"
    result = runner.invoke(app, ["chat", "--json"], input=typed)
    filtered, answer, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert filtered == {"command": "/filter", "filter": "source NoSuchOutlet"}
    assert answer["abstained"] and answer["citations"] == []  # no article from that outlet
    assert bad["question"] == "/filter since 2024-13-45" and "2024-13-45" in bad["error"]


def test_sources_after_a_reply_that_cites_nothing_says_so(seed_env) -> None:
    result = runner.invoke(app, ["chat"], input="tell me more\n/sources\n")
    assert result.stdout.rstrip().endswith("? /sources\nNo sources for that reply.")


def test_a_closed_stdin_reads_as_empty(seed_env) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(Path(sys.executable).parent / "newsbot"), *args],
            capture_output=True,
            preexec_fn=lambda: os.close(0),  # as `newsbot chat <&-`
        )

    chat = run("chat")
    assert chat.returncode == 0 and b"Traceback" not in chat.stderr, chat.stderr
    batch = run("ask", "--json", "-")  # no question at all, as from an empty file
    assert batch.returncode == 1 and batch.stdout == b""
    assert batch.stderr.decode().splitlines() == [f"newsbot: error: {NO_QUESTIONS_ON_STDIN}"]


LOADING_FOREVER = """
import os, signal, time
from bot.cli import _signals_to_this_thread
# As the chat does on a terminal: Ctrl-C works even when the tests run with SIGINT ignored
# (as a background job of a non-interactive shell does).
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    with _signals_to_this_thread():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        for _ in range(1200):  # a load of two minutes, a guard against a hang
            time.sleep(0.1)
        print("loaded")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_stops_the_chat_while_it_loads_not_once_it_has() -> None:
    """SIGINT is blocked while the chat loads (so no thread started meanwhile takes it), yet a
    Ctrl-C interrupts the loading itself."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    result = subprocess.run(
        [sys.executable, "-c", LOADING_FOREVER], capture_output=True, text=True, env=env
    )
    assert result.stdout == "interrupted\n", result.stdout + result.stderr
