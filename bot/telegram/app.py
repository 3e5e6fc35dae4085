"""The Telegram front end: long polling over the same index as the CLI.

Private chats: any text is a question. Groups: commands, replies to the bot and messages that
@mention it. Inline mode: `@botname question` anywhere. Retrieval runs in worker threads, so a
slow question never stalls other chats; updates of one chat are handled one at a time, so its
replies stay in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from telegram import (
    BotCommand,
    InlineQueryResultArticle,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.answering import Answer
from bot.answering.answer import NO_PASSAGE
from bot.citations import passages_hold, recorded_passages
from bot.config import Settings
from bot.engine import Newsbot
from bot.errors import ConfigError, Interrupted, NewsbotError, QuestionError
from bot.filters import SearchFilter, parse_filter_command
from bot.smalltalk import reply_to
from bot.telegram.conversations import FILE_NAME as CONVERSATIONS_FILE
from bot.telegram.conversations import (
    ConversationStore,
    answer_replied_to,
    conversation_thread,
)
from bot.telegram.deadline import (
    AnswerTimeout,
    abandon_answers,
    answer_in_thread,
    join_answers,
)
from bot.telegram.format import render_answer, render_sources
from bot.telegram.limits import (
    Abandoned,
    ChatOrderedUpdateProcessor,
    FloodLimiter,
    QuestionLimiter,
)
from bot.telegram.messages import (
    ADDRESSED_TO_BOT,
    INLINE_RESULTS,
    SOURCES,
    inline_notice,
    inline_results,
    question_problem,
    sources_button,
    strip_mentions,
    typing,
)
from bot.telegram.refresh import schedule_refresh
from bot.telegram.request import BotApiRequest, UnexpectedReply
from bot.telegram.sources import ALL, SourcesStore
from bot.telegram.sources import FILE_NAME as SOURCES_FILE
from bot.telegram.state import STATE_KEY, BotState, current_examples, state_of
from bot.telegram.token import check_token, redacted_logs, scrub

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and the URL carries the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,  # a question corrected after it was sent is answered again
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]
COMMANDS = [
    BotCommand("ask", "Ask a question about the news articles"),
    BotCommand("new", "Start a new conversation"),
    BotCommand("about", "What is indexed"),
    BotCommand("filter", "Answer only from articles of some dates or an outlet"),
    BotCommand("help", "How to ask"),
    BotCommand("start", "Introduction and example questions"),
]
LONG_POLL_SECONDS = 20
FLOOD_RETRIES = 3  # times AIORateLimiter retries a call Telegram answered with 429
INLINE_CACHE_SECONDS = 10
INLINE_QUERIES_PER_QUESTION = 5  # inline queries arrive as the user types
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_WAIT_SECONDS = 3.0  # at exit, for answers still being computed (a hung one is left)
# How python-telegram-bot logs its last getUpdates failing at a stop (_last_poll_in_one_line).
LAST_POLL_FAILED = "Error while calling `get_updates` one more time"

APOLOGY = "Sorry, something went wrong while answering that. Please try again in a moment."
SOURCES_CHANGED = "Those passages changed in their files since this answer; ask again."
TOO_SLOW = "Sorry, that question took too long to answer. Please try again later."
REFUSAL = (
    "Sorry, this bot only answers in chats its operator has allowed. "
    "Ask them to add this chat (id <code>{chat_id}</code>) to NEWSBOT_ALLOWED_CHATS."
)
TEXT_ONLY = "I read only text: type your question (a photo's caption is read as one)."
SLOW_DOWN = (
    "You are asking faster than I can answer fairly: at most {limit} questions a minute. "
    "Please try again in {seconds} s."
)
NEW_MESSAGES = filters.UpdateType.MESSAGE
QUESTIONS = filters.UpdateType.MESSAGES  # new and edited: an edited question is asked anew


async def gatekeeper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from chats outside NEWSBOT_ALLOWED_CHATS, with one polite refusal per chat."""
    allowed = state_of(context).settings.allowed_chats
    if not allowed:
        return
    chat = update.effective_chat
    if chat is None:
        # Inline queries, and buttons under inline messages: no chat, so the user must be listed.
        user = update.effective_user
        if user is None or user.id not in allowed:
            raise ApplicationHandlerStop
        return
    if chat.id in allowed:
        return
    refused = state_of(context).refused_chats
    if update.message is not None and chat.id not in refused:
        refused.add(chat.id)
        logger.info("refused chat %s (not in allowed_chats)", chat.id)
        await update.message.reply_text(REFUSAL.format(chat_id=chat.id))
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, and suggest questions the index can answer."""
    state = state_of(context)
    examples = await asyncio.to_thread(current_examples, state)
    count = state.bot.manifest["counts"]["documents"]
    lines = [
        f"Hi! I answer questions about {count} news article{'s' if count != 1 else ''}, "
        "quoting the sentence that answers and citing where it comes from. "
        "If the articles do not say, I tell you so.",
    ]
    if examples:
        lines += ["", "Try:"] + [f"• <code>{html.escape(q)}</code>" for q in examples]
    lines += ["", "/help shows how to ask in groups and inline."]
    await update.effective_message.reply_text("\n".join(lines))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and the ways to ask."""
    username = html.escape(context.bot.username)
    await update.effective_message.reply_text(
        "<b>Commands</b>\n"
        "/ask QUESTION: answer a question (works everywhere)\n"
        "/new: start a new conversation\n"
        "/about: what is indexed\n"
        "/filter since YYYY-MM-DD until YYYY-MM-DD source NAME: answer in this chat only from "
        "those articles (any of the three; kept until changed, and in a private chat it also "
        "applies to your inline questions); <code>/filter off</code> clears it, "
        "<code>/filter</code> shows it\n"
        "/start: introduction and example questions\n"
        "/help: this message\n\n"
        "<b>Asking</b>\n"
        "In a private chat, just type your question. "
        f"In groups, use /ask, mention @{username} or reply to one of my messages. "
        f"In any chat, type <code>@{username} your question</code> for inline answers.\n\n"
        "Every answer is a sentence copied from an article, with numbered citations; "
        "the Sources button shows the full passages. For a story rather than a fact, ask "
        "<i>what's the latest on Hong Kong?</i> or <i>tell me about the election</i>: the "
        "answer is the lead of the article, the other articles on it cited with their dates.\n\n"
        "<b>Follow-ups</b>\n"
        "Ask on as you would a person (<i>what did he promise?</i>, <i>and Germany?</i>, "
        "<i>by when?</i>): a follow-up is read with the question before it, and the answer "
        "says what was looked up. <i>Tell me more</i> goes on with the answer's article. "
        "In groups, reply to my answer to follow up. /new starts afresh."
    )


