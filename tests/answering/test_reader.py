"""The shipped answer reader: verified when loaded, and it reads question and sentence together."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.answering import reader as reader_module
from bot.answering.reader import (
    CARD_FILE,
    MODELS_DIR,
    Reader,
    ReaderCard,
    ReaderError,
    candidate_text,
)
from bot.answering.reading import runner_up
from bot.cli import app

# A paragraph the reader never saw: each question's answer is in a different sentence.
DANUBE = [
    "The Danube flows through ten countries, more than any other river in the world.",
    "It rises in the Black Forest in Germany.",
    "The river ends in the Black Sea, where it forms a wide delta.",
    "Vienna, Budapest and Belgrade all lie on its banks.",
]
QUESTIONS = {
    "Where does the Danube begin?": 1,
    "how many countries does the danube cross": 0,
    "Into which sea does it empty?": 2,
    "Which capital cities are on the river?": 3,
}


def _candidates(reader: Reader) -> list[str]:
    return [
        reader.candidate(s, DANUBE[i - 1] if i else None, "Danube") for i, s in enumerate(DANUBE)
    ]


def test_the_reader_ranks_the_answer_sentence_first() -> None:
    reader = reader_module.packaged_reader()
    missed = []
    for question, gold in QUESTIONS.items():
        scores = reader.score(question, _candidates(reader))
        assert scores.min() >= 0.0 and scores.max() <= 1.0
        if int(np.argmax(scores)) != gold:
            missed.append((question, scores.round(3).tolist()))
    # The shipped model misses "Where does the Danube begin?" ("rises" is the answer's verb):
    # it picks the right sentence .85 of the time on held-out SQuAD, so one miss in four is allowed.
    assert len(missed) <= 1, missed


def test_the_context_sentence_lets_a_follow_up_sentence_answer() -> None:
    reader = reader_module.packaged_reader()
    group = "Portugal is a member of the Latin Union, a group of Romance-language countries."
    members = "Other members of the group are Spain, France, Italy and Romania."
    with_context, alone = reader.score(
        "Which countries belong to the Latin Union?",
        [candidate_text(members, group), candidate_text(members, None)],
    )
    assert with_context > alone


def test_a_candidate_is_the_sentence_then_its_context_with_whitespace_tidied() -> None:
    assert candidate_text("It rises\n in  Germany.", None) == "It rises in Germany."
    assert candidate_text("It rises.", "The Danube.", None) == "It rises. [SEP] The Danube."
    assert (
        candidate_text("It rises.", "The Danube.", "Rivers of Europe")
        == "It rises. [SEP] Rivers of Europe [SEP] The Danube."
    )
    assert candidate_text("It rises.", "  ", "") == "It rises."


def test_the_title_reaches_the_reader_only_when_its_card_says_it_was_trained_with_it() -> None:
    card = ReaderCard.load(MODELS_DIR / CARD_FILE)
    untitled = Reader(replace(card, reads_title=False), MODELS_DIR)
    titled = Reader(replace(card, reads_title=True), MODELS_DIR)
    assert untitled.candidate("It rises.", "The Danube.", "Rivers") == "It rises. [SEP] The Danube."
    assert "Rivers" in titled.candidate("It rises.", "The Danube.", "Rivers")


def test_an_answer_is_surer_the_further_it_leads_the_runner_up() -> None:
    reader = reader_module.packaged_reader()
    assert reader.card.lead_weight > 0  # the shipped calibration reads the lead
    clear = reader.answer_confidence(0.7, 0.05)
    close = reader.answer_confidence(0.7, 0.65)
    assert clear > close
    assert reader.answer_confidence(0.7, None) >= clear  # no rival at all
    assert reader.answer_confidence(0.9, 0.05) > clear  # a likelier answer
    plain = Reader(
        replace(reader.card, confidence_weight=1.0, lead_weight=0.0, confidence_shift=0.0),
        MODELS_DIR,
    )
    # A card without the fitted confidence gives the answer sentence's own probability.
    assert plain.answer_confidence(0.7, 0.65) == pytest.approx(0.7)


def test_the_rival_of_an_answer_is_no_neighbour_of_it_in_its_document() -> None:
    probabilities = np.array([0.2, 0.9, 0.8, 0.3])
    sentences = np.array([40, 11, 12, 13])
    # Sentence 12 follows the best one (11) in the same document: it would join the answer.
    assert runner_up(probabilities, sentences, np.array([1, 0, 0, 0])) == pytest.approx(0.3)
    # In another document, the same sentence number is a rival.
    assert runner_up(probabilities, sentences, np.array([1, 0, 5, 0])) == pytest.approx(0.8)
    assert runner_up(np.array([0.9, 0.8]), np.array([11, 12]), np.array([0, 0])) is None


def _copy_models(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target


def test_a_damaged_model_file_is_refused_when_loaded(tmp_path: Path) -> None:
    models = _copy_models(tmp_path)
    card = ReaderCard.load(models / CARD_FILE)
    data = bytearray((models / card.model_file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (models / card.model_file).write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="is damaged"):
        Reader(card, models)
    (models / card.model_file).unlink()
    with pytest.raises(ReaderError, match="cannot be read"):
        Reader(card, models)


def test_ask_with_a_damaged_model_says_so_in_one_line(
    tmp_path: Path, seed_settings, monkeypatch
) -> None:
    models = _copy_models(tmp_path)
    card = ReaderCard.load(models / CARD_FILE)
    with (models / card.model_file).open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00" * 16)
    monkeypatch.setattr(reader_module, "MODELS_DIR", models)
    reader_module.packaged_reader.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "ask",
                "--corpus",
                str(seed_settings.corpus_dir),
                "--index",
                str(seed_settings.index_dir),
                "Who is Ryan Ding?",
            ],
        )
    finally:
        reader_module.packaged_reader.cache_clear()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("newsbot: error: the answer reader's file"), result.output
    assert "damaged" in lines[-1] and "Traceback" not in result.output
