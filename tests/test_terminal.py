"""Keys typed at a terminal before the chat reads them: a pseudo-terminal in its usual mode."""

from __future__ import annotations

import os
import select
from collections.abc import Iterator

import pytest

from bot.terminal import take_typed_eof

HANG_GUARD = 600  # seconds; the terminal passes typed keys on at its own pace


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """(keyboard, program): what is written to the first is typed at the second."""
    keyboard, program = os.openpty()
    yield keyboard, program
    os.close(keyboard)
    os.close(program)


def typed(terminal: tuple[int, int], keys: bytes) -> int:
    """Type `keys`; return the program's end once they are there to read."""
    keyboard, program = terminal
    os.write(keyboard, keys)
    assert select.select([program], [], [], HANG_GUARD)[0]
    return program


def test_ctrl_d_on_an_empty_line_is_taken(terminal) -> None:
    program = typed(terminal, b"\x04\x04")
    assert take_typed_eof(program)
    assert not select.select([program], [], [], 0)[0]  # both marks read: none left to a shell


def test_a_line_typed_ahead_is_left_for_the_prompt(terminal) -> None:
    program = typed(terminal, b"Who is Ryan Ding?\n\x04")
    assert not take_typed_eof(program)
    assert os.read(program, 100) == b"Who is Ryan Ding?\n"


def test_nothing_typed_is_no_end(terminal) -> None:
    assert not take_typed_eof(terminal[1])
