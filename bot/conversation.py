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
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.answering import Answer
from bot.answering.more import asks_for_more
from bot.answering.overview import asked_overview
from bot.lexical import STOPWORDS, terms
from bot.names import place_words

if TYPE_CHECKING:
    from bot.filters import SearchFilter
    from bot.query import Query
    from bot.retrieval import Hit, Retriever

_GIVEN_NAMES_FILE = Path(__file__).resolve().parent / "data" / "given_names.txt"
# Retrieval bonus, in the hybrid score's 0-1 scale (scaled to the best score in other modes),
# for a passage of the previous answer's document, and more for one next to its passage. Small:
# a follow-up's own words still decide when another document matches them clearly better.
DOCUMENT_BONUS = 0.08
NEIGHBOUR_BONUS = 0.07
NEIGHBOUR_PARAGRAPHS = 2  # paragraphs either side of the answer's that count as its neighbourhood
_POOL = 100  # passages searched before the bonus reorders them
# A question with no name and at most this many content words may be about the last story
# ("who won?"): when it finds no answer alone, it is asked again with that story's words.
ON_ITS_OWN_TERMS = 2
# How many names a conversation remembers it is about (the user's most recent).
REMEMBERED_NAMES = 5


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORD = re.compile(r"[A-Za-z0-9][\w'’.&-]*[\w]|[A-Za-z0-9]")
_WH = _set("what which who whom whose when where why how")
_AUX = _set("did does do is are was were has have had will would can could should may might must")
_QUANTITIES = _set("much many long often far old big")
_PREPOSITIONS = _set("in for from at on to with by about of against")
_PERSON = {"he": "", "him": "", "his": "'s", "she": "", "hers": "'s", "himself": "", "herself": ""}
_THING = {"it": "", "its": "'s", "itself": ""}
_PLURAL = {"they": "", "them": "", "their": "'s", "theirs": "'s", "themselves": ""}
# "the company", "the man": a description standing for a name of that kind.
_DESCRIPTIONS = {
    "company": "org",
    "firm": "org",
    "group": "org",
    "agency": "org",
    "centre": "org",
    "center": "org",
    "maker": "org",
    "operator": "org",
    "carrier": "org",
    "organisation": "org",
    "organization": "org",
    "country": "place",
    "nation": "place",
    "government": "place",
    "man": "person",
    "woman": "person",
    "executive": "person",
    "president": "person",
    "minister": "person",
    "official": "person",
    "chief": "person",
    "airline": "org",
    "network": "org",
    "party": "org",
    # Things an earlier answer was about: kept as written, with the earlier turn's gist added.
    **{
        thing: "that"
        for thing in _set(
            "bill law vote request decision report ban letter deal plan move order notice "
            "resolution policy rules restrictions case crash attack strike announcement speech"
        )
    },
}
# "Is it true that ...", "it is possible": an "it" that stands for nothing.
_EXPLETIVE_AFTER_IT = _set(
    "true possible likely clear said reported known fair safe legal important the a"
)
_EVENT_VERBS = _set("happen happened happens occur occurred occurs")
_AND_X = re.compile(
    r"^(?:and|but|also|or|ok|okay|so)?\s*(?:what|how)\s+about\s+(?P<x>.+)$"
    r"|^(?:and|also)\s+(?:what\s+of\s+)?(?P<y>.+)$"
    r"|^what\s+of\s+(?P<z>.+)$",
    re.IGNORECASE,
)
_TIME_WORDS = _set("year month week morning afternoon evening time spring summer autumn winter")
# Words that end a name rather than belong to it ("Prime Minister Jacinda Ardern", "Monday").
_NOT_NAMES = _set(
    "mr mrs ms dr prime minister president chancellor secretary ceo chairman chief sir "
    "foreign home deputy vice attorney general "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december"
)
_NOT_POSSESSORS = _set(
    "today yesterday tomorrow tonight everyone everybody someone somebody anyone anybody "
    "nobody one world country nation government company party city state"
)
_TITLES = _set("queen king prince princess pope sir lady lord dame sheikh emperor empress")
_REGNAL = re.compile(r"I{1,3}|IV|VI{0,3}|IX|XI{0,3}|XIV|XV|XVI")
_PLACE_PREFIXES = _set("new south north united states kingdom arab emirates republic")
_PLACE_ACRONYMS = frozenset(["UK", "US", "USA", "EU", "UAE", "UN"])
# "Who killed X", "who founded X": a regular past-tense verb, which is also its participle.
# Not when a clause follows the verb ("who reported that ...", "who voted for ...").
_PASSIVE_SUBJECT = re.compile(
    r"^who\s+(?P<verb>[a-z]{3,}ed)\s+"
    r"(?!(?:that|whether|if|to|on|about|in|for|with|against|from|by|at|of|as)\b)(?P<rest>\S.*)$",
    re.IGNORECASE,
)
# The last preposition of a question and the one to three words after it, which it is about.
_LAST_PREPOSITION = re.compile(
    r"\b(?:to|about|with|on|of|for|against|from|by)\s+(?P<what>(?:the\s+)?[\w'’-]+(?:\s+[\w'’-]+){0,2})$",
    re.IGNORECASE,
)
# Words a gist leaves out: question words, auxiliaries, stopwords and pronouns.
_NOT_GIST = STOPWORDS | _WH | _AUX | set(_PERSON) | set(_THING) | set(_PLURAL)
_GIST = re.compile(r"\(([^()]+)\)[\s?!.]*$")  # what `_with_gist` added: "(tory leadership race)"
_LEADING_AND = re.compile(r"^(?:and|but|also|so|ok|okay)[,\s]+", re.IGNORECASE)
_ORG_WORDS = _set(
    "inc ltd llc plc corp group centre center agency council commission ministry department "
    "committee office bank union times post journal news air airlines airways party network "
    "house force forces court parliament congress university association corporation "
    "organization organisation police army navy eyes health care services affairs"
)