async def filter_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set, show or clear the chat's filter (dates, outlet) for the questions that follow."""
    chat_id = update.effective_chat.id
    current = chat_filter(context, chat_id)
    try:
        chosen = parse_filter_command(" ".join(context.args or []), current)
    except ConfigError as error:
        await update.effective_message.reply_text(html.escape(f"Sorry: {error}"))
        return
    conversations = state_of(context).conversations
    if conversations is not None:
        await asyncio.to_thread(conversations.set_filter, chat_id, chosen)
    await update.effective_message.reply_text(
        f"Answering only from {html.escape(chosen.articles())}. <code>/filter off</code> clears it."
        if chosen.active
        else "No filter: answering from every article."
    )


def blaming_the_filter(answer: Answer, search_filter: SearchFilter) -> Answer:
    """`answer`, saying that the filter left nothing to search when that is why it abstained
    (otherwise it would read as if nothing in the corpus came close)."""
    if not search_filter.active or answer.abstain_reason != NO_PASSAGE:
        return answer
    reason = f"no article matches the filter ({search_filter.describe()}); /filter off clears it"
    return replace(answer, abstain_reason=reason)


def chat_filter(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> SearchFilter:
    """The /filter set in a chat (kept across restarts); for inline queries, the one the user
    set in their private chat with the bot (its id is theirs)."""
    conversations = state_of(context).conversations
    return conversations.filter_of(chat_id) if conversations is not None else SearchFilter()


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what is indexed: documents, chunks, when it was built."""
    newsbot = state_of(context).bot
    await asyncio.to_thread(newsbot.reload_if_rebuilt)
    manifest = newsbot.manifest
    counts = manifest["counts"]
    await update.effective_message.reply_text(
        f"<b>Indexed</b>: {counts['documents']} documents, {counts['chunks']} passages "
        f"({counts['sentences']} sentences)\n"
        f"<b>Built at</b>: {html.escape(str(manifest['built_at']))}\n"
        f"<b>Model</b>: {html.escape(str(manifest['model']))}"
    )


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `/ask QUESTION`."""
    question = " ".join(context.args or [])
    if not question.strip():
        await update.effective_message.reply_text(
            "Put the question after the command, e.g. <code>/ask Who is the CEO?</code>"
        )
        return
    await answer_in_chat(update, context, question)


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer any text sent in a private chat."""
    await answer_in_chat(update, context, update.effective_message.text or "")


async def private_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private chat's photo or file with a caption: the caption is the question; a sticker,
    a voice message or a photo alone: say that questions are typed."""
    message = update.effective_message
    if message.caption:
        await answer_in_chat(update, context, message.caption)
        return
    await message.reply_text(TEXT_ONLY)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help when a private chat uses a command the bot does not have."""
    await update.effective_message.reply_text("I do not know that command; /help lists mine.")


async def group_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a group message addressed to the bot, without the @mention."""
    question = strip_mentions(update.effective_message)
    if not question.strip():
        await update.effective_message.reply_text(
            "Yes? Ask me a question, e.g. <code>/ask Who is the CEO?</code>"
        )
        return
    await answer_in_chat(update, context, question)


async def new_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/new`: end the conversation (a private chat's, or the reply thread's in a group)."""
    message = update.effective_message
    conversations = state_of(context).conversations
    thread = conversation_thread(message, conversations, continuing_only=True)
    if conversations is not None and thread is not None:
        conversations.forget(message.chat_id, thread)
    await message.reply_text("New conversation: your next question starts afresh.")


async def answer_in_chat(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Check the user's limit and the question, answer it off the event loop as the next turn
    of its conversation, and reply."""
    state = state_of(context)
    message = update.effective_message
    user = update.effective_user
    verdict = state.questions.check(user.id if user else message.chat_id)
    if not verdict.allowed:
        if verdict.notify:
            await message.reply_text(
                SLOW_DOWN.format(
                    limit=state.questions.per_minute, seconds=max(1, round(verdict.retry_in))
                )
            )
        return
    if problem := question_problem(question, state.settings.max_question_chars):
        await message.reply_text(problem)
        return
    example = state.examples[1][0] if state.examples and state.examples[1] else None
    if (reply := reply_to(question, example)) is not None:  # "hi", "thanks!"
        await message.reply_text(html.escape(reply))
        return
    conversations = state.conversations
    thread = conversation_thread(message, conversations)
    conversation = (
        conversations.load(message.chat_id, thread, replying_to=answer_replied_to(message))
        if conversations is not None
        else None
    )
    try:
        async with typing(message):
            search_filter = chat_filter(context, message.chat_id)
            if conversation is None:
                answer = await answer_in_thread(
                    state.bot.ask, question, search_filter=search_filter
                )
            else:
                answer = await answer_in_thread(
                    state.bot.ask_in, conversation, question, search_filter=search_filter
                )
    except QuestionError as error:
        await message.reply_text(html.escape(f"Sorry: {error}"))
        return
    except AnswerTimeout:
        logger.warning(
            "a question in chat %s took too long; its answer was given up", message.chat_id
        )
        await message.reply_text(TOO_SLOW)
        return
    sent = await send_answer(message, state, blaming_the_filter(answer, search_filter))
    if conversations is not None and conversation is not None and thread is not None:
        conversations.save(message.chat_id, thread, conversation, [m.message_id for m in sent])


async def send_answer(message: Message, state: BotState, answer: Answer) -> list[Message]:
    """Reply with the rendered answer; the last message carries the Sources button. Returns
    the messages sent."""
    parts = render_answer(answer)
    markup = None
    if answer.citations:
        user = message.from_user
        key = state.sources.put(
            {ALL: render_sources(answer)},
            chat_id=message.chat.id,
            user_id=user.id if user else None,
            checks={ALL: recorded_passages(answer.citations)},
        )
        markup = sources_button(key)
    # In groups, and for an edited question (which may be far up the chat), the answer quotes it.
    quote = message.chat.type != ChatType.PRIVATE or message.edit_date is not None
    sent = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        sent.append(
            await message.reply_text(
                part, do_quote=quote and i == 0, reply_markup=markup if last else None
            )
        )
    return sent


async def show_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Expand an answer into its full cited passages (the Sources button)."""
    query = update.callback_query
    key, _, part = (query.data or "").removeprefix(f"{SOURCES}:").partition(":")
    sources = state_of(context).sources
    found = sources.get(key)
    # A key works only in the chat it was made for (an inline result's, in any chat).
    if (
        found is not None
        and found.chat_id is not None
        and (query.message is None or query.message.chat.id != found.chat_id)
    ):
        found = None
    parts = found.parts.get(part) if found is not None else None
    if not parts:
        await query.answer("Those sources were already shown or have expired; ask again.")
        return
    checks = found.checks.get(part)
    if checks and not await asyncio.to_thread(passages_hold, checks):  # re-read, as answers are
        sources.forget(key)
        await query.answer(SOURCES_CHANGED, show_alert=True)
        return
    if found.chat_id is not None:
        sources.forget(key)  # its message loses the button; an inline result may be sent again
    await query.answer()
    try:
        await query.edit_message_text(parts[0], reply_markup=None)
        rest = parts[1:]
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return
        if query.message is None:
            raise
        rest = parts  # the message can no longer be edited: send the passages anew
    if query.message is not None:
        for part_text in rest:
            await context.bot.send_message(query.message.chat.id, part_text)


async def inline_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `@botname question` in any chat with up to five cited results."""
    state = state_of(context)
    query = update.inline_query
    question = " ".join(query.query.split())
    results: list[InlineQueryResultArticle] = []
    if question and reply_to(question) is None:  # "hi", "ok": nothing to offer, as for ""
        verdict = state.inline_queries.check(query.from_user.id)
        if not verdict.allowed:
            results = [
                inline_notice(
                    "Slow down",
                    SLOW_DOWN.format(
                        limit=state.inline_queries.per_minute,
                        seconds=max(1, round(verdict.retry_in)),
                    ),
                )
            ]
        elif problem := question_problem(question, state.settings.max_question_chars):
            results = [inline_notice("Cannot ask that", problem)]
        else:
            try:
                search_filter = chat_filter(context, query.from_user.id)
                answer = blaming_the_filter(
                    await answer_in_thread(
                        state.bot.ask, question, top_k=INLINE_RESULTS, search_filter=search_filter
                    ),
                    search_filter,
                )
            except QuestionError as error:  # e.g. nothing to look up in "?"
                answer = None
                results = [inline_notice("Cannot ask that", f"Sorry: {error}")]
            except AnswerTimeout:
                answer = None
                results = [inline_notice("Took too long", TOO_SLOW)]
            key = None
            if answer and answer.citations:
                # One stored entry per answer; each result expands into its own passage.
                key = state.sources.put(
                    {
                        str(c.rank): render_sources(replace(answer, citations=[c]))[:1]
                        for c in answer.citations[:INLINE_RESULTS]
                    },
                    chat_id=None,
                    user_id=query.from_user.id,
                    checks={
                        str(c.rank): recorded_passages([c])
                        for c in answer.citations[:INLINE_RESULTS]
                    },
                )
            if answer:
                results = inline_results(answer, sources_key=key)
    try:
        # Personal: answers depend on the user's /filter, so Telegram must not share them.
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)
    except BadRequest as error:
        if "query is too old" not in str(error).lower():
            raise
        logger.info("inline query %s expired before it was answered", query.id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update (token scrubbed), apologise in its chat, and keep running."""
    error = context.error
    token = context.bot.token
    if isinstance(error, Abandoned):
        return  # counted and logged once at shutdown
    if isinstance(error, RetryAfter):
        logger.warning("flood limit still hit after %d retries: %s", FLOOD_RETRIES, error)
        return
    logger.error(
        "update %s failed: %s",
        update.update_id if isinstance(update, Update) else "-",
        scrub(f"{type(error).__name__}: {error}", token),
        # Telegram's refusals are explained by their message; anything else is a bug to trace.
        exc_info=None if isinstance(error, TelegramError) else error,
    )
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, APOLOGY)
    except TelegramError as failure:
        logger.warning("could not apologise in chat %s: %s", chat.id, scrub(str(failure), token))


def open_newsbot(settings: Settings) -> Newsbot:
    """Load the index (building it when there is none yet) and warn if the corpus changed."""
    newsbot = Newsbot.open(settings, build_if_missing=True)
    newsbot.embedder  # noqa: B018 -- load the model now, not under the first questions
    if warning := newsbot.staleness_warning():
        logger.warning("%s", warning)
    return newsbot


async def _post_init(application: Application) -> None:
    """Load the index once the token is known to work, and register the commands."""
    state: BotState = application.bot_data[STATE_KEY]
    if state.newsbot is None:
        state.newsbot = await asyncio.to_thread(open_newsbot, state.settings)
    await asyncio.to_thread(current_examples, state)  # checked in the background from now on
    try:
        await application.bot.set_my_commands(COMMANDS)
    except TelegramError as error:  # the menu is a convenience: say so in one line, go on
        logger.warning(
            "could not register the command menu: %s",
            scrub(f"{type(error).__name__}: {error}", application.bot.token),
        )
    logger.info(
        "@%s answers from %d document(s)",
        application.bot.username,
        state.bot.manifest["counts"]["documents"],
    )


def build_application(
    token: str,
    settings: Settings,
    *,
    newsbot: Newsbot | None = None,
    base_url: str | None = None,
    flood_limits: bool = True,
) -> Application:
    """The bot, wired: handlers, HTML defaults, Telegram's flood limits, per-chat ordering.

    Without `newsbot`, the index is opened after the token has been checked (in post_init).
    `flood_limits=False` drops the pacing to Telegram's limits (only for a local test server).
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .concurrent_updates(ChatOrderedUpdateProcessor())
        .post_init(_post_init)
        # python-telegram-bot's own pool sizes: 256 for calls, 1 for the long poll.
        .request(BotApiRequest(connection_pool_size=256))
        .get_updates_request(BotApiRequest(connection_pool_size=1))
    )
    if flood_limits:
        builder = builder.rate_limiter(FloodLimiter(max_retries=FLOOD_RETRIES))
    if base_url is not None:
        builder = builder.base_url(api_base_url(base_url))
    application = builder.build()
    per_minute = settings.user_questions_per_minute
    application.bot_data[STATE_KEY] = BotState(
        settings=settings,
        newsbot=newsbot,
        questions=QuestionLimiter(per_minute),
        inline_queries=QuestionLimiter(per_minute * INLINE_QUERIES_PER_QUESTION),
        sources=SourcesStore(settings.index_dir / SOURCES_FILE),
        conversations=ConversationStore(
            settings.index_dir / CONVERSATIONS_FILE, max_age=settings.conversation_minutes * 60
        ),
    )
    application.add_handler(TypeHandler(Update, gatekeeper), group=-1)
    application.add_handler(CommandHandler("start", start, filters=NEW_MESSAGES))
    application.add_handler(CommandHandler("help", help_command, filters=NEW_MESSAGES))
    application.add_handler(CommandHandler("about", about, filters=NEW_MESSAGES))
    application.add_handler(CommandHandler("filter", filter_command, filters=NEW_MESSAGES))
    application.add_handler(CommandHandler("ask", ask_command, filters=QUESTIONS))
    application.add_handler(CommandHandler("new", new_conversation, filters=NEW_MESSAGES))
    text = QUESTIONS & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, private_question))
    application.add_handler(
        MessageHandler(NEW_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE, unknown_command)
    )
    not_text = NEW_MESSAGES & ~filters.TEXT & ~filters.StatusUpdate.ALL & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(not_text, private_not_text))
    application.add_handler(
        MessageHandler(text & filters.ChatType.GROUPS & ADDRESSED_TO_BOT, group_question)
    )
    application.add_handler(CallbackQueryHandler(show_sources, pattern=f"^{SOURCES}:"))
    application.add_handler(InlineQueryHandler(inline_answer))
    application.add_error_handler(on_error)
    schedule_refresh(application, settings)
    return application


def api_base_url(url: str) -> str:
    """python-telegram-bot's `base_url` (`http://host:port/bot`) from a server address."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--api-base-url must start with http:// or https://, not {url!r}")
    return url if url.endswith("/bot") else f"{url}/bot"


async def _connect(application: Application) -> None:
    """Check the token and the server with getMe, before anything heavy is loaded. The bot
    stays initialised, so run_polling does not ask again."""
    try:
        await application.bot.initialize()
    except (KeyError, TypeError, ValueError) as error:  # python-telegram-bot reading the bot user
        raise UnexpectedReply("getMe did not return a bot user") from error


@dataclass
class StartUp:
    """What the bot is doing until it polls, and the stop signal that came meanwhile."""

    doing: str
    stopped_by: int | None = None
    over: bool = False  # the bot has polled: a stop signal now stops it the ordinary way

    def interrupted(self) -> Interrupted:
        """The one line saying the bot was stopped before it started."""
        assert self.stopped_by is not None
        how = (
            "interrupted"
            if self.stopped_by == signal.SIGINT
            else f"stopped by {signal.Signals(self.stopped_by).name}"
        )
        return Interrupted(f"{how} while {self.doing}; the bot did not start", self.stopped_by)


def run_bot(
    token: str,
    settings: Settings,
    *,
    base_url: str | None = None,
    newsbot: Newsbot | None = None,
    stop_signals: Sequence[int] | None = STOP_SIGNALS,
) -> None:
    """Answer on Telegram until SIGINT or SIGTERM (`stop_signals`; None outside the main thread).

    A rejected token or an unreachable server is a one-line NewsbotError; a stop signal before
    the bot polls (while it connects or loads the index) is `Interrupted`."""
    token = check_token(token)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # which CPU build it picked
    server = base_url or "https://api.telegram.org"
    with redacted_logs(token), _last_poll_in_one_line(server, token):
        application = build_application(token, settings, newsbot=newsbot, base_url=base_url)
        start_up = StartUp(doing=f"connecting to the Bot API server at {server}")
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # run_polling goes on with (and closes) this loop
        if stop_signals:
            for number in stop_signals:
                loop.add_signal_handler(number, _on_stop_signal, application, start_up, number)
        try:
            loop.run_until_complete(_connect(application))
        except TelegramError as error:
            loop.close()
            raise _start_up_error(error, server, token) from None
        except asyncio.CancelledError:  # a stop signal (see _on_stop_signal)
            loop.close()
            raise start_up.interrupted() from None
        start_up.doing = f"starting (loading the index, then polling {server})"
        try:
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=LONG_POLL_SECONDS, stop_signals=None
            )
            join_answers(EXIT_WAIT_SECONDS)
        except TelegramError as error:
            raise NewsbotError(
                "the Telegram bot stopped: " + scrub(f"{type(error).__name__}: {error}", token)
            ) from None
        except asyncio.CancelledError:  # run_polling has shut the bot down and closed the loop
            if start_up.stopped_by is None:
                raise
            raise start_up.interrupted() from None


