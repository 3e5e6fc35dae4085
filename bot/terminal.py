"""Keys typed at a terminal before anything reads them: a Ctrl-D typed while the chat loads.

A terminal in its usual (canonical) mode keeps a Ctrl-D typed on an empty line as an end-of-file
mark, which only a line-by-line read reports. readline reads the terminal key by key, so it
never sees one typed before its first prompt, and the chat would open as if nothing was typed.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import select
import termios


def take_typed_eof(fd: int) -> bool:
    """Whether terminal `fd` holds an end-of-file mark (Ctrl-D on an empty line) and no whole
    line of text; if so, the marks are read, so that the shell does not get them afterwards.
    A line typed ahead is left for the prompt to read."""
    if not os.isatty(fd):
        return False
    found = False
    with contextlib.suppress(OSError):  # hung up: the prompt meets its end of input
        while select.select([fd], [], [], 0)[0] and _bytes_in_lines(fd) == 0:
            os.read(fd, 1)  # one end-of-file mark: a read of no bytes
            found = True
    return found


def _bytes_in_lines(fd: int) -> int:
    """The bytes of whole lines waiting at terminal `fd` (on Linux, end-of-file marks excluded)."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]
