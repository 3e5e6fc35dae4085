"""Questions about what an abbreviation stands for, and the sentences that spell one out.

"What does NCSC stand for?" (or "What is the NCSC?") is answered by the sentence that
introduces the abbreviation, "The UK National Cyber Security Centre (NCSC) has concluded...",
which a reader trained on SQuAD often misses ("The NCSC's latest conclusion stands in
contrast..." shares the word "stand"). A sentence spells out an abbreviation when it puts it
in brackets right after words whose initials make it up.
"""

from __future__ import annotations

import re

# "What does X stand for?", "What is X short for?", "What does the acronym X mean?"
_ASKS_EXPANSION = re.compile(
    r"\b(stands?|stood) for\b|\bshort for\b|\b(acronym|abbreviation|initials)\b"
    r"|\bfull (name|form) of\b|\bwhat does (the )?\S+ mean\b",
    re.IGNORECASE,
)
# "What is the NCSC?", "who's WINEP": the sentence that spells it out says what it is (on SQuAD
# train, 18 of 18 such questions whose paragraph spells the abbreviation out).
_ASKS_WHAT_IT_IS = re.compile(
    r"^\W*(?:what|who)(?:\s+is|\s+was|\s+are|'s|’s)\s+(?:the\s+)?"
    r"(?P<it>[A-Za-z][A-Za-z.&]{1,9})\W*$",
    re.IGNORECASE,
)
_CANDIDATE = re.compile(r"\b([A-Za-z][A-Za-z.&]{1,9})\b")
_COMMON = frozenset(
    [
        "what",
        "does",
        "do",
        "did",
        "is",
        "the",
        "a",
        "an",
        "for",
        "short",
        "stand",
        "stands",
        "stood",
        "mean",
        "acronym",
        "abbreviation",
        "full",
        "name",
        "form",
        "of",
        "initials",
    ]
)
_PRONOUNS = frozenset({"it", "he", "she", "they", "this", "that", "him", "her", "them", "you"})
_SMALL = frozenset({"of", "and", "for", "the", "on", "in", "to", "&"})


def asked_abbreviation(question: str) -> str | None:
    """The abbreviation whose meaning the question asks for, as written; None if it asks
    something else. Prefers a word written in capitals ("NCSC"), else any short word."""
    if it_is := _ASKS_WHAT_IT_IS.match(question):
        word = it_is.group("it").rstrip(".")
        initials = sum(c.isupper() for c in word) >= 2 or (question.islower() and len(word) > 2)
        plain = word.lower() in _COMMON | _PRONOUNS
        return word if initials and not plain and len(_letters(word)) <= 6 else None
    if not _ASKS_EXPANSION.search(question):
        return None
    words = [w.rstrip(".") for w in _CANDIDATE.findall(question)]
    words = [w for w in words if w.lower() not in _COMMON]
    capitals = [w for w in words if sum(c.isupper() for c in w) >= 2]
    found = capitals or [w for w in words if len(_letters(w)) <= 6]
    return found[0] if found else None


def spells_out(sentence: str, abbreviation: str) -> bool:
    """Whether `sentence` introduces `abbreviation` as "Words Making It Up (ABBR)"."""
    letters = _letters(abbreviation)
    if len(letters) < 2:
        return False
    pattern = re.compile(r"\(\s*" + re.escape(abbreviation.rstrip(".")) + r"\.?\s*\)", re.I)
    for match in pattern.finditer(sentence):
        before = re.findall(r"[A-Za-z][\w'’-]*|&", sentence[: match.start()])[-3 * len(letters) :]
        if _initials_end_with(before, letters):
            return True
    return False


def _letters(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalpha())


def _initials_end_with(words: list[str], letters: str) -> bool:
    """Whether the last words begin with `letters` in order. Small words ("of", "and") may
    count or not (DOE, Department of Energy; CSM, Command and Service Module), and a
    hyphenated word may give one letter or one per part (HP, Hewlett-Packard)."""
    if not letters:
        return True
    if not words:
        return False
    *rest, word = words
    parts = [p for p in re.split(r"[-/]", word.lower()) if p]
    ways = {parts[0][0]} | ({"".join(p[0] for p in parts)} if len(parts) > 1 else set())
    if any(
        letters.endswith(way) and _initials_end_with(rest, letters[: -len(way)]) for way in ways
    ):
        return True
    return word.lower() in _SMALL and _initials_end_with(rest, letters)
