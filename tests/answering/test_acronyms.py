"""Questions about what an abbreviation stands for, and the sentences that spell one out."""

from __future__ import annotations

import pytest

from bot.answering.acronyms import asked_abbreviation, spells_out


@pytest.mark.parametrize(
    ("question", "abbreviation"),
    [
        ("What does NCSC stand for?", "NCSC"),
        ("what does ncsc stand for", "ncsc"),
        ("What is the AFC short for?", "AFC"),
        ("What does the acronym LEM mean?", "LEM"),
        ("What is the NCSC?", "NCSC"),  # what it is: the sentence that spells it out says
        ("whats ncsc", None),  # typed short: read as "what is ncsc?" before this (spelling.py)
        ("what is ncsc?", "ncsc"),
        ("what is it?", None),
        ("What is Huawei?", None),
        ("Who is Ryan Ding?", None),
        ("Where does the UK stand on Huawei?", None),
    ],
)
def test_the_abbreviation_asked_about(question: str, abbreviation: str | None) -> None:
    assert asked_abbreviation(question) == abbreviation


@pytest.mark.parametrize(
    ("sentence", "abbreviation"),
    [
        ("The UK National Cyber Security Centre (NCSC) has concluded that", "NCSC"),
        ("The UK National Cyber Security Centre (NCSC) has concluded that", "ncsc"),
        ("The Department of Energy (DOE) said", "DOE"),  # a small word may count
        ("the Command and Service Module (CSM) docked", "CSM"),  # ... or not
        ("Hewlett-Packard (HP) said", "HP"),  # one letter per part of a hyphenated word
    ],
)
def test_sentences_that_spell_it_out(sentence: str, abbreviation: str) -> None:
    assert spells_out(sentence, abbreviation)


@pytest.mark.parametrize(
    "sentence",
    [
        "The NCSC's latest conclusion stands in contrast to countries like New Zealand.",
        "Officials from the agency (NCSC) declined to comment.",  # initials do not match
        "The National Cyber Security Centre said so.",  # not introduced in brackets
    ],
)
def test_sentences_that_only_use_it(sentence: str) -> None:
    assert not spells_out(sentence, "NCSC")
