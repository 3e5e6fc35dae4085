"""The lean query encoder: same vectors and answers as sentence-transformers, honest fallback."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from bot.engine import Newsbot, validate_question
from bot.indexing import store
from bot.onnx_embedding import (
    ENCODER_FILE,
    TOKENIZER_FILE,
    OnnxEmbedder,
    load_query_encoder,
    sha256_file,
)
from tests.conftest import DATA, SEED_CORPUS, read_jsonl

QUESTIONS = [
    item["question"]
    for name in ("seed_gold", "seed_dev")
    for item in read_jsonl(DATA / f"{name}.jsonl")
]
ARTICLE = next(SEED_CORPUS.glob("*.txt")).read_text(encoding="utf-8")
ODD_STRINGS = [
    "",
    " ",
    "a",
    "5G",
    "?",
    "Huawei",
    "  WHO   IS\tRYAN\nDING  ",
    "£2bn",
    "$2 billion over 5 years",
    "3.14159",
    "2019-03-28",
    "1,000,000",
    "+44 20 7946 0958",
    "Ünïcödé naïve café — déjà vu",
    "e\u0301te\u0301 (combining accents)",
    "北京华为技术有限公司",
    "Привет, мир",
    "مرحبا بالعالم",
    "😀🚀 5G rollout 🇬🇧",
    "ﬁnancial ﬂows",
    "zero\u200bwidth\u200djoiner",
    "<html><body>NCSC</body></html>",
    "https://www.ncsc.gov.uk/report?id=42&lang=en",
    "word " * 600,
    ARTICLE,
    ARTICLE.upper(),
]


@pytest.fixture(scope="session")
def onnx_embedder(seed_settings) -> OnnxEmbedder:
    """The encoder the seed index build stored, loaded as the query path loads it."""
    manifest = store.read_manifest(seed_settings.index_dir)
    return load_query_encoder(store.current_build(seed_settings.index_dir), manifest)


@pytest.fixture(scope="session")
def onnx_bot(seed_settings, onnx_embedder) -> Newsbot:
    return Newsbot(seed_settings, embedder=onnx_embedder)


def parity_strings() -> list[str]:
    paragraphs = [p for p in ARTICLE.split("\n\n") if p.strip()]
    return QUESTIONS + ODD_STRINGS + paragraphs


def test_onnx_vectors_match_sentence_transformers_on_varied_strings(
    onnx_embedder, embedder
) -> None:
    texts = parity_strings()
    assert len(texts) >= 100
    reference = embedder.encode(texts)
    batched = onnx_embedder.encode(texts)  # mixed lengths: padding must not change a vector
    one_by_one = np.vstack([onnx_embedder.encode([text]) for text in texts])
    for vectors in (batched, one_by_one):
        assert vectors.shape == reference.shape and vectors.dtype == np.float32
        cosines = np.sum(vectors * reference, axis=1)
        worst = int(np.argmin(cosines))
        assert cosines[worst] >= 0.9999, f"cosine {cosines[worst]:.6f} for {texts[worst][:60]!r}"
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_text_past_256_tokens_is_truncated_as_sentence_transformers_does(
    onnx_embedder, embedder
) -> None:
    long = "The NCSC reviewed Huawei equipment in detail. " * 60  # ~500 tokens
    tails = [long + "Nothing else.", long + "Kenya harvested a record tea crop this year."]
    onnx = onnx_embedder.encode(tails)
    assert float(onnx[0] @ onnx[1]) == pytest.approx(1.0, abs=1e-6)
    assert np.sum(onnx * embedder.encode(tails), axis=1).min() >= 0.9999


class BatchEncoded:
    """The reference embedder's vectors for known texts, computed in one batch (it is slow per call)."""

    def __init__(self, embedder, texts: list[str]) -> None:
        self.name, self.dimension = embedder.name, embedder.dimension
        self._embedder = embedder
        self._rows = dict(zip(texts, embedder.encode(texts), strict=True))

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        # A question is encoded as it is read (bot/spelling.py), which may differ from the text.
        missing = [text for text in texts if text not in self._rows]
        if missing:
            self._rows.update(zip(missing, self._embedder.encode(missing), strict=True))
        return np.vstack([self._rows[text] for text in texts])


