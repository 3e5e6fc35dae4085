"""Conversations: a follow-up question read together with the turn before it, without an LLM.

`resolve(last_turn, typed)` decides whether the typed question stands alone or points back,
and if it points back builds the standalone question that is looked up:

- a pronoun or a description ("he", "its", "they", "the company") is replaced by the name it
  stands for, taken from the previous question, or from its answer when that question asked
  for the name ("Who runs Huawei's carrier business?" ... "what did he promise?");
- a bare question word ("by when?", "why?", "how much?") takes the rest of the previous
  question ("By when did Ryan Ding promise lawmakers?"; after "Who killed Qasem Soleimani?",
  "where?" is "Where was Qasem Soleimani killed?");
- "it" first stands for a name in the previous turn; when that reading finds no answer, it is
  read as the thing the previous question was about ("is it binding?" after a question on a
  parliament's vote: the vote);
- "and Germany?", "what about ZTE?", "and in Australia?" swap the new name into the previous
  question in place of the name of the same kind, or add it; after an overview ("what's the
  latest on Hong Kong?"), the new name is the new topic, and "what's the latest?" or "any
  news?" asks for the latest on the same topic;
- "tell me more", "go on", "what else?" ask for the sentences after the previous answer in its
  article (`bot/answering/more.py`), not for a new search;
- a short question with no name ("how much money?", "how many died?") is asked as typed, and
  when that finds no answer, again with the previous question's words (its overview topic);

and the previous answer's document and passage are preferred in retrieval (a score bonus, not
a restriction). A question that points nowhere back is looked up exactly as typed, with no
preference: a topic switch is answered as it would be alone.

The modules: `resolve.py` (the rules above), `names.py` (names and their kinds, for pronouns),
`turn.py` (what a turn keeps), `prefer.py` (the retrieval preference); here, a conversation's
state and its answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

from bot.answering import Answer
from bot.answering.checks import places_in
from bot.conversation.names import Name, asked_kind, names_in
from bot.conversation.prefer import (
    DOCUMENT_BONUS,
    NEIGHBOUR_BONUS,
    NEIGHBOUR_PARAGRAPHS,
    prefer_previous,
)
from bot.conversation.resolve import resolve
from bot.conversation.turn import REMEMBERED_NAMES, Preference, Resolution, Turn, turn_of
from bot.lexical import terms

__all__ = [
    "DOCUMENT_BONUS",
    "NEIGHBOUR_BONUS",
    "NEIGHBOUR_PARAGRAPHS",
    "REMEMBERED_NAMES",
    "Conversation",
    "ConversationAnswer",
    "Name",
    "Preference",
    "Resolution",
    "Turn",
    "answers_about",
    "asked_kind",
    "in_conversation",
    "names_in",
    "prefer_previous",
    "resolve",
    "turn_of",
]


@dataclass
class Conversation:
    """The state of one conversation: its last answered turn."""

    last: Turn | None = None

    def resolve(self, typed: str) -> Resolution:
        return resolve(self.last, typed)

    def remember(self, resolution: Resolution, answer: Answer, at: float | None = None) -> None:
        """Make this answer the one the next follow-up points back to."""
        self.last = turn_of(resolution, answer, time.time() if at is None else at, self.last)

    def reset(self) -> None:
        self.last = None


@dataclass(frozen=True)
class ConversationAnswer(Answer):
    """An answer given in a conversation: `question` is what was typed, and `looked_up` the
    standalone question used, when it differs."""

    looked_up: str | None = None

    def to_json(self) -> dict[str, Any]:
        """`newsbot ask --json`'s contract, plus `looked_up`: the question actually used."""
        data = super().to_json()
        data["looked_up"] = self.looked_up or self.question
        return data


def answers_about(answer: Answer, name: str | None) -> bool:
    """Whether `answer` found something (it did not abstain) about `name`, which its passage
    or its article's title mentions (any `name`, when None)."""
    if answer.abstained:
        return False
    if name is None:
        return True
    cited = answer.citations[0] if answer.citations else None
    context = f"{cited.title} {cited.text}" if cited else answer.answer or ""
    wanted = set(terms(name))
    if wanted and wanted <= set(terms(context)):
        return True
    places = places_in(name)
    return bool(places) and set(places) <= set(places_in(context))


def in_conversation(answer: Answer, typed: str, resolution: Resolution) -> ConversationAnswer:
    """`answer` as given to `typed` in a conversation."""
    values = {f.name: getattr(answer, f.name) for f in fields(Answer)}
    values["question"] = typed
    differs = resolution.looked_up != typed and resolution.kind != "more"
    return ConversationAnswer(**values, looked_up=resolution.looked_up if differs else None)
