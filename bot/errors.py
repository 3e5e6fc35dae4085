"""Errors a user can act on. Front ends print `str(error)` as one line and exit non-zero."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class: the message is a complete, one-line explanation for the user."""


class ConfigError(NewsbotError):
    """A setting, option or config file is invalid."""


class CorpusError(NewsbotError):
    """The corpus directory or one of its files cannot be indexed."""


class IndexUnusableError(NewsbotError):
    """The index is missing, corrupt or was built differently; rebuilding fixes it."""


class IndexMissingError(IndexUnusableError):
    """No index has been built at this location yet."""


class QuestionError(NewsbotError):
    """The question is empty or too long."""


class Interrupted(NewsbotError):
    """Stopped by a signal (Ctrl-C, SIGTERM) before the work was done: front ends say so in one
    line and exit with 128 + the signal's number, the status a shell gives a killed command."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
