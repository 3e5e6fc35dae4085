"""The answer reader: a cross-encoder that reads a question and a candidate sentence together.

It scores (question, candidate) pairs with the probability that the candidate answers the
question. A candidate is one sentence of an article, followed as context by the article's title
(when the card says the model was trained so) and the sentence before it (so "Other members of
the group are..." can be read as being about the group the previous sentence names, and the
question's topic words may be found in the title rather than the sentence). The model is
MiniLM-L6 (the index's own embedding model) fine-tuned on SQuAD v1.1 train by
`scripts/train_reader.py`, exported to ONNX and quantised to int8. It ships inside the package
(`bot/models/`) with its SHA-256, checked when it is loaded.

Needs only ONNX Runtime and `tokenizers`: no torch on the question path.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bot.errors import NewsbotError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
CARD_FILE = "reader.json"
READER_CARD = MODELS_DIR / CARD_FILE
MAX_TOKENS = 160  # question + candidate + context; longer pairs lose the end of the context
CONTEXT_SEPARATOR = " [SEP] "
LEAD_CAP = 5.0  # log-odds: a lead over the runner-up beyond this says nothing more


class ReaderError(NewsbotError):
    """The packaged reader model is missing or damaged."""


def candidate_text(sentence: str, previous: str | None, title: str | None = None) -> str:
    """What the reader sees of a candidate: the sentence, then as context its article's title
    (for a reader trained with titles) and the sentence before it.

    The sentence comes first so that truncation only ever cuts the context.
    """
    parts = (" ".join((part or "").split()) for part in (sentence, title, previous))
    return CONTEXT_SEPARATOR.join(part for part in parts if part)


@dataclass(frozen=True)
class ReaderCard:
    """What `bot/models/reader.json` records about the shipped model."""

    model_file: str
    model_sha256: str
    tokenizer_file: str
    tokenizer_sha256: str
    max_tokens: int
    # Platt scaling fitted by scripts/calibrate_reader.py: probability a sentence answers.
    scale: float = 1.0
    shift: float = 0.0
    reads_title: bool = False  # trained with the article's title in each candidate's context
    # The answer's confidence from its sentence's probability and that sentence's lead over
    # the runner-up (answer_confidence), also fitted by scripts/calibrate_reader.py. The
    # defaults make it the sentence's probability alone.
    confidence_weight: float = 1.0
    lead_weight: float = 0.0
    confidence_shift: float = 0.0

    @classmethod
    def load(cls, path: Path = READER_CARD) -> ReaderCard:
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
            calibration = card.get("calibration", {})
            confidence = calibration.get("confidence", {})
            return cls(
                model_file=card["model"]["file"],
                model_sha256=card["model"]["sha256"],
                tokenizer_file=card["tokenizer"]["file"],
                tokenizer_sha256=card["tokenizer"]["sha256"],
                max_tokens=int(card.get("max_tokens", MAX_TOKENS)),
                scale=float(calibration.get("scale", 1.0)),
                shift=float(calibration.get("shift", 0.0)),
                reads_title=card.get("context") == "title+previous",
                confidence_weight=float(confidence.get("probability", 1.0)),
                lead_weight=float(confidence.get("lead", 0.0)),
                confidence_shift=float(confidence.get("shift", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as problem:
            raise ReaderError(
                f"the answer reader's card {path} cannot be read ({problem}); reinstall newsbot"
            ) from None


def confidence_features(best: float, runner_up: float | None) -> tuple[float, float]:
    """(the answer's log-odds, its lead in log-odds over the runner-up, if there is one)."""
    best_log_odds = _log_odds(best)
    if runner_up is None:
        return best_log_odds, LEAD_CAP
    return best_log_odds, min(best_log_odds - _log_odds(runner_up), LEAD_CAP)


def _log_odds(probability: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class Reader:
    """Scores (question, candidate) pairs with ONNX Runtime; `score` returns probabilities."""

    def __init__(self, card: ReaderCard, directory: Path = MODELS_DIR) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model_path = directory / card.model_file
        tokenizer_path = directory / card.tokenizer_file
        for path, expected in (
            (model_path, card.model_sha256),
            (tokenizer_path, card.tokenizer_sha256),
        ):
            try:
                actual = _sha256(path)
            except OSError as problem:
                raise ReaderError(
                    f"the answer reader's file {path} cannot be read ({problem.strerror}); "
                    "reinstall newsbot"
                ) from None
            if actual != expected:
                raise ReaderError(
                    f"the answer reader's file {path} is damaged (SHA-256 does not match "
                    "bot/models/reader.json); reinstall newsbot"
                )
        self.card = card
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(card.max_tokens, strategy="longest_first")
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # Two threads: 54 ms instead of 80 per question (8 pairs) on 2 cores; more do not help
        # such small batches.
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )

    def candidate(self, sentence: str, previous: str | None, title: str | None) -> str:
        """A candidate's text in the form this reader was trained on."""
        return candidate_text(sentence, previous, title if self.card.reads_title else None)

    def logits(self, question: str, candidates: list[str]) -> np.ndarray:
        """The model's raw score (log-odds) for each candidate."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch([(question, c) for c in candidates])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self._session.run(None, feed)[0].reshape(-1).astype(np.float32)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities that the candidates answer the question."""
        return 1.0 / (1.0 + np.exp(-(self.card.scale * logits + self.card.shift)))

    def answer_confidence(self, best: float, runner_up: float | None) -> float:
        """The probability that the answer is right, from its sentence's probability `best`
        and the probability of the likeliest rival sentence `runner_up` (None: no rival).

        The answer's own probability says how well it answers; its lead over the runner-up
        says whether another sentence answers as well, as when two stories in a crowded
        corpus each seem to (docs/design.md, "Abstention").
        """
        log_odds, lead = confidence_features(best, runner_up)
        card = self.card
        z = card.confidence_weight * log_odds + card.lead_weight * lead + card.confidence_shift
        return float(1.0 / (1.0 + np.exp(-z)))

    def score(self, question: str, candidates: list[str]) -> np.ndarray:
        """The calibrated probability that each candidate answers the question."""
        return self.probabilities(self.logits(question, candidates))

    @classmethod
    def from_directory(cls, directory: Path) -> Reader:
        """The reader whose card (reader.json) and files are in `directory`."""
        return cls(ReaderCard.load(directory / CARD_FILE), directory)


@cache
def packaged_reader() -> Reader:
    """The reader shipped in `bot/models/`, loaded and verified once per process."""
    return Reader.from_directory(MODELS_DIR)