def test_gold_questions_get_the_same_answer_and_passages_on_both_paths(
    onnx_bot, seed_settings, embedder
) -> None:
    # A fixed third of the gold and dev questions in hybrid mode and a sixth in dense mode keep
    # this short; scripts/bench_latency.py compares 200 questions on both paths.
    asked = [(q, "hybrid") for q in QUESTIONS[::3]] + [(q, "dense") for q in QUESTIONS[1::6]]
    asked = [(validate_question(q, seed_settings.max_question_chars), m) for q, m in asked]
    reference_bot = Newsbot(seed_settings, embedder=BatchEncoded(embedder, [q for q, _ in asked]))
    for question, mode in asked:
        onnx = onnx_bot.ask(question, retriever=mode, top_k=5)
        reference = reference_bot.ask(question, retriever=mode, top_k=5)
        assert onnx.answer == reference.answer, (question, mode)
        assert [(c.path, c.start, c.end) for c in onnx.citations] == [
            (c.path, c.start, c.end) for c in reference.citations
        ], (question, mode)


def test_the_build_stores_the_encoder_with_its_checksums(seed_settings) -> None:
    manifest = store.read_manifest(seed_settings.index_dir)
    build = store.current_build(seed_settings.index_dir)
    entry = manifest["query_encoder"]
    assert entry["model"] == {"file": ENCODER_FILE, "sha256": sha256_file(build / ENCODER_FILE)}
    assert entry["tokenizer"] == {
        "file": TOKENIZER_FILE,
        "sha256": sha256_file(build / TOKENIZER_FILE),
    }
    assert entry["max_seq_length"] == 256


def test_a_bot_without_an_explicit_embedder_answers_with_onnx(seed_settings, seed_bot) -> None:
    bot = Newsbot(seed_settings)
    answer = bot.ask("Who is Ryan Ding?")
    assert isinstance(bot.embedder, OnnxEmbedder)
    assert answer.answer == seed_bot.ask("Who is Ryan Ding?").answer


@pytest.fixture
def copied_index(seed_settings, tmp_path):
    """A private copy of the seed index, free to damage."""
    shutil.copytree(seed_settings.index_dir, tmp_path / "index")
    settings = seed_settings.replace(index_dir=tmp_path / "index")
    return settings, store.current_build(settings.index_dir)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda build: (build / ENCODER_FILE).unlink(), "is missing"),
        (lambda build: _flip_a_byte(build / ENCODER_FILE), "does not match its checksum"),
        (lambda build: _flip_a_byte(build / TOKENIZER_FILE), "does not match its checksum"),
    ],
    ids=["missing-model", "corrupt-model", "corrupt-tokenizer"],
)
def test_a_damaged_encoder_is_reported_once_and_the_answers_stay_the_same(
    copied_index, seed_bot, damage, reason, caplog: pytest.LogCaptureFixture
) -> None:
    settings, build = copied_index
    damage(build)
    bot = Newsbot(settings)
    with caplog.at_level(logging.WARNING, logger="bot.engine"):
        answers = [bot.ask(q).answer for q in QUESTIONS[:3]]
        again = Newsbot(settings).ask(QUESTIONS[0]).answer
    assert not isinstance(bot.embedder, OnnxEmbedder)
    assert answers == [seed_bot.ask(q).answer for q in QUESTIONS[:3]]
    assert again == answers[0]
    warnings = [r.getMessage() for r in caplog.records if "ONNX" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert reason in warnings[0] and "sentence-transformers" in warnings[0]


def _flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
