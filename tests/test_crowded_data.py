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
# A second corpus of other stories (US primaries, COVID-19 figures, hurricanes, Puerto Rico,
# rugby), with questions written by someone who saw neither the code nor the first corpus.
FRESH = DATA / "fresh"
FRESH_SPLITS = {"dev": DATA / "fresh_dev.jsonl", "test": DATA / "fresh_test.jsonl"}
BUNDLED = "ncsc-huawei-5g.txt"  # the project's own article, copied as is (no known source or date)
MIN_ARTICLES = 32
MIN_ANSWERABLE = 100
MIN_UNANSWERABLE = 26


def _entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {doc.doc_id: doc for doc in load_corpus(CORPUS).documents}


@pytest.fixture(scope="module")
def fresh_documents() -> dict[str, Document]:
    return {doc.doc_id: doc for doc in load_corpus(FRESH / "corpus").documents}


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


@pytest.mark.parametrize(
    "path", [*SPLITS.values(), USERS, *FRESH_SPLITS.values()], ids=lambda p: p.stem
)
def test_every_answer_occurs_in_the_article_it_names(
    path: Path, documents: dict[str, Document], fresh_documents: dict[str, Document]
) -> None:
    if path in FRESH_SPLITS.values():
        documents = fresh_documents
    assert load_qa(path)
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


def test_the_fresh_corpus_is_other_stories_each_article_attributed(
    documents: dict[str, Document], fresh_documents: dict[str, Document]
) -> None:
    assert len(fresh_documents) >= 30
    assert not {d.url for d in fresh_documents.values()} & {d.url for d in documents.values()}
    attribution = (FRESH / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 2.5" in attribution and "Wikinews contributors" in attribution
    for doc_id, doc in fresh_documents.items():
        assert doc.source == "Wikinews" and doc.title, doc_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.published), doc_id
        assert doc_id in attribution and doc.url in attribution, doc_id
    dev, test = ({normalise(e["question"]) for e in _entries(p)} for p in FRESH_SPLITS.values())
    assert not dev & test


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


@pytest.mark.parametrize(
    ("name", "corpus"),
    [
        ("dialogues_users.jsonl", "crowded"),
        ("dialogues_users2.jsonl", "crowded"),
        ("dialogues_users3.jsonl", "crowded"),
        ("dialogues_fresh.jsonl", "fresh"),  # held out: written blind, on the other stories
    ],
)
def test_every_chat_turn_answer_is_in_the_corpus(
    name: str,
    corpus: str,
    documents: dict[str, Document],
    fresh_documents: dict[str, Document],
) -> None:
    chosen = fresh_documents if corpus == "fresh" else documents
    texts = [normalise(doc.text) for doc in chosen.values()]
    for dialogue in _entries(DATA / name):
        assert 3 <= len(dialogue["turns"]) <= 7, dialogue["id"]
        for turn in dialogue["turns"]:
            for answer in turn["answers"]:
                assert any(normalise(answer) in text for text in texts), (turn, answer)