@dataclass(frozen=True)
class Name:
    """A name in a question or an answer, and what kind of thing it probably is."""

    text: str
    kind: str  # "person", "place" or "org" (anything else named: firms, agencies, laws)


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

    @property
    def carried(self) -> bool:
        """Whether the previous turn shaped the lookup."""
        return self.kind not in ("first", "standalone")

    @property
    def readings(self) -> list[Resolution]:
        """The readings to try in turn until one finds an answer: this one, then the
        alternative if there is one."""
        found = [replace(self, as_typed=None)]
        if self.alternative is not None:
            prefer = self.alternative_prefer or self.prefer
            found.append(
                replace(found[0], looked_up=self.alternative, alternative=None, prefer=prefer)
            )
        if self.as_typed is not None and self.as_typed not in (r.looked_up for r in found):
            found.append(replace(found[0], looked_up=self.as_typed, alternative=None))
        return found


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


def in_conversation(answer: Answer, typed: str, resolution: Resolution) -> ConversationAnswer:
    """`answer` as given to `typed` in a conversation."""
    values = {f.name: getattr(answer, f.name) for f in fields(Answer)}
    values["question"] = typed
    differs = resolution.looked_up != typed and resolution.kind != "more"
    return ConversationAnswer(**values, looked_up=resolution.looked_up if differs else None)


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
    answered = names_in(answer or "")
    context = [*answered, *(before.names if before is not None else ())]
    names = _in_full(names_in(_recased(question, context)), context)
    supplied = asked_kind(question)
    answered = _in_full(answered, context)
    if supplied is not None:
        names += [n for n in answered if n.kind == supplied][:1]
    older = _in_full(list(before.names), context) if before is not None else []
    # Whom the answer is about comes after whom the user asked about: "so was he removed?"
    # after an answer quoting a spokesperson on the president's impeachment.
    about = [n for n in answered if n.kind == "person"][:1]
    kept: list[Name] = []
    for name in [*names, *older, *about]:
        if name.text.lower() not in {k.text.lower() for k in kept}:
            kept.append(name)
    return tuple(kept[:REMEMBERED_NAMES])


