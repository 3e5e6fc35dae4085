"""Answer sentences, calibrated abstention and duplicate passages, on real indexes."""

from __future__ import annotations

from bot.engine import Newsbot
from bot.indexing import build_index
from tests.conftest import DATA, read_jsonl

GOLD = read_jsonl(DATA / "seed_gold.jsonl")


def test_answerable_gold_questions_are_rarely_abstained_on(seed_bot) -> None:
    answerable = [i for i in GOLD if i.get("answerable", True)]
    false_abstentions = [i["question"] for i in answerable if seed_bot.ask(i["question"]).abstained]
    # The threshold allows about one in 15 on dev data; the gold set is harder (4 of 49).
    assert len(false_abstentions) <= 0.1 * len(answerable), false_abstentions


def test_a_name_the_corpus_never_mentions_lowers_confidence(seed_bot) -> None:
    known = seed_bot.ask("What did Ryan Ding send to the British lawmakers?")
    unknown = seed_bot.ask("What did Tim Cook send to the British lawmakers?")
    assert not known.abstained and "letter" in known.answer
    assert unknown.abstained and unknown.confidence < known.confidence
    assert unknown.citations and unknown.citations[0].highlight is None


WIRE_STORY = (
    "Copper prices rose to a record on Tuesday after the Kasanka Mining strike closed the "
    "largest mine in the region. Traders said stocks in London warehouses fell by a third."
)


def test_the_same_passage_in_several_documents_is_cited_once(make_corpus, embedder) -> None:
    settings = make_corpus(
        {
            "agency-a.txt": f"Copper hits record\n\n{WIRE_STORY}\n",
            "agency-b.txt": f"Metals: copper climbs\n\n{WIRE_STORY}\n",
            "other.txt": "Tea harvest\n\nKenya's tea harvest fell after a dry spell in the highlands.\n",
        }
    )
    build_index(settings, embedder=embedder)
    answer = Newsbot(settings, embedder=embedder).ask(
        "Why did copper prices rise to a record?", top_k=3
    )
    assert not answer.abstained and "Kasanka Mining strike" in answer.answer
    texts = [c.text for c in answer.citations]
    assert len(texts) == len(set(texts))
    first = answer.citations[0]
    assert first.text == WIRE_STORY
    assert [other["doc_id"] for other in first.also_in] == [
        doc for doc in ("agency-a.txt", "agency-b.txt") if doc != first.doc_id
    ]
    other = first.also_in[0]
    with open(other["path"], encoding="utf-8") as fh:
        assert fh.read()[other["start"] : other["end"]] == WIRE_STORY
    assert [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))
