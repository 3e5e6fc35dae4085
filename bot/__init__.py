"""newsbot: offline, extractive question answering over news articles, with cited passages.

The public names load lazily, so `import bot` (and the CLI's `--help`) stays instant.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Answer": "bot.answering",
    "Citation": "bot.answering",
    "Settings": "bot.config",
    "load_settings": "bot.config",
    "Newsbot": "bot.engine",
    "validate_question": "bot.engine",
    "NewsbotError": "bot.errors",
    "BuildReport": "bot.indexing",
    "IndexStatus": "bot.indexing",
    "build_index": "bot.indexing",
    "index_status": "bot.indexing",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
