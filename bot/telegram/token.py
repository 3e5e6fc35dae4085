"""The bot token: checked before use, and kept out of every log line and error message."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from bot.errors import ConfigError

REDACTED = "<redacted-token>"
_TOKEN_FORMAT = re.compile(r"\d+:[A-Za-z0-9_-]+")


def check_token(token: str) -> str:
    """The token without surrounding space; ConfigError (never showing it) if malformed."""
    token = token.strip()
    if not token:
        raise ConfigError("no Telegram token: set TELEGRAM_BOT_TOKEN or pass --token-file PATH")
    if not _TOKEN_FORMAT.fullmatch(token):
        raise ConfigError(
            "the Telegram token is malformed; it looks like 123456789:AAE…, as @BotFather gives it"
        )
    return token


def scrub(text: str, token: str) -> str:
    """`text` with the token replaced, in any letter case and URL-encoded too (Telegram's and
    python-telegram-bot's messages may change the case of an echoed URL)."""
    if not token:
        return text
    forms = {token, token.replace(":", "%3A"), token.replace(":", "%3a")}
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)


def _carries(text: str, token: str) -> bool:
    return scrub(text, token) != text


@contextlib.contextmanager
def redacted_logs(token: str) -> Iterator[None]:
    """While active, no log record carries the token: not its message, nor its traceback."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        with contextlib.suppress(Exception):  # a malformed record is logging's business
            message = record.getMessage()
            if _carries(message, token):
                record.msg, record.args = scrub(message, token), None
            if record.exc_info and record.exc_info[1] is not None:
                trace = logging.Formatter().formatException(record.exc_info)
                if _carries(trace, token):
                    record.exc_text = scrub(trace, token)
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)
