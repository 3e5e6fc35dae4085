"""What the Telegram handlers share: settings, the index, the per-user limits, the store behind
Sources buttons, and example questions for /start."""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.engine import Newsbot
from bot.errors import QuestionError
from bot.lexical import STOPWORDS
from bot.telegram.conversations import ConversationStore
from bot.telegram.limits import QuestionLimiter
from bot.telegram.sources import SourcesStore

logger = logging.getLogger(__name__)
EXAMPLE_QUESTIONS = 3
# A suggested question must be answered at least this confidently: the first questions a user
# sees must work. Confidence is the reader's calibrated probability of being right, so 0.5
# means "more likely right than not" (`min_confidence`, the abstention threshold, is lower).
EXAMPLE_MIN_CONFIDENCE = 0.5
STATE_KEY = "newsbot"  # where the state lives in `application.bot_data`
# "Ryan Ding, president of ...": a name, then a role held somewhere ("coast of South Africa,
# network monitors said" is not one).
_PERSON_WITH_ROLE = re.compile(
    r"\b([A-Z][a-z]+ [A-Z][a-z]+), (?:the |a |an )?([a-z]+(?: [a-z]+)?) (?:of|at|for)\b"
)
_NAME_WITH_ACRONYM = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+){1,5}) \([A-Z]{2,8}\)")
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")


@dataclass
class BotState:
    """What the handlers share, kept in `application.bot_data`."""

    settings: Settings
    newsbot: Newsbot | None
    questions: QuestionLimiter
    inline_queries: QuestionLimiter
    sources: SourcesStore
    refused_chats: set[int] = field(default_factory=set)
    examples: tuple[str, list[str]] | None = None  # (index build, questions)
    examples_checking: str | None = None  # the build whose examples are being checked
    examples_lock: threading.Lock = field(default_factory=threading.Lock)
    conversations: ConversationStore | None = None
    examples_stop: threading.Event = field(default_factory=threading.Event)  # set at shutdown

    @property
    def bot(self) -> Newsbot:
        if self.newsbot is None:
            raise RuntimeError("the index is not loaded yet")
        return self.newsbot


LATEST_NEWS = "What's the latest news?"


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The shared state of the running bot."""
    return context.application.bot_data[STATE_KEY]


def example_questions(
    newsbot: Newsbot, limit: int = EXAMPLE_QUESTIONS, stop: threading.Event | None = None
) -> list[str]:
    """Up to `limit` questions the index answers confidently: the operator's `start_examples`
    when set (each still asked, and left out with a warning if it is not answered well), else
    questions about people and organisations found in the corpus."""
    configured = list(newsbot.settings.start_examples)
    candidates = configured or _candidate_questions(newsbot, limit)
    found: list[str] = []
    answers: set[str | None] = set()
    for question in candidates:
        if stop is not None and stop.is_set():  # the bot is stopping
            break
        try:
            answer = newsbot.ask(question)
        except QuestionError as error:
            logger.warning("start example %r left out: %s", question, error)
            continue
        if answer.abstained or answer.confidence < EXAMPLE_MIN_CONFIDENCE:
            if configured:
                logger.warning(
                    "start example %r left out: %s (confidence %.3f)",
                    question,
                    "abstained" if answer.abstained else "not answered confidently",
                    answer.confidence,
                )
            continue
        if answer.answer not in answers:
            found.append(question)
            answers.add(answer.answer)
            if len(found) == limit:
                break
    return found


def _candidate_questions(newsbot: Newsbot, limit: int) -> list[str]:
    """ "What's the latest news?" when the articles have dates, then questions about the
    corpus's people and organisations, the most mentioned first."""
    # (kind, question) -> mentions; people named with a role ("Ryan Ding, president of") first,
    # then organisations spelled out with their acronym, then bare acronyms.
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for document in newsbot.documents:
        body = document.text
        for name, role in _PERSON_WITH_ROLE.findall(body):
            if not {name.split()[0].lower(), role.split()[0]} & STOPWORDS:
                counts[(0, f"Who is {name}?")] += 1
        for name in _NAME_WITH_ACRONYM.findall(body):
            counts[(1, f"What is the {name}?")] += 1
        for acronym in _ACRONYM.findall(body):
            counts[(2, f"What is the {acronym}?")] += 1
    ranked = sorted(counts, key=lambda k: (k[0], -counts[k], k[1]))
    questions = [question for _, question in ranked[: 4 * limit]]
    dated = sum(bool(document.published) for document in newsbot.documents)
    # With news from several days, an overview shows what the bot holds best of all.
    return ([LATEST_NEWS] if dated > 1 else []) + questions


def current_examples(state: BotState) -> list[str]:
    """Example questions for the serving index, never waited for: they are checked (each one
    asked) once per build in a background thread, started at start-up and after a rebuild;
    until that is done there are none, so /start always replies at once."""
    state.bot.reload_if_rebuilt()
    build = str(state.bot.manifest.get("build"))
    with state.examples_lock:
        if state.examples is not None and state.examples[0] == build:
            return state.examples[1]
        if state.examples_checking != build:
            state.examples_checking = build
            # Not a daemon: native code must not run on while the interpreter exits; it stops
            # between two questions once `examples_stop` is set.
            threading.Thread(
                target=_check_examples, args=(state, build), name="newsbot-examples"
            ).start()
    return []


def _check_examples(state: BotState, build: str) -> None:
    try:
        found = example_questions(state.bot, stop=state.examples_stop)
    except Exception:  # the examples are a courtesy: never let them break /start
        logger.exception("could not check the /start example questions")
        found = []
    with state.examples_lock:
        state.examples = (build, found)
        if state.examples_checking == build:
            state.examples_checking = None
