"""Names in questions and answers ("Ryan Ding", "the NCSC", "New Zealand"), what kind of thing
each probably is (a person, a place or an organisation), and whether "he" or "she" can stand
for a person: what a pronoun in a follow-up may stand for (`resolve.py`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.lexical import STOPWORDS
from bot.names import place_words

_GIVEN_NAMES_FILE = Path(__file__).resolve().parent.parent / "data" / "given_names.txt"


def word_set(words: str) -> frozenset[str]:
    """The words of a space-separated string, as a set."""
    return frozenset(words.split())


WORD = re.compile(r"[A-Za-z0-9][\w'’.&-]*[\w]|[A-Za-z0-9]")
WH = word_set("what which who whom whose when where why how")
AUX = word_set(
    "did does do is are was were has have had will would can could should may might must"
)
# Words that end a name rather than belong to it ("Prime Minister Jacinda Ardern", "Monday").
_NOT_NAMES = word_set(
    "mr mrs ms dr prime minister president chancellor secretary ceo chairman chief sir "
    "foreign home deputy vice attorney general executive "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december"
)
_NOT_POSSESSORS = word_set(
    "today yesterday tomorrow tonight everyone everybody someone somebody anyone anybody "
    "nobody one world country nation government company party city state"
)
_TITLES = word_set("queen king prince princess pope sir lady lord dame sheikh emperor empress")
REGNAL = re.compile(r"I{1,3}|IV|VI{0,3}|IX|XI{0,3}|XIV|XV|XVI")
_PLACE_PREFIXES = word_set("new south north united states kingdom arab emirates republic")
_PLACE_ACRONYMS = frozenset(["UK", "US", "USA", "EU", "UAE", "UN"])
ORG_WORDS = word_set(
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
    for match in WORD.finditer(text):
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
        elif not bare[:1].isupper() or lower in STOPWORDS | WH | AUX | _NOT_NAMES:
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
    if lower[0] in _TITLES or (len(words) > 1 and REGNAL.fullmatch(words[-1])):
        return "person"  # "the Queen", "Queen Elizabeth II", "Pope Francis", "Louis XIV"
    if lower[-1] in ORG_WORDS or any(w.isupper() and len(w) > 1 for w in words):
        return "org"
    if 2 <= len(words) <= 4 and all(
        w[:1].isupper() and (w[1:].islower() or len(w) == 1) for w in words
    ):
        return "person"
    if len(words) == 1 and words[0] in given_name_genders():
        return "person"  # "Boris"
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


def in_full(names: list[Name], context: list[Name]) -> list[Name]:
    """`names` with a surname alone written as the person `names` or `context` name in full:
    "Trump" after "Donald Trump", so that "it" is not him."""
    people = {
        n.text.split()[-1]: n for n in [*names, *context] if n.kind == "person" and " " in n.text
    }
    return [people.get(n.text, n) if " " not in n.text else n for n in names]


def could_be_surname(name: Name) -> bool:
    """A one-word name that may be a person's, named by surname ("Johnson"): not an acronym,
    a place or an organisation's word."""
    word = name.text
    return (
        " " not in word
        and word[1:].islower()
        and word.lower() not in ORG_WORDS
        and word.lower() not in place_words()
    )


def gender_of(name: Name) -> str | None:
    """ "male" or "female" when a person's title or given name says, else None."""
    first = name.text.split()[0]
    return _TITLE_GENDERS.get(first.lower()) or given_name_genders().get(first)


_TITLE_GENDERS = {
    **dict.fromkeys(("queen", "princess", "lady", "dame", "empress", "mrs", "ms"), "female"),
    **dict.fromkeys(("king", "prince", "lord", "sir", "pope", "emperor", "mr"), "male"),
}


@cache
def given_name_genders() -> dict[str, str]:
    """Given names and whose they are ("Jacinda": "female"), from bot/data/given_names.txt."""
    lines = _GIVEN_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
    return {name: gender for gender, name in pairs}


def recased(text: str, names: list[Name]) -> str:
    """`text` with the names it types in lower case written as `names` write them, a surname
    alone as the whole name: "how did trump react" is "how did Donald Trump react" after an
    answer naming Donald Trump."""
    forms: dict[str, str] = {}
    for name in names:
        words = [w for w in name.text.split() if not REGNAL.fullmatch(w)]
        if not words:
            continue
        forms.setdefault(name.text.lower(), name.text)
        surname = words[-1]
        if name.kind == "person" and len(words) > 1 and len(surname) > 2:
            forms.setdefault(surname.lower(), name.text)
            forms.setdefault(f"{surname.lower()}s", f"{name.text}'s")  # "trumps impeachment"
    for typed, written in sorted(forms.items(), key=lambda form: -len(form[0])):
        if typed in STOPWORDS or typed in WH or typed in AUX or typed in ORG_WORDS:
            continue
        text = re.sub(rf"(?<![\w'’-]){re.escape(typed)}(?![\w-])", written, text)
    return text


def typed_names(text: str, context: list[Name]) -> list[Name]:
    """The names in a typed question, written as `context` (names the conversation has seen)
    writes them, a name typed in lower case too, even as the first word ("trump border wall
    emergency": Donald Trump)."""
    written = _given_names_capitalised(recased(text, context))
    # A sentence's first word is a name only by its looks; one the context spelled is one.
    first_spelled = written.split()[:1] != text.split()[:1]
    return in_full(names_in(f"- {written}" if first_spelled else written), context)


@dataclass(frozen=True)
class TurnNames:
    """The names of a turn, each written in full as it or the turns before it write it."""

    asked: list[Name]  # those its question names, typed in lower case too
    answered: list[Name]  # those its answer names
    earlier: list[Name]  # those the turns before it were about


def turn_names(question: str, answer: str | None, earlier: Sequence[Name]) -> TurnNames:
    """The names of the turn `question` ... `answer`, after turns about `earlier`."""
    answered = names_in(answer or "")
    context = [*answered, *earlier]
    return TurnNames(
        typed_names(question, context), in_full(answered, context), in_full(list(earlier), context)
    )


# Given names that are everyday words too, not taken for a name when typed in lower case.
_EVERYDAY_GIVEN_NAMES = word_set("bill mark grace rose frank jack eve penny jay ruth joy")


def _given_names_capitalised(text: str) -> str:
    """`text` with known given names typed in lower case capitalised ("did boris win")."""
    genders = given_name_genders()
    return WORD.sub(
        lambda m: (
            m.group().capitalize()
            if m.group().islower()
            and m.group().capitalize() in genders
            and m.group() not in _EVERYDAY_GIVEN_NAMES
            else m.group()
        ),
        text,
    )
