"""Splitting text into paragraphs and sentences, keeping exact character offsets.

Sentences are found by a rule-based splitter (`SPLITTER`): a boundary is sentence-final
punctuation (with any closing quotes or brackets), then whitespace, then something that can
start a sentence; known abbreviations, initials and dotted acronyms do not end a sentence
unless a typical sentence opener follows. It works on offsets only, so every span maps back
to the text exactly, and it splits about 12 MB/s where pysbd managed 0.2 MB/s, with the same
answer quality (docs/benchmarks.md). A sentence never exceeds `MAX_SENTENCE_CHARS`: longer
runs without punctuation are cut at whitespace, so a file of one endless line still yields
passages.
"""

from __future__ import annotations

import itertools
import re

Span = tuple[int, int]
SPLITTER = "rules-2"  # recorded in the manifest: a different splitter forces a full build
MAX_SENTENCE_CHARS = 10_000
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

# Sentence-final punctuation, closing quotes/brackets, then whitespace and the next character.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(\s+)(?=(\S))")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD_BEFORE = re.compile(r"(\S+)\Z")
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
# Words after which a period is an abbreviation, not the end of a sentence (lower case,
# without their final period).
_ABBREVIATIONS = _words(
    """
    mr mrs ms messrs mme mlle dr prof sr jr st mt ft gen gov sen rep lt col capt cmdr cdr sgt
    maj adm pres supt det insp rev hon fr rt esq
    inc ltd co corp plc llc bros dept univ assn est intl natl
    kft zrt nyrt gmbh ag nv bv srl pty bhd
    vs v etc al eg e.g ie i.e cf viz approx ca
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    no nos vol vols p pp fig figs ch sec art op ed eds para
    a.m p.m am pm
    """
)
# Abbreviations that often end a sentence: a period after them is final when one of these
# opens the next word ("... Huawei Technologies Co. The company said ...").
_ENDS_SENTENCE_TOO = _words(
    "inc ltd co corp plc llc bros kft zrt nyrt gmbh ag nv bv srl pty bhd etc al"
)
_OPENERS = _words(
    """
    A An The This That These Those It Its He She His Her They Their There We Our I In On At
    But And However Meanwhile Yet So If When While After Before Last Earlier Later
    """
)
_CAN_START = re.compile(r"[A-Z0-9\"'“‘(\[«¿¡]|[^\W\d_a-z]", re.UNICODE)


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Non-blank paragraphs of `text[start:end]` (separated by blank lines), whitespace trimmed."""
    end = len(text) if end is None else end
    spans, cursor = [], start
    for match in _BLANK_LINE.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return [trimmed for span in spans if (trimmed := _trim(text, span))]


def sentences(text: str, span: Span) -> list[Span]:
    """Sentences of `text[span[0]:span[1]]` as trimmed spans of `text`."""
    start, end = span
    cuts = [start]
    for match in _BOUNDARY.finditer(text, start, end):
        if _is_boundary(text, match, cuts[-1]):
            cuts.append(match.end(2))
    cuts.append(end)
    found = []
    for begin, finish in itertools.pairwise(cuts):
        found += _cap_length(text, begin, finish)
    return [trimmed for s in found if (trimmed := _trim(text, s))]


def _is_boundary(text: str, match: re.Match[str], sentence_start: int) -> bool:
    following = match.group(4)
    if not _CAN_START.match(following) or following.islower():
        return False
    if match.group(1) != ".":  # "?", "!", "...": final before anything that can open one
        return True
    word = _WORD_BEFORE.search(text, sentence_start, match.start(1))
    if word is None:
        return True
    token = word.group(1).lstrip("\"'“‘([«").lower()
    if not token or not (token.rstrip(".") in _ABBREVIATIONS or _is_initial(word.group(1))):
        return True
    next_word = re.match(r"[\w’']+", text[match.end(3) : match.end(3) + 20])
    opens = next_word is not None and next_word.group(0) in _OPENERS
    return opens and (token in _ENDS_SENTENCE_TOO or _is_initial(word.group(1)))


def _is_initial(word: str) -> bool:
    """'J' (as in 'J. Smith') or a dotted acronym such as 'U.S' (its last period is the match)."""
    core = word.lstrip("\"'“‘([«")
    return (len(core) == 1 and core.isalpha()) or _DOTTED_ACRONYM.fullmatch(core) is not None


def _cap_length(text: str, start: int, end: int) -> list[Span]:
    """Cut a run longer than `MAX_SENTENCE_CHARS` at its last whitespace before the limit."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = max(text.rfind(" ", start + 1, limit), text.rfind("\n", start + 1, limit))
        cut = cut if cut > start else limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def pysbd_sentences(text: str, span: Span) -> list[Span]:
    """The former splitter (pysbd), kept for the comparison in scripts/bench_build.py."""
    import pysbd

    start, end = span
    found, cursor = [], start
    for piece in pysbd.Segmenter(language="en", clean=False).segment(text[start:end]):
        core = piece.strip()
        if not core:
            continue
        position = text.find(core, cursor, end)
        if position < 0:  # pysbd altered the text; fall back to the rest of the paragraph
            found.append((cursor, end))
            break
        found.append((position, position + len(core)))
        cursor = position + len(core)
    return [trimmed for s in found if (trimmed := _trim(text, s))]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