class _LastPollInOneLine(logging.Filter):
    """See `_last_poll_in_one_line`."""

    def __init__(self, server: str, token: str) -> None:
        super().__init__()
        self.server, self.token = server, token

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not str(record.msg).startswith(LAST_POLL_FAILED):
            return True
        record.msg = (
            "could not tell the Bot API server at %s which updates were handled (%s); "
            "they may come again at the next start"
        )
        record.args = (self.server, scrub(f"{type(error).__name__}: {error}", self.token))
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


@contextlib.contextmanager
def _last_poll_in_one_line(server: str, token: str) -> Iterator[None]:
    """At a stop, python-telegram-bot calls getUpdates once more to tell the server which
    updates were handled. A slow or vanished server fails it, and the failure was logged as an
    error with a traceback of some 90 lines, though the bot stops as asked all the same: while
    this is active, it is one warning line."""
    updater_log = logging.getLogger("telegram.ext.Updater")
    one_line = _LastPollInOneLine(server, token)
    updater_log.addFilter(one_line)
    try:
        yield
    finally:
        updater_log.removeFilter(one_line)


def _start_up_error(error: TelegramError, server: str, token: str) -> NewsbotError:
    """One line saying why the bot could not start with the server at `server`."""
    if isinstance(error, InvalidToken):
        return ConfigError(
            f"the Bot API server at {server} rejected the token; "
            "check TELEGRAM_BOT_TOKEN or --token-file"
        )
    if isinstance(error, UnexpectedReply):
        return NewsbotError(f"the Bot API server at {server} gave an unexpected reply")
    said = " ".join(scrub(str(error), token).split())
    if isinstance(error, NetworkError):
        return NewsbotError(f"cannot reach the Bot API server at {server}: {said}")
    return NewsbotError(f"the Bot API server at {server} refused to start the bot: {said}")


def _on_stop_signal(application: Application, start_up: StartUp, number: int) -> None:
    """On SIGINT or SIGTERM: a polling bot stops the ordinary way (`_stop_soon`). Before that,
    whatever start-up step is under way (getMe with a slow server, loading the index,
    deleteWebhook) is cancelled, and run_bot reports `Interrupted` in one line: python-telegram-
    bot's own stop would wait for the step to end, and log its failure at length."""
    if application.running or start_up.over:
        start_up.over = True
        _stop_soon(application)
        return
    start_up.stopped_by = number
    application.bot_data[STATE_KEY].examples_stop.set()
    for task in asyncio.all_tasks():
        task.cancel()


def _stop_soon(application: Application) -> None:
    """On SIGINT or SIGTERM: abandon replies still waiting for Telegram's flood limits (a busy
    group drains at 20 messages a minute), so the bot exits within seconds, then stop."""
    limiter = application.bot.rate_limiter
    if isinstance(limiter, FloodLimiter):
        limiter.abandon()
    processor = application.update_processor
    if isinstance(processor, ChatOrderedUpdateProcessor):
        processor.abandon()
    abandon_answers()  # a question still being answered never holds up the exit
    application.bot_data[STATE_KEY].examples_stop.set()
    application.stop_running()
