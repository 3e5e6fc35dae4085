"""From a typed follow-up and the turn before it to the standalone question that is looked up
(the rules are listed in `bot/conversation/__init__.py` and docs/conversation.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.more import asks_for_more
from bot.answering.overview import asked_overview
from bot.conversation.names import (
    AUX,
    WH,
    WORD,
    Name,
    asked_kind,
    could_be_surname,
    gender_of,
    names_in,
    turn_names,
    word_set,
)
from bot.conversation.turn import Preference, Resolution, Turn
from bot.lexical import STOPWORDS, terms
from bot.names import place_words

# A question with no name and at most this many content words may be about the last story
# ("who won?"): when it finds no answer alone, it is asked again with that story's words.
ON_ITS_OWN_TERMS = 2
_QUANTITIES = word_set("much many long often far old big")
_PREPOSITIONS = word_set("in for from at on to with by about of against")
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
        for thing in word_set(
            "bill law vote request decision report ban letter deal plan move order notice "
            "resolution policy rules restrictions case crash attack strike announcement speech"
        )
    },
}
# "Is it true that ...", "it is possible": an "it" that stands for nothing.
_EXPLETIVE_AFTER_IT = word_set(
    "true possible likely clear said reported known fair safe legal important the a"
)
_EVENT_VERBS = word_set("happen happened happens occur occurred occurs")
_AND_X = re.compile(
    r"^(?:and|but|also|or|ok|okay|so)?\s*(?:what|how)\s+about\s+(?P<x>.+)$"
    r"|^(?:and|also)\s+(?:what\s+of\s+)?(?P<y>.+)$"
    r"|^what\s+of\s+(?P<z>.+)$",
    re.IGNORECASE,
)
_TIME_WORDS = word_set("year month week morning afternoon evening time spring summer autumn winter")
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
_NOT_GIST = STOPWORDS | WH | AUX | set(_PERSON) | set(_THING) | set(_PLURAL)
_GIST = re.compile(r"\(([^()]+)\)[\s?!.]*$")  # what `_with_gist` added: "(tory leadership race)"
_LEADING_AND = re.compile(r"^(?:and|but|also|so|ok|okay)[,\s]+", re.IGNORECASE)


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
            # The answer must be about what was swapped in; if not, the question as typed.
            about = re.sub(r"^(?:the|in|for|on|about|from|at|to)\s+", "", focus, flags=re.I)
            return Resolution(
                _swap(last.question, focus), "and-x", prefer, as_typed=typed, about=about
            )
    body = _LEADING_AND.sub("", typed)
    tokens = _tokens(body)
    pointers = _outward(body, tokens, _pointers(tokens))
    content = [t for i, (t, _, _) in enumerate(tokens) if i not in pointers]
    named = [kind for kind, _ in pointers.values() if kind != "that"]
    if not terms(" ".join(content)) and not named:
        # Nothing of its own to look up: "by when?", "why?", "when was that?"
        if not tokens or tokens[0][0].lower() not in WH | _PREPOSITIONS:
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


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def _starts_question(text: str) -> bool:
    first = text.split()[0].lower() if text.split() else ""
    return first in WH or first in AUX


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
            and (not after or before in WH or before in AUX or before in _PREPOSITIONS)
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


@dataclass(frozen=True)
class _Candidates:
    """The names a pointer may stand for, in the order they are tried, and where they come
    from: the last question (`asked`), the turns before (`remembered`), the last answer."""

    kinds: tuple[str, ...]  # the kinds of name tried, in turn
    ordered: list[Name]
    asked: list[Name]
    remembered: list[Name]
    answered: list[Name]
    answered_first: bool
    supplied: str | None  # the kind of name the last question asked for


def _candidates(last: Turn, wanted: str) -> _Candidates:
    """When the previous question asked for a name of the kind wanted, the answer's names
    first; else the previous question's, then those the user asked about before, then the
    answer's."""
    names = turn_names(last.question, last.answer, last.names)
    asked, answered = names.asked, names.answered
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
    typed_person = any(n.kind == "person" for n in asked)  # "boris", "ardern" count here
    remembered = [n for n in names.earlier if n.text not in {a.text for a in asked}]
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
            and words[:1] in (["what"], ["which"])
            and len(words) > 1
            and words[1] not in AUX
        )
        ordered = answered + asked + remembered if asked_thing else asked + remembered
        answered_first = False
    elif wanted == "person" and not typed_person:
        someone = any(n.kind == "person" for n in remembered)
        ordered = asked + remembered + answered if someone else answered + asked + remembered
        answered_first = not someone
    else:
        ordered, answered_first = asked + remembered + answered, False
    return _Candidates(kinds, ordered, asked, remembered, answered, answered_first, supplied)


