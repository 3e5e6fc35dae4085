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
