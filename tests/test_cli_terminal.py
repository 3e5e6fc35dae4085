"""The installed `newsbot` in a pseudo-terminal, as a person at a keyboard meets it: Ctrl-C,
Ctrl-D, Ctrl-L, mistyped commands, word wrap, the history file, progress bars, a conversation.

Every step waits for what the screen shows (pexpect), never for a time: a loaded machine makes
the tests slower, not red. HANG_GUARD only ends a test whose program hangs for good."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

NEWSBOT = Path(sys.executable).with_name("newsbot")
COLUMNS = 60
HANG_GUARD = 900  # seconds; a guard against a hung program, not a pace any step must keep
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
# The prompt as it reaches the terminal: after a line break, readline's mode switches, "? ".
PROMPT = r"\n(?:\x1b\[[0-9;?]*[A-Za-z])*\? "


class Terminal:
    """A program running in a pseudo-terminal `COLUMNS` wide; read what it shows, type keys."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        preexec_fn: Callable[[], object] | None = None,
    ) -> None:
        self.child = pexpect.spawn(
            str(NEWSBOT),
            args,
            env=env,
            dimensions=(24, COLUMNS),
            encoding="utf-8",
            codec_errors="replace",
            timeout=HANG_GUARD,
            preexec_fn=preexec_fn,
        )
        self.raw = ""  # everything shown so far, escape codes included

    @property
    def text(self) -> str:
        """Everything shown so far, ANSI codes and carriage returns removed."""
        return _ANSI.sub("", self.raw)

    def expect(self, pattern: str) -> str:
        """Wait until the output since the last match matches `pattern` (a regular expression
        over the raw output); return that output, ANSI codes removed, up to the match's end."""
        try:
            self.child.expect(pattern)
        except (pexpect.EOF, pexpect.TIMEOUT) as problem:
            shown = _ANSI.sub("", self.raw + str(self.child.before))
            raise AssertionError(
                f"{pattern!r} never showed ({type(problem).__name__}):\n{shown}"
            ) from None
        shown = self.child.before + self.child.after
        self.raw += shown
        return _ANSI.sub("", shown)

    def expect_raw(self, pattern: str) -> str:
        """Like `expect`, but return the raw output (escape codes kept)."""
        before = len(self.raw)
        self.expect(pattern)
        return self.raw[before:]

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def wait(self) -> int:
        """The exit status, once the program ends (reading its last output meanwhile)."""
        self.child.expect(pexpect.EOF)
        self.raw += self.child.before
        self.child.close()
        return (
            self.child.exitstatus if self.child.exitstatus is not None else -self.child.signalstatus
        )

    def wait_unless(self, pattern: str, timeout: float = HANG_GUARD) -> int:
        """Like `wait`, but fail at once if `pattern` shows first (the program went on), or if
        the program is still running after `timeout` seconds."""
        try:
            shown = self.child.expect([pexpect.EOF, pattern], timeout=timeout)
        except pexpect.TIMEOUT:
            last = _ANSI.sub("", self.raw + str(self.child.before))[-1000:]
            raise AssertionError(
                f"still running after {timeout} s; it showed last:\n{last}"
            ) from None
        self.raw += self.child.before
        if shown:
            raise AssertionError(f"{pattern!r} showed before the end:\n{self.text}")
        self.child.close()
        return (
            self.child.exitstatus if self.child.exitstatus is not None else -self.child.signalstatus
        )

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def terminal_env(seed_settings, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TERM": "xterm-256color",
        # This checkout's code, even when the console script was installed from another one.
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", ""),
        "NEWSBOT_CORPUS": str(seed_settings.corpus_dir),
        "NEWSBOT_INDEX": str(seed_settings.index_dir),
    }


def _threads_taking_sigint(pid: int) -> list[int]:
    """The threads of process `pid` that do not block SIGINT (Linux: /proc's SigBlk mask)."""
    taking = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda t: int(t.name)):
        status = (task / "status").read_text()
        blocked = int(
            next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16
        )
        if not blocked & (1 << (signal.SIGINT - 1)):
            taking.append(int(task.name))
    return taking


