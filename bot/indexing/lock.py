"""One writer at a time per index: the lock every build holds from reading the corpus to
publishing what it read.

Two builds of one index that overlap would each publish the corpus as it was when they read
it, and the slower one, publishing last, would drop what the faster one had just indexed (an
article `newsbot add` reported as indexed vanished when a running `index build --full`
finished). So a build takes an exclusive `flock` on `<index_dir>/build.lock` before it lists
the corpus and keeps it until its build is published or has failed; a second build waits for
it (saying so once, through its progress callback: stage "waiting"), then reads the corpus as
it is by then. Readers never take the lock: they answer from the serving build throughout.

The lock belongs to the open file, so a build that dies, however it dies, releases it; the
file itself stays (removing a lock file would let two builds lock two different files).

A waiting build tries the lock again every RETRY_SECONDS instead of blocking in one `flock`
call: while the chat loads, its main thread blocks SIGINT and a Ctrl-C reaches it only between
Python calls (`bot.cli._ctrl_c_passed_on`), so a blocking `flock` held the Ctrl-C until the
other build ended.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_FILE = "build.lock"
WAITING = "waiting"  # the progress stage reported while another build holds the lock
RETRY_SECONDS = 0.1  # how often a waiting build tries the lock again: a Ctrl-C lands within it


@contextlib.contextmanager
def build_lock(
    index_dir: Path, progress: Callable[[str, int, int], None] | None = None
) -> Iterator[None]:
    """Hold the index's writer lock for the block, waiting for another build to finish first
    (`progress("waiting", 0, 0)` is called once if it must wait). `IndexWriteError` if the
    index directory cannot be created or written."""
    try:  # read-only is enough for flock, and works when the file belongs to another user
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK_FILE, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        from bot.indexing import store

        store.check_writable(index_dir)  # the one line that says why
        raise store.write_error(exc, index_dir, 0) from None
    try:
        if not _took(fd):
            if progress is not None:
                progress(WAITING, 0, 0)
            while not _took(fd):
                time.sleep(RETRY_SECONDS)
        yield
    finally:
        os.close(fd)  # releases the lock


def _took(fd: int) -> bool:
    """Whether the lock on `fd` was free and is now held, without waiting."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
