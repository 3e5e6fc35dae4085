"""Names the corpus never mentions, against a small vocabulary (no index needed)."""

from __future__ import annotations

import pytest

from bot.lexical import terms
from bot.names import in_corpus, unknown_names

CORPUS = (
    "Ryan Ding of Huawei wrote to European leaders; New Zealand and Australia banned Chinese "
    "equipment, the UK's NCSC said, and Five Eyes members share intelligence worldwide. "
    "ABS-CBN's franchise expired."
)
KNOWN = {term: 1 for term in terms(CORPUS)}
VOCABULARY = sorted(KNOWN)


def names(question: str) -> tuple[str, ...]:
    return unknown_names(question, KNOWN, VOCABULARY)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Did Germany ban Huawei?", ("Germany",)),
        ("What did Tim Cook say?", ("Tim Cook",)),
        ("When does the next iPhone come out?", ("iPhone",)),
        ("Is the UK, unlike Germany, fine with Huawei?", ("Germany",)),
        ("What did Apple and Samsung say?", ("Apple", "Samsung")),
        ("Who is Ryan Ding?", ()),
        ("Who is Ryan Dign?", ()),  # one known word: maybe a typo
        ("What does Huawie sell?", ()),  # one letter off
        ("Why is Europe worried?", ()),  # shares all but the last letters of "European"
        ("Is Chinese-built kit risky?", ()),  # a known part
        ("What happened to ABS-CBN?", ()),  # known whole, though neither part is
        ("What happened to ABS-NBC?", ("ABS-NBC",)),
        ("news from January 2024", ()),  # a month says when: the articles published then
        ("What did Huawei say in Sept. 2019?", ()),
        ("What did Huawei say on Tuesday?", ("Tuesday",)),  # a day is said in the text
        ("What did the NCSC say? Answer briefly.", ()),  # a sentence's first word
        ("WHAT DID GERMANY SAY?", ()),  # all capitals: not checked
        ("did germany ban huawei?", ("germany",)),  # countries count in lower case too
        ("what did the french government decide?", ("french",)),  # ... and their peoples
        ("did new zealand ban huawei?", ()),  # a country the corpus names
        ("did apple and samsung say anything?", ()),  # other lower-case words are not names
    ],
)
def test_names_no_indexed_text_contains(question: str, expected: tuple[str, ...]) -> None:
    assert names(question) == expected


def test_short_terms_must_match_exactly() -> None:
    assert in_corpus("ding", KNOWN, VOCABULARY)
    assert not in_corpus("dign", KNOWN, VOCABULARY)  # too short to guess a typo
    assert in_corpus("huawie", KNOWN, VOCABULARY)