def test_chat_in_a_terminal_ctrl_c_cancels_typos_are_caught_words_stay_whole(
    terminal_env, seed_bot, tmp_path: Path
) -> None:
    term = Terminal(["chat"], terminal_env)
    try:
        term.expect(r"/help for commands\.\r" + PROMPT)
        # Only the prompt's thread takes Ctrl-C: handed to any other thread (OpenBLAS's, ONNX
        # Runtime's), it would go unnoticed until the next key.
        assert _threads_taking_sigint(term.child.pid) == [term.child.pid]
        # Ctrl-C at the prompt cancels the half-typed line; the chat goes on.
        term.type("Who is Ry")
        term.expect("Who is Ry")
        term.type("\x03")
        term.expect(PROMPT)
        # A mistyped command is caught, never asked as a question.
        term.type("/source\r")
        error = " ".join(term.expect(PROMPT).split())
        # Wrapped at word boundaries too, as answers are.
        assert "newsbot: error: unknown command /source; did you mean /sources?" in error
        assert "confidence" not in error
        # The answer is wrapped at word boundaries to the terminal's width.
        term.type("Who is Ryan Ding?\r")
        shown = term.expect(PROMPT)
        answer = seed_bot.ask("Who is Ryan Ding?").answer
        lines = shown.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("Earlier this month"))
        wrapped = []
        for line in lines[first:]:
            if line.startswith("(confidence"):
                break
            assert len(line) <= COLUMNS, line
            wrapped.append(line.strip())
        assert len(wrapped) > 1, shown  # it did need wrapping
        assert " ".join(wrapped) == answer  # every line break falls between words
        # Ctrl-D leaves, and the question is in the history under XDG_CACHE_HOME.
        term.type("\x04")
        assert term.wait() == 0
    finally:
        term.close()
    history = tmp_path / "cache" / "newsbot" / "history"
    assert "Who is Ryan Ding?" in history.read_text(encoding="utf-8")
    assert "/source" in history.read_text(encoding="utf-8")


def test_index_build_in_a_terminal_shows_bars_that_stay(make_corpus, terminal_env) -> None:
    settings = make_corpus(
        {"a.txt": "Tea harvest\n\nFarmers in Kenya harvested a record tea crop.\n"}
    )
    env = {
        **terminal_env,
        # The user's own cache, where the model's ONNX export already is (a fresh export
        # takes longer than the rest of the build).
        "HOME": os.environ.get("HOME", ""),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", ""),
        "NEWSBOT_CORPUS": str(settings.corpus_dir),
        "NEWSBOT_INDEX": str(settings.index_dir),
    }
    term = Terminal(["index", "build"], env)
    try:
        shown = term.expect(r"Indexed 1 document")
        assert term.wait() == 0
    finally:
        term.close()
    assert "loading the model" in shown
    for stage, unit in [("reading", "1/1 files"), ("embedding", "passages"), ("writing", "3/3")]:
        assert re.search(rf"{stage}.*{unit}", shown), shown


def test_chat_in_a_terminal_carries_the_conversation_and_knows_its_commands(
    terminal_env,
) -> None:
    term = Terminal(["chat"], terminal_env)
    try:
        term.expect(r"/help for commands\.\r" + PROMPT)
        term.type("Who runs Huawei's carrier business?\r")
        assert "Ryan Ding" in term.expect(PROMPT)
        # A follow-up says, dimmed, what it was looked up as.
        term.type("what did he promise lawmakers?\r")
        raw = term.expect_raw(PROMPT)
        shown = " ".join(_ANSI.sub("", raw).split())
        assert "→ looked up: What did Ryan Ding promise lawmakers?" in shown
        assert re.search(r"\x1b\[2m→ looked up", raw), raw
        # Asked "how much", the amount is marked inside the answer (yellow, in the bold line).
        term.type("How much will Huawei invest?\r")
        raw = term.expect_raw(PROMPT)
        assert re.search(r"\x1b\[[0-9;]*33m\$2 billion\x1b", raw), raw
        # /new forgets it: the same follow-up now has nothing to point back to.
        term.type("/new\r")
        assert "New conversation" in term.expect(PROMPT)
        term.type("by when?\r")
        assert "nothing to look up" in term.expect(PROMPT)
        # "/" alone lists the commands.
        term.type("/\r")
        listing = term.expect(PROMPT)
        assert "/new" in listing and "/sources" in listing and "/quit" in listing
        # Ctrl-L and `clear` clear the screen; the prompt comes back.
        term.type("\x0c")
        term.expect(r"\x1b\[2J")
        term.expect(r"\? ")
        term.type("clear\r")
        term.expect(r"\x1b\[2J")
        term.expect(r"\? ")
        # `exit` alone on a line leaves.
        term.type("exit\r")
        assert term.wait() == 0
    finally:
        term.close()


