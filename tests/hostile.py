"""Helpers for the hardening tests: running the installed `newsbot` as a real process, also as
an unprivileged user (root reads every file, so permission tests drop to `nobody`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("newsbot")


def newsbot(
    args: Sequence[str | bytes],
    settings=None,
    *,
    user: str | None = None,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """Run the console script (as `user` when given) and return its output as bytes."""
    full_env = {**os.environ, **(env or {})}
    if settings is not None:
        full_env["NEWSBOT_CORPUS"] = str(settings.corpus_dir)
        full_env["NEWSBOT_INDEX"] = str(settings.index_dir)
    command: list[str | bytes] = [str(SCRIPT), *args]
    if user is not None:
        command = [*as_user(user), *command]
        full_env["HOME"] = str(Path(settings.index_dir).parent if settings else "/tmp")
    return subprocess.run(
        command, input=input, capture_output=True, env=full_env, timeout=timeout, check=False
    )


def as_user(user: str) -> list[str]:
    """A command prefix that runs as `user` without any capability; skips if impossible."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to run a command without root's capabilities")
    if os.geteuid() != 0:
        return []  # already unprivileged
    return ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]


@contextmanager
def shared_tmp() -> Iterator[Path]:
    """A temporary directory that an unprivileged user can enter and write (pytest's are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="newsbot-hostile-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# What a piped `index build` prints as it goes (see bot/cli.py, BuildProgress); a failing build
# may show some of these before its one error line.
PROGRESS_LINE = re.compile(
    r"newsbot: (loading the model…|(reading|splitting|embedding|writing) (\d+/\d+ \w+|nothing to do))"
)


def one_error_line(result: subprocess.CompletedProcess[bytes], fragment: str) -> str:
    """The single `newsbot: error:` line of a failed run; asserts there is no traceback."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, (result.returncode, err)
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("newsbot: error:")]
    others = [line for line in err.strip().splitlines() if not PROGRESS_LINE.fullmatch(line)]
    assert len(errors) == 1 and others == errors, err
    assert fragment in errors[0], err
    return errors[0]
