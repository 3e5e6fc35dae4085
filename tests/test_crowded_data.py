"""The crowded dev corpus and its question sets hold together (no model, no index)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.evaluation import load_qa, normalise
from bot.indexing.corpus import Document, load_corpus

DATA = Path(__file__).parent / "data"
CROWDED = DATA / "crowded"
CORPUS = CROWDED / "corpus"
SPLITS = {"dev": DATA / "crowded_dev.jsonl", "test": DATA / "crowded_test.jsonl"}
USERS = DATA / "crowded_users.jsonl"  # written apart from both splits, by someone else
BUNDLED = "ncsc-huawei-5g.txt"  # the project's own article, copied as is (no known source or date)
MIN_ARTICLES = 32
MIN_ANSWERABLE = 100
MIN_UNANSWERABLE = 26


def _entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {doc.doc_id: doc for doc in load_corpus(CORPUS).documents}


def test_both_splits_load_as_qa_files_and_meet_the_minimum_counts() -> None:
    items = [item for path in SPLITS.values() for item in load_qa(path)]
    answerable = [item for item in items if item.answerable]
    assert len(answerable) >= MIN_ANSWERABLE
    assert len(items) - len(answerable) >= MIN_UNANSWERABLE
    dev = load_qa(SPLITS["dev"])
    for wanted in (True, False):  # about half of each in dev, the rest held out
        share = sum(item.answerable is wanted for item in dev) / sum(
            item.answerable is wanted for item in items
        )
        assert 0.4 <= share <= 0.6


def test_no_question_is_in_both_splits() -> None:
    dev, test = ({normalise(e["question"]) for e in _entries(p)} for p in SPLITS.values())
    assert not dev & test
    for path in SPLITS.values():
        questions = [normalise(e["question"]) for e in _entries(path)]
        assert len(questions) == len(set(questions)), f"a question is repeated in {path.name}"


@pytest.mark.parametrize("path", [*SPLITS.values(), USERS], ids=lambda p: p.stem)
def test_every_answer_occurs_in_the_article_it_names(
    path: Path, documents: dict[str, Document]
) -> None:
    for entry in _entries(path):
        if entry.get("answerable") is False:
            assert "doc" not in entry and entry["kind"] == "near-topic", entry["question"]
            continue
        assert entry["doc"] in documents, f"{entry['question']!r}: no article {entry['doc']}"
        text = normalise(documents[entry["doc"]].text)
        for answer in entry["answers"]:
            assert normalise(answer) in text, (
                f"{entry['question']!r}: {answer!r} not in {entry['doc']}"
            )


def test_the_corpus_has_enough_articles_each_with_its_front_matter(
    documents: dict[str, Document],
) -> None:
    assert len(documents) >= MIN_ARTICLES
    assert BUNDLED in documents
    bundled = (Path(__file__).parent.parent / "corpus" / BUNDLED).read_bytes()
    assert (CORPUS / BUNDLED).read_bytes() == bundled
    for doc_id, doc in documents.items():
        assert doc.title, doc_id
        if doc_id == BUNDLED:
            continue
        assert doc.source == "Wikinews", doc_id
        assert doc.url.startswith("https://en.wikinews.org/wiki/"), doc_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.published), doc_id
        assert doc_id.startswith(doc.published + "-") and doc_id.endswith(".md"), doc_id


def test_every_article_is_attributed(documents: dict[str, Document]) -> None:
    attribution = (CROWDED / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 2.5" in attribution and "Wikinews contributors" in attribution
    for doc_id, doc in documents.items():
        assert f"`{doc_id}`" in attribution, doc_id
        if doc_id != BUNDLED:
            assert doc.url in attribution, doc_id


OVERVIEWS = ("overview_dev.jsonl", "overview_test.jsonl", "overview_users.jsonl")


@pytest.mark.parametrize("name", OVERVIEWS)
def test_an_overview_answer_is_in_the_lead_of_exactly_one_article(
    name: str, documents: dict[str, Document]
) -> None:
    leads = {doc_id: normalise(doc.text[:600]) for doc_id, doc in documents.items()}
    texts = {doc_id: normalise(doc.text) for doc_id, doc in documents.items()}
    for entry in _entries(DATA / name):
        for answer in entry.get("answers") or []:
            holding = [d for d, text in texts.items() if normalise(answer) in text]
            assert len(holding) == 1, (entry["question"], answer, holding)
            assert normalise(answer) in leads[holding[0]], (entry["question"], answer)


def test_no_overview_question_is_in_two_sets() -> None:
    seen: set[str] = set()
    for name in OVERVIEWS:
        questions = {normalise(e["question"]) for e in _entries(DATA / name)}
        assert not questions & seen, name
        seen |= questions


@pytest.mark.parametrize("name", ["dialogues_users.jsonl", "dialogues_users2.jsonl"])
def test_every_chat_turn_answer_is_in_the_corpus(name: str, documents: dict[str, Document]) -> None:
    texts = [normalise(doc.text) for doc in documents.values()]
    for dialogue in _entries(DATA / name):
        assert 3 <= len(dialogue["turns"]) <= 6, dialogue["id"]
        for turn in dialogue["turns"]:
            for answer in turn["answers"]:
                assert any(normalise(answer) in text for text in texts), (turn, answer)