LOADING = "loading the model"
BANNER = "Type a question"


def test_chat_in_a_terminal_ctrl_d_while_loading_leaves_once_loaded(terminal_env) -> None:
    term = Terminal(["chat"], terminal_env)
    try:
        term.expect(LOADING)
        term.type("\x04")
        assert term.wait_unless(PROMPT) == 0
    finally:
        term.close()
    assert BANNER not in term.text and "Traceback" not in term.text, term.text


@pytest.mark.parametrize("sigint", ["taken", "ignored"])
def test_chat_in_a_terminal_ctrl_c_while_loading_stops_it(terminal_env, sigint: str) -> None:
    # "ignored": as when started as a background job of a non-interactive shell.
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint == "ignored" else None
    term = Terminal(["chat"], terminal_env, preexec_fn=ignore)
    try:
        term.expect(LOADING)
        term.type("\x03")
        assert term.wait_unless(PROMPT) == 130
    finally:
        term.close()
    said = "newsbot: interrupted while loading; the chat did not start"
    assert term.text.count(said) == 1, term.text
    assert BANNER not in term.text and "Traceback" not in term.text, term.text


HOLDING_THE_LOCK = """
import sys
from pathlib import Path
from bot.indexing.lock import build_lock
with build_lock(Path(sys.argv[1])):  # as a build of that index does, from start to end
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes it
"""
# Seconds a chat may take to quit after Ctrl-C: a guard against waiting for the other build
# to end (which never comes here), far above the fraction of a second it takes.
QUIT_GUARD = 120


def test_chat_in_a_terminal_ctrl_c_while_waiting_for_another_build_stops_it(
    terminal_env, tmp_path: Path
) -> None:
    """With no index yet the chat builds one; while another process builds the same index it
    waits for it, and Ctrl-C then stops it at once, not once the other build is over."""
    from bot.cli import WAITING_LINE
    from bot.onnx_export import cache_dir

    index = tmp_path / "index"
    shared = tmp_path / "cache" / "newsbot"  # the chat's cache, with the model's ONNX export
    shared.mkdir(parents=True)
    (shared / "onnx").symlink_to(cache_dir())
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDING_THE_LOCK, str(index)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=terminal_env,
    )
    term = None
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        term = Terminal(["chat"], {**terminal_env, "NEWSBOT_INDEX": str(index)})
        term.expect(WAITING_LINE)
        for _ in range(3):  # its spinner turns: the chat is well into its wait
            term.expect("waiting for the other build")
        term.type("\x03")
        assert term.wait_unless(PROMPT, timeout=QUIT_GUARD) == 130
        assert holder.poll() is None  # the other build still holds the index
    finally:
        if term is not None:
            term.close()
        holder.communicate()  # closes its stdin: it lets the lock go and ends
    said = "newsbot: interrupted while loading; the chat did not start"
    assert term.text.count(said) == 1, term.text
    assert BANNER not in term.text and "Traceback" not in term.text, term.text


def test_chat_in_a_terminal_answers_a_question_typed_while_loading(terminal_env) -> None:
    term = Terminal(["chat"], terminal_env)
    try:
        term.expect(LOADING)
        term.type("Who is Ryan Ding?\r")
        term.expect(r"/help for commands\.\r" + PROMPT)
        assert "Ryan Ding, president of Huawei" in " ".join(term.expect(PROMPT).split())
        term.type("\x04")
        assert term.wait() == 0
    finally:
        term.close()
