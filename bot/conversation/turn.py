"""A conversation's turn (what a follow-up may point back to) and a follow-up's resolution
(what it is looked up as, and why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from bot.conversation.names import Name, asked_kind, turn_names

if TYPE_CHECKING:
    from bot.answering import Answer

# How many names a conversation remembers it is about (the user's most recent).
REMEMBERED_NAMES = 5


@dataclass(frozen=True)
class Turn:
    """What a follow-up may point back to: the question looked up and what answered it."""

    question: str  # the standalone question that was looked up
    answer: str | None  # the answer sentence (None: abstained)
    doc_id: str | None = None  # the answer's document
    paragraph: int | None = None  # ... and paragraph
    at: float = 0.0  # when it was asked (time.time())
    end: int | None = None  # where the answer ends in its document (for "tell me more")
    confidence: float = 0.0  # the answer's
    # Who and what the user has been asking about, most recent first: the names of this and
    # the turns before it, for a pronoun whose name the last turn does not give.
    names: tuple[Name, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn | None:
        """The turn stored as `data`, or None if it is not one (a store from another version)."""
        known = {f.name for f in fields(cls)}
        try:
            values = {k: v for k, v in data.items() if k in known}
            values["names"] = tuple(Name(**name) for name in values.get("names", ()))
            return cls(**values)
        except TypeError:
            return None


@dataclass(frozen=True)
class Preference:
    """Where the previous answer came from, to be preferred in retrieval."""

    doc_id: str
    paragraph: int | None


@dataclass(frozen=True)
class Resolution:
    """What to look up for a typed question, and why."""

    looked_up: str
    kind: str  # "first", "standalone", "pronoun", "ellipsis", "and-x" or "more"
    prefer: Preference | None = None
    # Another reading, asked when this one finds no answer: "it" as the thing the last
    # question was about rather than a name in it ("What did the Iraqi parliament vote on?"
    # ... "is it binding?": not the parliament, the vote).
    alternative: str | None = None
    alternative_prefer: Preference | None = None  # ... its preference, when this one has none
    # The question as typed, asked last when no reading finds an answer: a pointer read wrong
    # ("who sued him over the emergency?" after a question naming no one) costs no answer
    # that the question alone would have found.
    as_typed: str | None = None
    # What the answer must be about for this reading to count as found: the name "and X?"
    # swapped in ("and Brexit?" after a question on Soleimani is not answered about him).
    about: str | None = None

    @property
    def carried(self) -> bool:
        """Whether the previous turn shaped the lookup."""
        return self.kind not in ("first", "standalone")

    @property
    def readings(self) -> list[Resolution]:
        """The readings to try in turn until one finds an answer: this one, then the
        alternative if there is one, then the question as typed if it differs."""
        found = [replace(self, as_typed=None)]
        if self.alternative is not None:
            prefer = self.alternative_prefer or self.prefer
            found.append(
                replace(found[0], looked_up=self.alternative, alternative=None, prefer=prefer)
            )
        if self.as_typed is not None and self.as_typed not in (r.looked_up for r in found):
            found.append(replace(found[0], looked_up=self.as_typed, alternative=None, about=None))
        return found


def turn_of(resolution: Resolution, answer: Answer, at: float, before: Turn | None = None) -> Turn:
    """The turn a follow-up of this answer points back to (`before`: the turn before it)."""
    cited = answer.citations[0] if answer.citations and not answer.abstained else None
    return Turn(
        question=resolution.looked_up,
        answer=answer.answer,
        doc_id=cited.doc_id if cited else None,
        paragraph=cited.paragraph if cited else None,
        at=at,
        end=cited.start + cited.highlight[1] if cited and cited.highlight else None,
        confidence=answer.confidence,
        names=_names_kept(resolution.looked_up, answer.answer, before),
    )


def _names_kept(question: str, answer: str | None, before: Turn | None) -> tuple[Name, ...]:
    """The names a conversation is about after `question` got `answer`: those the question
    names (as the answer writes them), the one the answer gave when the question asked for a
    name ("Who won?"), those of the turns before, then the first person the answer names; at
    most REMEMBERED_NAMES."""
    found = turn_names(question, answer, before.names if before is not None else ())
    names = list(found.asked)
    supplied = asked_kind(question)
    if supplied is not None:
        names += [n for n in found.answered if n.kind == supplied][:1]
    # Whom the answer is about comes after whom the user asked about: "so was he removed?"
    # after an answer quoting a spokesperson on the president's impeachment.
    about = [n for n in found.answered if n.kind == "person"][:1]
    kept: dict[str, Name] = {}
    for name in [*names, *found.earlier, *about]:
        kept.setdefault(name.text.lower(), name)
    return tuple(kept.values())[:REMEMBERED_NAMES]
