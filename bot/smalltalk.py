"""Greetings, thanks, goodbyes and "ok"s typed into a chat: a short reply instead of a search.

A chat user says "hi" or "thanks!" as they would to a person; searching the news for "hi" and
answering "the corpus does not say", with three unrelated passages, reads as a broken bot. Only
a message that is nothing but small talk gets a reply: "hi, who is Ryan Ding?" is a question.
"""

from __future__ import annotations

import re

_SMALL_TALK = {
    "greeting": re.compile(
        r"(hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon|evening)|morning)"
        r"( there| all| everyone| newsbot| bot)?"
    ),
    "thanks": re.compile(
        r"(thanks?|thank (you|u)|thx|ty|cheers|much appreciated)"
        r"( (so|very) much| a lot| again| newsbot| bot)?"
        r"|(ok|okay|great|perfect|nice|cool|got it),? thanks?( you)?"
    ),
    "goodbye": re.compile(r"(bye|goodbye|bye bye|see (you|ya)( later)?|good ?night|farewell)"),
    # "ok" after an answer: searched, it would get three unrelated passages.
    "acknowledgement": re.compile(
        r"(ok|okay|k|kk|okey dokey|alright|all right|right|sure|fine|cool|great|nice|perfect"
        r"|got it|i see|understood|interesting|wow|hmm+|oh|ah|oh ok|ah ok|i see now)"
    ),
}
_NOT_WORDS = re.compile(r"[^\w\s']+")


def small_talk(message: str) -> str | None:
    """The kind of small talk `message` is ("greeting", "thanks", "goodbye", "acknowledgement"),
    None for anything else (a question, a command)."""
    plain = " ".join(_NOT_WORDS.sub(" ", message.lower()).split())
    return next((kind for kind, said in _SMALL_TALK.items() if said.fullmatch(plain)), None)


def reply_to(message: str, example: str | None = None) -> str | None:
    """What to say back to small talk (a greeting suggests `example`, a question the bot
    answers), None when `message` is not small talk."""
    kind = small_talk(message)
    if kind == "greeting":
        hint = f', e.g. "{example}"' if example else ""
        return f"Hello! Ask me a question about the news I have read{hint}."
    if kind == "thanks":
        return "You're welcome."
    if kind == "goodbye":
        return "Goodbye! Ask again any time."
    if kind == "acknowledgement":
        return 'Ask me another question, or say "tell me more" to read on.'
    return None