def resolve(last: Turn | None, typed: str) -> Resolution:
    """The standalone question for `typed` after `last` (None: the conversation's first)."""
    typed = " ".join(typed.split())
    if asks_for_more(typed):  # "tell me more": the previous answer's story goes on
        return Resolution(last.question if last else typed, "more")
    if last is None:
        return Resolution(typed, "first")
    prefer = Preference(last.doc_id, last.paragraph) if last.doc_id else None
    asked, before = asked_overview(typed), asked_overview(last.question)
    if asked and not asked.topic and asked.since is None:
        # "what's the latest?" after "tell me about Hong Kong": the latest on Hong Kong; after
        # "Who did Boris Johnson beat?": the latest on Boris Johnson
        topic = before.topic if before else " ".join(n.text for n in names_in(last.question))
        if topic:
            return Resolution(f"{typed.rstrip(' ?!.')} on {topic}?", "ellipsis")
    and_x = _AND_X.match(typed.rstrip(" ?!."))
    if and_x:
        focus = next(g for g in and_x.groups() if g is not None).strip()
        if not _starts_question(focus) and len(focus.split()) <= 4:
            if before is not None:  # "what's the latest on X?" ... "and Y?": a new topic
                at = last.question.rfind(before.topic)
                after = last.question[at + len(before.topic) :]
                if after.strip(" ?!.") and not before.topic.lower().startswith("the "):
                    focus = re.sub(r"^the\s+", "", focus, flags=re.IGNORECASE)  # "any X news"
                swapped = last.question[:at] + focus + after
                return Resolution(swapped, "and-x")
            return Resolution(_swap(last.question, focus), "and-x", prefer)
    body = _LEADING_AND.sub("", typed)
    tokens = _tokens(body)
    pointers = _outward(body, tokens, _pointers(tokens))
    content = [t for i, (t, _, _) in enumerate(tokens) if i not in pointers]
    named = [kind for kind, _ in pointers.values() if kind != "that"]
    if not terms(" ".join(content)) and not named:
        # Nothing of its own to look up: "by when?", "why?", "when was that?"
        if not tokens or tokens[0][0].lower() not in _WH | _PREPOSITIONS:
            return Resolution(typed, "standalone")
        if before:  # "why?" after an overview: about its topic, or the names its answer gave
            about = before.topic or " ".join(n.text for n in names_in(last.answer or ""))
            return Resolution(_with_gist(about, body), "ellipsis", prefer)
        return Resolution(_graft(last.question, body, tokens), "ellipsis", prefer)
    if not pointers:
        if last.answer is not None and len(terms(body)) <= ON_ITS_OWN_TERMS and not names_in(body):
            # "who won?", "how many died?" after a story: answered alone when the corpus can;
            # when it cannot, asked again about what the last question was about.
            return Resolution(
                typed,
                "standalone",
                alternative=_with_gist(last.question, body),
                alternative_prefer=prefer,
            )
        return Resolution(typed, "standalone")
    replaced = _substitute(last, body, tokens, pointers)
    things = {
        i: ("that", "") if tokens[i][0].lower() in _THING else pointer
        for i, pointer in pointers.items()
    }
    as_thing = _substitute(last, body, tokens, things) if things != pointers else None
    return Resolution(
        replaced,
        "pronoun",
        prefer,
        as_thing if as_thing != replaced else None,
        as_typed=typed if terms(" ".join(content)) else None,  # not "who is he?" alone
    )


def prefer_previous(retriever: Retriever, prefer: Preference | None) -> Retriever:
    """`retriever`, searching with the bonus for `prefer`'s document and neighbourhood."""
    if prefer is None:
        return retriever
    return _Preferring(retriever, prefer)  # type: ignore[return-value]


