"""What the Telegram handlers share: settings, the index, the per-user limits, the answers
behind Sources buttons, and example questions for /start."""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.answering import Answer
from bot.config import Settings
from bot.engine import Newsbot
from bot.lexical import STOPWORDS
from bot.telegram.limits import QuestionLimiter

ANSWER_CACHE_SIZE = 2000
EXAMPLE_QUESTIONS = 3
STATE_KEY = "newsbot"  # where the state lives in `application.bot_data`
_PERSON_WITH_ROLE = re.compile(r"\b([A-Z][a-z]+ [A-Z][a-z]+), (?:the |a |an )?([a-z]+)")
_NAME_WITH_ACRONYM = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+){1,5}) \([A-Z]{2,8}\)")
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")


class AnswerCache:
    """Recent answers by a short random key: what the Sources button expands."""

    def __init__(self, capacity: int = ANSWER_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def put(self, answer: Answer) -> str:
        """Keep `answer`; returns its key (12 URL-safe characters)."""
        key = secrets.token_urlsafe(9)
        self._answers[key] = answer
        while len(self._answers) > self.capacity:
            self._answers.popitem(last=False)
        return key

    def pop(self, key: str) -> Answer | None:
        """The answer under `key`, once; None if unknown or evicted."""
        return self._answers.pop(key, None)


@dataclass
class BotState:
    """What the handlers share, kept in `application.bot_data`."""

    settings: Settings
    newsbot: Newsbot | None
    questions: QuestionLimiter
    inline_queries: QuestionLimiter
    answers: AnswerCache = field(default_factory=AnswerCache)
    refused_chats: set[int] = field(default_factory=set)
    examples: tuple[str, list[str]] | None = None  # (index build, questions)

    @property
    def bot(self) -> Newsbot:
        if self.newsbot is None:
            raise RuntimeError("the index is not loaded yet")
        return self.newsbot


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The shared state of the running bot."""
    return context.application.bot_data[STATE_KEY]


def example_questions(newsbot: Newsbot, limit: int = EXAMPLE_QUESTIONS) -> list[str]:
    """Questions about people and organisations in the corpus that the index actually answers."""
    # (kind, question) -> mentions; people named with a role ("Ryan Ding, president of") first,
    # then organisations spelled out with their acronym, then bare acronyms.
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for document in newsbot.documents:
        body = document.text
        for name, role in _PERSON_WITH_ROLE.findall(body):
            if not {name.split()[0].lower(), role} & STOPWORDS:
                counts[(0, f"Who is {name}?")] += 1
        for name in _NAME_WITH_ACRONYM.findall(body):
            counts[(1, f"What is the {name}?")] += 1
        for acronym in _ACRONYM.findall(body):
            counts[(2, f"What is the {acronym}?")] += 1
    found: list[str] = []
    answers: set[str | None] = set()
    for _, question in sorted(counts, key=lambda k: (k[0], -counts[k], k[1]))[: 4 * limit]:
        answer = newsbot.ask(question)
        if not answer.abstained and answer.answer not in answers:
            found.append(question)
            answers.add(answer.answer)
            if len(found) == limit:
                break
    return found


def current_examples(state: BotState) -> list[str]:
    """Example questions for the serving index, computed once per build."""
    state.bot.reload_if_rebuilt()
    build = str(state.bot.manifest.get("build"))
    if state.examples is None or state.examples[0] != build:
        state.examples = (build, example_questions(state.bot))
    return state.examples[1]
