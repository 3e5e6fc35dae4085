"""The installed `newsbot` in a pseudo-terminal, as a person at a keyboard meets it: Ctrl-C,
Ctrl-D, mistyped commands, word wrap, the history file, progress bars."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

NEWSBOT = Path(sys.executable).with_name("newsbot")
COLUMNS = 60
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    """A program running in a pseudo-terminal `COLUMNS` wide; read what it shows, type keys."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: size the terminal, then become newsbot
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
            os.execve(str(NEWSBOT), [str(NEWSBOT), *args], env)
        self.raw = ""
        self.pos = 0  # how much of the screen text earlier `expect` calls consumed

    @property
    def text(self) -> str:
        """Everything shown so far, ANSI codes and carriage returns removed."""
        return _ANSI.sub("", self.raw)

    def expect(self, pattern: str, timeout: float = 60) -> str:
        """Wait until the text shown since the last match matches `pattern`; return that text
        up to the end of the match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.text, self.pos)
            if match:
                shown = self.text[self.pos : match.end()]
                self.pos = match.end()
                return shown
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                ended = ""
                if self.pid and (status := os.waitpid(self.pid, os.WNOHANG))[0]:
                    self.pid = 0
                    ended = f" (newsbot ended: {os.waitstatus_to_exitcode(status[1])})"
                raise AssertionError(f"{pattern!r} never showed{ended}; screen:\n{self.text}")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait(self, timeout: float = 30) -> int:
        """The exit status, once the program ends (reading its last output meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"newsbot did not exit; screen:\n{self.text}")

    def close(self) -> None:
        if self.pid:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self.fd)

    def _read(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False once the program has gone."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the program exited and closed the terminal
            return False
        self.raw += chunk.decode("utf-8", "replace")
        return bool(chunk)


@pytest.fixture
def terminal_env(seed_settings, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TERM": "xterm-256color",
        "NEWSBOT_CORPUS": str(seed_settings.corpus_dir),
        "NEWSBOT_INDEX": str(seed_settings.index_dir),
    }


def test_chat_in_a_terminal_ctrl_c_cancels_typos_are_caught_words_stay_whole(
    terminal_env, seed_bot, tmp_path: Path
) -> None:
    term = Terminal(["chat"], terminal_env)
    try:
        term.expect(r"/help for commands\.\n\? ")
        # Ctrl-C at the prompt cancels the half-typed line; the chat goes on.
        term.type("Who is Ry")
        term.expect("Who is Ry")
        term.type("\x03")
        term.expect(r"\n\? ")
        # A mistyped command is caught, never asked as a question.
        term.type("/source\r")
        error = term.expect(r"\n\? ")
        assert "newsbot: error: unknown command /source; did you mean /sources?" in error
        assert "confidence" not in error
        # The answer is wrapped at word boundaries to the terminal's width.
        term.type("Who is Ryan Ding?\r")
        shown = term.expect(r"\n\? ")
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
        shown = term.expect(r"Indexed 1 document", timeout=300)
        assert term.wait() == 0
    finally:
        term.close()
    assert "loading the model" in shown
    for stage, unit in [("reading", "1/1 files"), ("embedding", "passages"), ("writing", "3/3")]:
        assert re.search(rf"{stage}.*{unit}", shown), shown