def _pick(last: Turn, wanted: str, used: set[str], gender: str | None = None) -> str | None:
    """The name a pointer of kind `wanted` stands for (`gender`: "male" for "he", "female" for
    "she"), tried in the order `_candidates` gives; None when no name fits."""
    found = _candidates(last, wanted)
    asked_words = {w.lower() for n in found.asked for w in n.text.split()}
    asked_noun = set(last.question.lower().split()[1:2]) if found.supplied else set()
    user_named = found.asked + found.remembered
    after_the = set(re.findall(r"\b(?:the|The) ([A-Z]\w+)\b", f"{last.question} {last.answer}"))
    for kind in found.kinds:
        matching: list[str] = []
        for at, name in enumerate(found.ordered):
            # A surname alone is a person's when the user named it so ("how did trump
            # react?" ... "who sued him?"), or when it opens the answer to "Who won?"
            # ("Johnson competed against Jeremy Hunt").
            fits = name.kind == kind or (
                kind == "person"
                and could_be_surname(name)
                and (name in user_named or (found.supplied == kind and name in found.answered[:1]))
                and name.text not in after_the  # "the Speaker" is no one's surname
            )
            if not fits or name.text in used or name.text in matching:
                continue
            from_answer = found.answered_first and at < len(found.answered)
            words = set(name.text.lower().split())
            if from_answer and found.supplied == kind and words & (asked_words | asked_noun):
                # The answer's new names first, not the question's again (that comes after),
                # nor one that only repeats what it asked for ("which states": not "United
                # States").
                continue
            if kind == "person" and gender and gender_of(name) not in (None, gender):
                continue
            matching.append(name.text)
        if matching:
            if wanted == "plural" and len(matching) > 1:
                return f"{matching[0]} and {matching[1]}"
            return matching[0]
    return None


_POINTER_GENDERS = {
    **dict.fromkeys(("he", "him", "his", "himself"), "male"),
    **dict.fromkeys(("she", "her", "hers", "herself"), "female"),
}


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
        if word.lower() not in WH | _PREPOSITIONS | _QUANTITIES | {"exactly", "else"}:
            break
        lead.append(word)
    asked = " ".join(lead) or body.rstrip(" ?!.")
    # Skip the previous question word and what belongs to it ("how much", "which countries").
    at = 0
    while at < len(words) and (words[at].lower() in WH | _PREPOSITIONS):
        at += 1
    if at and at < len(words) and words[at].lower() in _QUANTITIES:
        at += 1
    rest = words[at:]
    if rest and rest[0].lower() in AUX:
        return _capitalised(f"{asked} {' '.join(rest)}?")
    passive = _PASSIVE_SUBJECT.match(previous.rstrip(" ?!."))
    if passive and lead:
        # "Who killed Qasem Soleimani?" ... "where?": "Where was Qasem Soleimani killed?"
        return _capitalised(f"{asked} was {passive['rest']} {passive['verb']}?")
    # "Which countries banned Huawei?" cannot be turned around without a grammar: ask both.
    return _capitalised(f"{asked}: {previous[:1].lower()}{previous[1:].rstrip(' ?!.')}?")


# The subject of a question: the name right after its question word and auxiliary.
_SUBJECT = re.compile(
    r"^(?i:what|why|how|when|where)\s+(?i:did|does|do|has|have|had|will|would)\s+"
    r"(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+[a-z]"
)


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
    subject = _SUBJECT.match(stripped)
    if target is None and kind == "place" and not preposition and subject and len(old) == 1:
        # "What did Jacinda Ardern say?" ... "and Germany?": what Germany said, not what she
        # said in Germany (a country acts as its government does).
        target = old[0] if subject["name"] == old[0].text else None
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