class _Preferring:
    """A retriever whose search ranks the preferred document's passages higher."""

    def __init__(self, retriever: Retriever, prefer: Preference) -> None:
        self._retriever = retriever
        self._prefer = prefer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)

    def search(
        self, query: Query, mode: str, k: int, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        pool = max(k, _POOL)
        hits = (
            self._retriever.search(query, mode, pool)
            if search_filter is None
            else self._retriever.search(query, mode, pool, search_filter)
        )
        data = self._retriever.data
        docs = [d.doc_id for d in data.documents]
        chunks = np.asarray([hit.chunk for hit in hits], dtype=np.int64)
        if not len(chunks):
            return hits
        scale = max(max(hit.score for hit in hits), 1e-9) if mode != "hybrid" else 1.0
        same_doc = np.asarray(
            [docs[int(d)] == self._prefer.doc_id for d in data.chunks["doc"][chunks]]
        )
        near = same_doc.copy()
        if self._prefer.paragraph is not None:
            distance = np.abs(data.chunks["paragraph"][chunks] - self._prefer.paragraph)
            near &= distance <= NEIGHBOUR_PARAGRAPHS
        else:
            near[:] = False
        bonus = scale * (DOCUMENT_BONUS * same_doc + NEIGHBOUR_BONUS * near)
        scored = [
            replace(hit, score=float(hit.score + extra))
            for hit, extra in zip(hits, bonus.tolist(), strict=True)
        ]
        order = sorted(range(len(scored)), key=lambda i: -scored[i].score)
        return [scored[i] for i in order[:k]]


# -- reading questions -------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _starts_question(text: str) -> bool:
    first = text.split()[0].lower() if text.split() else ""
    return first in _WH or first in _AUX


def _pointers(tokens: list[tuple[str, int, int]]) -> dict[int, tuple[str, str]]:
    """Token positions that point back, with the kind of name each wants and the suffix
    ("'s" for a possessive); a description ("the company") is keyed at its article."""
    found: dict[int, tuple[str, str]] = {}
    lower = [t.lower() for t, _, _ in tokens]
    for i, word in enumerate(lower):
        after = lower[i + 1] if i + 1 < len(lower) else ""
        before = lower[i - 1] if i > 0 else ""
        if word in _PERSON:
            found[i] = ("person", _PERSON[word])
        elif word == "her":
            possessive = bool(after) and after not in STOPWORDS and after not in _PREPOSITIONS
            found[i] = ("person", "'s" if possessive else "")
        elif word in _THING:
            nxt = lower[i + 2] if after in ("is", "was", "'s") and i + 2 < len(lower) else after
            if word == "it" and (nxt in _EXPLETIVE_AFTER_IT or after in ("seems", "appears")):
                continue
            # "where did it happen?": an event the last turn told of, not a name in it
            event = word == "it" and (
                after in _EVENT_VERBS
                or (after in ("take", "took") and lower[i + 2 : i + 3] == ["place"])
            )
            found[i] = ("that", "") if event else ("org", _THING[word])
        elif word in _PLURAL:
            found[i] = ("plural", _PLURAL[word])
        elif (word in ("this", "these", "those") and after not in _TIME_WORDS) or (
            word == "that"
            and (not after or before in _WH or before in _AUX or before in _PREPOSITIONS)
        ):
            found[i] = ("that", "")
        elif word == "so" and not after and before not in ("how", "why"):
            found[i] = ("that", "")  # "who said so?"
        elif word == "the" and after in _DESCRIPTIONS:
            following = lower[i + 2] if i + 2 < len(lower) else ""
            capital = i + 2 < len(tokens) and tokens[i + 2][0][:1].isupper()
            if following != "of" and not capital:
                found[i] = (_DESCRIPTIONS[after], "")
    return found


def _outward(
    body: str, tokens: list[tuple[str, int, int]], pointers: dict[int, tuple[str, str]]
) -> dict[int, tuple[str, str]]:
    """The pointers that point out of the question: not "her" in "What did Carrie Lam say her
    government would do?" or "its" in "What does Huawei say about its products?", which stand
    for a name the question itself gives before them."""
    kept = {}
    for i, (wanted, suffix) in pointers.items():
        before = names_in(body[: tokens[i][1]])
        if wanted == "person" and any(n.kind in ("person", "org") for n in before):
            continue
        possessive = suffix and tokens[i][0].lower() in ("its", "their")
        if possessive and any(n.kind in ("org", "place") for n in before):
            continue
        kept[i] = (wanted, suffix)
    return kept


def names_in(text: str) -> list[Name]:
    """Names in `text`: runs of capitalised words (a sentence's first word only when it is an
    acronym or a country), acronyms, and countries and peoples written in lower case."""
    found: list[Name] = []
    run: list[str] = []
    places = place_words()

    after_the = False
    # "Ministry of Public Works": a name after an organisation's "of" is part of its name.
    of_org = False
    run_end = org_end = -1

    def close() -> None:
        nonlocal org_end
        if run and [w.lower() for w in run] != ["new"]:
            kind = _kind(run)
            found.append(
                Name(" ".join(run), "org" if kind == "person" and (after_the or of_org) else kind)
            )
            org_end = run_end if found[-1].kind == "org" else -1
        run.clear()

    previous_end = 0
    previous_word = ""
    for match in _WORD.finditer(text):
        word = match.group()
        gap = text[previous_end : match.start()]
        previous_end = match.end()
        typed_before, previous_word = previous_word, word
        initial = gap.strip() == "." and len(run) > 0 and len(run[-1]) == 1 and gap.endswith(" ")
        if gap.strip() and not initial:  # "John R. Bolton" goes on past the initial's dot
            close()
        bare = word.removesuffix("'s").removesuffix("’s").rstrip(".")
        lower = bare.lower()
        before = text[: match.start()].rstrip()
        starts = (not before or before[-1] in ".?!:") and not initial
        if len(bare) > 1 and bare.isupper() and bare.isalpha():
            is_name = True  # an acronym, even one spelled like a word ("US")
        elif lower in places:
            is_name = True
        elif not bare[:1].isupper() or lower in STOPWORDS | _WH | _AUX | _NOT_NAMES:
            is_name = False
        else:
            # "Trump's state of emergency...": a possessive opening a sentence is a name's.
            possessive = bare != word.rstrip(".") and lower not in _NOT_POSSESSORS
            is_name = (
                not starts
                or possessive
                or _looks_like_name(bare)
                or lower in _PLACE_PREFIXES
                or bare in given_name_genders()  # "Carrie Lam withdrew the bill."
            )
        if (
            is_name
            and run
            and _kind(run) == "place"
            and run[-1].lower() not in _PLACE_PREFIXES
            and _kind([bare]) != "place"
        ):
            close()  # "New Zealand Spark", "UK NCSC": the place ends where another name starts
        if is_name and not run and lower in places and typed_before.lower() in _PLACE_PREFIXES:
            run.append(typed_before)  # "new zealand" typed in lower case: one place
        if is_name and bare:
            if not run:
                after_the = text[: match.start()].rstrip().lower().endswith(" the") or text[
                    : match.start()
                ].strip().lower() in ("the",)
                of_org = org_end >= 0 and text[org_end : match.start()].strip() == "of"
            run.append(bare)
            run_end = match.end()
            if bare != word.rstrip("."):  # a possessive ends the name
                close()
        else:
            close()
    close()
    return found


def _looks_like_name(word: str) -> bool:
    """A sentence's first word that is a name rather than an ordinary capitalised word: one
    with a capital or digit inside ("ZTE", "5G") or a country."""
    return any(c.isupper() or c.isdigit() for c in word[1:]) or word.lower() in place_words()


def _kind(words: list[str]) -> str:
    lower = [w.lower() for w in words]
    places = place_words()
    if all(w in places or w in _PLACE_PREFIXES for w in lower) or (
        len(words) == 1 and words[0] in _PLACE_ACRONYMS
    ):
        return "place"
    if lower[0] in _TITLES or (len(words) > 1 and _REGNAL.fullmatch(words[-1])):
        return "person"  # "the Queen", "Queen Elizabeth II", "Pope Francis", "Louis XIV"
    if lower[-1] in _ORG_WORDS or any(w.isupper() and len(w) > 1 for w in words):
        return "org"
    if 2 <= len(words) <= 4 and all(
        w[:1].isupper() and (w[1:].islower() or len(w) == 1) for w in words
    ):
        return "person"
    return "org"


_ASKED_NOUNS = {
    "person": "person people official officials executive executives minister ministers",
    "place": "country countries nation nations government governments state states",
    "org": "company companies firm firms maker makers supplier suppliers operator operators "
    "agency agencies carrier carriers vendor vendors",
}
_ASKED_KIND = {word: kind for kind, nouns in _ASKED_NOUNS.items() for word in nouns.split()}


def asked_kind(question: str) -> str | None:
    """The kind of name the question's answer supplies: "person" for "Who ...", "place" for
    "Which countries ...", "org" for "What company ..."; None when it asks for no name."""
    words = question.lower().split()
    if not words:
        return None
    if words[0] in ("who", "whom"):
        return "person"
    if words[0] in ("which", "what") and len(words) > 1:
        return _ASKED_KIND.get(words[1].strip("?,."))
    return None


def _pick(last: Turn, wanted: str, used: set[str], gender: str | None = None) -> str | None:
    """The name a pointer of kind `wanted` stands for (`gender`: "male" for "he", "female" for
    "she"). When the previous question asked for a name of that kind, the answer's; else the
    previous question's first, then those the user asked about before, then the answer's."""
    context = [*names_in(last.answer or ""), *last.names]
    asked = _in_full(names_in(_recased(last.question, context)), context)
    answered = _in_full(names_in(last.answer or ""), context)
    supplied = asked_kind(last.question)
    kinds = {
        "person": ("person",),
        "org": ("org",),  # "is it binding?" is not about "Iraqi"
        "place": ("place",),
        "plural": ("org", "place", "person"),
    }[wanted]
    # "Who was Boris Johnson up against?" ... "who did he replace?": a person the question
    # names in full is who "he" is; the answer's when it named none ("Who did Trump fire?"
    # ... "since when had he held the job?").
    named_person = any(n.kind == "person" for n in names_in(last.question))
    remembered = [
        n for n in _in_full(list(last.names), context) if n.text not in {a.text for a in asked}
    ]
    if (
        supplied is not None
        and (supplied == wanted or (wanted == "plural" and supplied))
        and not (wanted == "person" and named_person)
    ):
        kinds = (supplied,)
        ordered, answered_first = answered + asked, True
    elif wanted == "org":
        # "is it binding?": a thing the user named, not one the answer brought up (then "it"
        # is what the last question was about, see resolve); but after "What network is New
        # Zealand part of?", "who else is in it?" asks about the network the answer named.
        words = last.question.lower().split()
        asked_thing = (
            supplied in (None, "org")
            and words[0] in ("what", "which")
            and words[1:2]
            and words[1] not in _AUX
        )
        ordered = answered + asked + remembered if asked_thing else asked + remembered
        answered_first = False
    elif wanted == "person" and not named_person:
        someone = any(n.kind == "person" for n in remembered)
        ordered = asked + remembered + answered if someone else answered + asked + remembered
        answered_first = not someone
    else:
        ordered, answered_first = asked + remembered + answered, False
    asked_words = {w.lower() for n in asked for w in n.text.split()}
    user_named = asked + remembered
    for kind in kinds:
        matching: list[str] = []
        for name in ordered:
            # The answer to "Who won?" is a person, even one named by surname ("Johnson"), and
            # so is one the user names so ("how did trump react?" ... "who sued him?").
            fits = name.kind == kind or (
                kind == "person" and _surname(name) and (supplied == kind or name in user_named)
            )
            if fits and name.text not in used and name.text not in matching:
                if answered_first and supplied and asked_words & set(name.text.lower().split()):
                    continue  # the answer's new names, not the question's again
                if kind == "person" and gender and _gender(name) not in (None, gender):
                    continue
                matching.append(name.text)
        if matching:
            if wanted == "plural" and len(matching) > 1:
                return f"{matching[0]} and {matching[1]}"
            return matching[0]
    return None


def _in_full(names: list[Name], context: list[Name]) -> list[Name]:
    """`names` with a surname alone written as the person `names` or `context` name in full:
    "Trump" after "Donald Trump", so that "it" is not him."""
    people = {
        n.text.split()[-1]: n for n in [*names, *context] if n.kind == "person" and " " in n.text
    }
    return [people.get(n.text, n) if " " not in n.text else n for n in names]


def _surname(name: Name) -> bool:
    """A one-word name that may be a person's, named by surname ("Johnson"): not an acronym,
    a place or an organisation's word."""
    word = name.text
    return (
        " " not in word
        and word[1:].islower()
        and word.lower() not in _ORG_WORDS
        and word.lower() not in place_words()
    )


def _gender(name: Name) -> str | None:
    """ "male" or "female" when a person's title or given name says, else None."""
    first = name.text.split()[0]
    return _TITLE_GENDERS.get(first.lower()) or given_name_genders().get(first)


_TITLE_GENDERS = {
    **dict.fromkeys(("queen", "princess", "lady", "dame", "empress", "mrs", "ms"), "female"),
    **dict.fromkeys(("king", "prince", "lord", "sir", "pope", "emperor", "mr"), "male"),
}
_POINTER_GENDERS = {
    **dict.fromkeys(("he", "him", "his", "himself"), "male"),
    **dict.fromkeys(("she", "her", "hers", "herself"), "female"),
}


@cache
def given_name_genders() -> dict[str, str]:
    """Given names and whose they are ("Jacinda": "female"), from bot/data/given_names.txt."""
    lines = _GIVEN_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
    return {name: gender for gender, name in pairs}


def _recased(text: str, names: list[Name]) -> str:
    """`text` with the names it types in lower case written as `names` write them, a surname
    alone as the whole name: "how did trump react" is "how did Donald Trump react" after an
    answer naming Donald Trump."""
    forms: dict[str, str] = {}
    for name in names:
        words = [w for w in name.text.split() if not _REGNAL.fullmatch(w)]
        if not words:
            continue
        forms.setdefault(name.text.lower(), name.text)
        surname = words[-1]
        if name.kind == "person" and len(words) > 1 and len(surname) > 2:
            forms.setdefault(surname.lower(), name.text)
            forms.setdefault(f"{surname.lower()}s", f"{name.text}'s")  # "trumps impeachment"
    for typed, written in sorted(forms.items(), key=lambda form: -len(form[0])):
        if typed in STOPWORDS or typed in _WH or typed in _AUX or typed in _ORG_WORDS:
            continue
        text = re.sub(rf"(?<![\w'’-]){re.escape(typed)}(?![\w-])", written, text)
    return text


def _substitute(
    last: Turn, body: str, tokens: list[tuple[str, int, int]], pointers: dict[int, tuple[str, str]]
) -> str:
    """`body` with each pointer replaced by the name it stands for; "that" and any pointer
    without a name are kept, and the previous question's names are added at the end."""
    used: set[str] = set()
    pieces: list[str] = []
    position = 0
    skip: set[int] = set()
    genders_named: set[str] = set()
    unresolved = False
    for i, (word, start, end) in enumerate(tokens):
        if i in skip or i not in pointers:
            continue
        wanted, suffix = pointers[i]
        gender = _POINTER_GENDERS.get(word.lower())
        if gender is not None and gender in genders_named:
            continue  # "when did she give her speech?": her is she, named once
        name = _pick(last, wanted, used, gender) if wanted != "that" else None
        if name is None:
            unresolved = True
            continue
        used.add(name)
        if gender is not None:
            genders_named.add(gender)
        if re.search(rf"\bthe {re.escape(name)}\b", f"{last.question} {last.answer or ''}"):
            name = f"the {name}"  # "the NCSC", as the previous turn wrote it
        if word.lower() == "the":  # "the company": replace both words
            skip.add(i + 1)
            end = tokens[i + 1][2]
        pieces.append(body[position:start])
        pieces.append(name + suffix)
        position = end
    pieces.append(body[position:])
    text = "".join(pieces)
    if unresolved or not used:
        # "who said so?", "what would the bill have allowed?": what the earlier question was
        # about goes along, in its own words.
        return _with_gist(last.question, text)
    return _capitalised(text)


def _with_gist(previous: str, text: str) -> str:
    """`text` with what the `previous` question was about added in brackets, in its own words:
    "Who said so (Huawei invest over five years)?"; an overview's topic as asked."""
    overview = asked_overview(previous)
    # A previous question that carried a gist itself passes that on, so gists do not pile
    # up over a chat: "How many votes did he get (tory leadership race)?" ... "who was he
    # up against?" is "Who was he up against (tory leadership race)?".
    carried = _GIST.search(previous)
    source = overview.topic if overview else carried.group(1) if carried else previous
    have = {w.lower() for w, _, _ in _tokens(text)}
    gist = [
        w for w, _, _ in _tokens(source) if w.lower() not in _NOT_GIST and w.lower() not in have
    ]
    if gist:
        stripped = text.rstrip(" ?!.")
        text = f"{stripped} ({' '.join(gist)}){text[len(stripped) :]}"
    return _capitalised(text)


def _graft(previous: str, body: str, tokens: list[tuple[str, int, int]]) -> str:
    """The previous question asked again with the new question word: "by when?" after "What
    did Ryan Ding promise?" is "By when did Ryan Ding promise?"."""
    words = previous.rstrip(" ?!.").split()
    # Only the new question's own question words count ("when was that?" -> "when").
    lead = []
    for word, _, _ in tokens:
        if word.lower() not in _WH | _PREPOSITIONS | _QUANTITIES | {"exactly", "else"}:
            break
        lead.append(word)
    asked = " ".join(lead) or body.rstrip(" ?!.")
    # Skip the previous question word and what belongs to it ("how much", "which countries").
    at = 0
    while at < len(words) and (words[at].lower() in _WH | _PREPOSITIONS):
        at += 1
    if at and at < len(words) and words[at].lower() in _QUANTITIES:
        at += 1
    rest = words[at:]
    if rest and rest[0].lower() in _AUX:
        return _capitalised(f"{asked} {' '.join(rest)}?")
    passive = _PASSIVE_SUBJECT.match(previous.rstrip(" ?!."))
    if passive and lead:
        # "Who killed Qasem Soleimani?" ... "where?": "Where was Qasem Soleimani killed?"
        return _capitalised(f"{asked} was {passive['rest']} {passive['verb']}?")
    # "Which countries banned Huawei?" cannot be turned around without a grammar: ask both.
    return _capitalised(f"{asked}: {previous[:1].lower()}{previous[1:].rstrip(' ?!.')}?")


def _swap(previous: str, focus: str) -> str:
    """The previous question about `focus` instead: the name of the same kind replaced, or
    `focus` added when the question has none."""
    stripped = previous.rstrip(" ?!.")
    focus_words = focus.split()
    preposition = focus_words[0].lower() if focus_words[0].lower() in _PREPOSITIONS else None
    bare_focus = " ".join(focus_words[1:]) if preposition else focus
    bare_focus = re.sub(r"^(the)\s+", "", bare_focus, flags=re.IGNORECASE)
    new = names_in(bare_focus[:1].upper() + bare_focus[1:]) if bare_focus else []
    kind = new[0].kind if new else None
    if kind is None and bare_focus.lower() in place_words():
        kind = "place"
    old = names_in(stripped)
    same = [n for n in old if n.kind == kind] if kind else []
    target = same[-1] if same else (old[-1] if old and kind == "org" and not preposition else None)
    if target is not None:
        at = stripped.rfind(target.text)
        replacement = focus if not preposition else bare_focus
        # "the EU" -> "Germany": the article goes with the old name when the new one has none.
        before = stripped[:at]
        if before.lower().endswith("the "):
            before = before[:-4]
        return _capitalised(f"{before}{replacement}{stripped[at + len(target.text) :]}?")
    after = _LAST_PREPOSITION.search(stripped)
    if (
        after is not None
        and preposition is None
        and kind != "place"  # "and germany?" more often asks for the question's subject
        and not any(n.text.lower() in after.group("what").lower() for n in old)
    ):
        # Typed in lower case, so no name to replace: "what happened to corbyn" ... "and jo
        # swinson?" asks about what follows the question's last preposition instead.
        return _capitalised(f"{stripped[: after.start('what')]}{bare_focus}?")
    if preposition is not None and preposition not in ("in", "for"):
        # "What did Pompeo say about Mahan Air?" ... "and about Cuba?": what the question's
        # same preposition was about is swapped ("in" and "for" rather add: "and in Wuhan?").
        same_preposition = list(re.finditer(rf"\b{preposition}\s+", stripped, re.IGNORECASE))
        if same_preposition:
            swapped = " ".join(focus_words[1:])
            return _capitalised(f"{stripped[: same_preposition[-1].end()]}{swapped}?")
    if preposition is None and not focus.lower().startswith(("in ", "for ")):
        joiner = "in" if kind == "place" else "for"
        return _capitalised(f"{stripped} {joiner} {focus}?")
    return _capitalised(f"{stripped} {focus}?")


def _capitalised(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"\s+([?!.,)])", r"\1", text)
    return text[:1].upper() + text[1:]
