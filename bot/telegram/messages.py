"""Telegram messages in and out for the handlers: which are addressed to the bot, the question
they ask, the "typing…" indicator while it is answered, and inline-mode results."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
)
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import filters

from bot.answering import Answer
from bot.engine import plain_question
from bot.telegram.format import callback_data, render_inline, uncited_abstention_reason

TYPING_AFTER_SECONDS = 0.5  # quicker answers need no "typing…"
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing…" for 5 s
INLINE_RESULTS = 5


class _AddressedToBot(filters.MessageFilter):
    """Messages that @mention the bot or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        return bool(_mention_spans(message))


ADDRESSED_TO_BOT = _AddressedToBot(name="addressed_to_bot")


def question_problem(question: str, max_chars: int) -> str | None:
    """A polite reply for an empty or too long question (as the engine reads it: zero-width
    spaces alone are empty); None if it can be asked."""
    cleaned = plain_question(question)
    if not cleaned:
        return "Please ask a question, e.g. <code>/ask Who is the CEO?</code>"
    if len(cleaned) > max_chars:
        return (
            f"That question is {len(cleaned)} characters long; I take at most {max_chars}. "
            "Please ask it in fewer words."
        )
    return None


def strip_mentions(message: Message) -> str:
    """The message text without the @mentions of this bot (entity offsets are UTF-16)."""
    encoded = (message.text or "").encode("utf-16-le")
    for start, end in sorted(_mention_spans(message), reverse=True):
        encoded = encoded[: 2 * start] + encoded[2 * end :]
    return " ".join(encoded.decode("utf-16-le").split())


def _mention_spans(message: Message) -> list[tuple[int, int]]:
    bot = message.get_bot()
    handle = f"@{bot.username}".lower()
    spans = []
    for entity in message.entities:
        if (
            entity.type == MessageEntity.MENTION and message.parse_entity(entity).lower() == handle
        ) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id
        ):
            spans.append((entity.offset, entity.offset + entity.length))
    return spans


@contextlib.asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the message's chat while the block takes longer than a moment."""
    finished = asyncio.Event()

    async def keep_typing() -> None:
        delay = TYPING_AFTER_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), delay)
                return
            with contextlib.suppress(TelegramError):  # the indicator is a courtesy
                await message.chat.send_action(
                    ChatAction.TYPING,
                    message_thread_id=message.message_thread_id
                    if message.is_topic_message
                    else None,
                )
            delay = TYPING_REFRESH_SECONDS

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        finished.set()
        # Not cancelled: a "typing" call in flight completes, so it never lands after the reply.
        await task


SOURCES = "sources"  # callback data prefix of the Sources button


def sources_button(key: str, part: str = "") -> InlineKeyboardMarkup:
    """The Sources button for stored sources `key` (`part`: an inline result's citation)."""
    data = callback_data(SOURCES, f"{key}:{part}" if part else key)
    return InlineKeyboardMarkup([[InlineKeyboardButton("Sources", callback_data=data)]])


def inline_results(
    answer: Answer, sources_key: str | None = None
) -> list[InlineQueryResultArticle]:
    """One result per citation, each the answer with that citation (and, given `sources_key`,
    a Sources button expanding that citation's full passage)."""
    if not answer.citations:
        why = uncited_abstention_reason(answer) or "Nothing in the articles comes close."
        return [inline_notice("The corpus does not say", why)]
    title = answer.answer if answer.answer else "The corpus does not say: closest passages"
    return [
        InlineQueryResultArticle(
            id=str(citation.rank),
            title=_shorten(title, 100),
            description=_shorten(
                f"[{citation.rank}] {citation.title}, paragraph {citation.paragraph}", 120
            ),
            input_message_content=InputTextMessageContent(render_inline(answer, citation)),
            reply_markup=sources_button(sources_key, str(citation.rank)) if sources_key else None,
        )
        for citation in answer.citations[:INLINE_RESULTS]
    ]


def inline_notice(title: str, text: str) -> InlineQueryResultArticle:
    """An inline result that only says `text`, e.g. why there is no answer."""
    return InlineQueryResultArticle(
        id="notice",
        title=title,
        description=text,
        input_message_content=InputTextMessageContent(text),
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
