"""The lean query encoder: the index's MiniLM weights as ONNX, run by ONNX Runtime and `tokenizers`.

Same computation as the sentence-transformers reference (`bot.embedding`): WordPiece tokens
truncated at `max_seq_length`, the transformer's last hidden state, mean pooling over the
attention mask, L2 normalisation. No torch is imported, so a cold question costs well under
a second instead of the ~6 s `import sentence_transformers` takes.

The ONNX file and the tokenizer are stored inside the index build, with their SHA-256 in the
manifest (`query_encoder`); `load_query_encoder` refuses files that do not match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from bot.embedding import MODEL_NAME

ENCODER_FILE = "query_encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_KEY = "query_encoder"


class QueryEncoderError(Exception):
    """The index's ONNX query encoder cannot be used; the message says why."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class OnnxEmbedder:
    """MiniLM on ONNX Runtime: the same vectors as `SentenceTransformerEmbedder`, without torch.

    `workers` sessions of one thread each encode batches side by side (the index build uses
    one per core); texts are tokenized first, sorted by token count and batched within a token
    budget, so padding is small.
    """

    name = MODEL_NAME
    runtime = "onnxruntime"

    def __init__(
        self, model_path: Path, tokenizer_path: Path, dimension: int, workers: int = 1
    ) -> None:
        """`tokenizer_path` as the export saved it: truncating, padding to the longest in a batch."""
        import onnxruntime
        from tokenizers import Tokenizer

        self.dimension = dimension
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._pad_id = int((self._tokenizer.padding or {}).get("pad_id", 0))
        self._tokenizer.no_padding()  # batches are padded here, after sorting by length
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        # One thread per session, no spin-waiting: a question is a few dozen tokens, and spinning
        # threads double the latency when other processes share the cores (measured on 2 shared
        # cores). Parallelism comes from running `workers` sessions at once.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._sessions = [
            onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            for _ in range(max(1, workers))
        ]

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings, one row per text, in the order given."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = _batches(order, [len(e.ids) for e in encodings], batch_size)

        def run(worker: int, batch: list[int]) -> None:
            vectors[batch] = self._encode_batch(
                self._sessions[worker], [encodings[i] for i in batch]
            )

        if len(self._sessions) == 1 or len(batches) == 1:
            for batch in batches:
                run(0, batch)
            return vectors
        from concurrent.futures import ThreadPoolExecutor

        workers = len(self._sessions)
        # ONNX Runtime releases the GIL: each worker thread runs its own session.
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda w: [run(w, b) for b in batches[w::workers]], range(workers)))
        return vectors

    def _encode_batch(self, session: Any, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Consecutive runs of `order` (longest first) of at most `batch_size * 128` tokens once
    padded: 16 texts of 256 tokens, or many more short ones. Memory stays bounded and short
    texts are not run one small batch at a time."""
    budget = batch_size * 128
    batches: list[list[int]] = []
    for index in order:
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def load_query_encoder(build: Path, manifest: dict[str, Any]) -> OnnxEmbedder:
    """The encoder stored in `build`; `QueryEncoderError` if it is absent, altered or unloadable."""
    entry = manifest.get(MANIFEST_KEY)
    if not isinstance(entry, dict):
        raise QueryEncoderError("the index has no ONNX query encoder (built without one)")
    try:
        files = {role: build / entry[role]["file"] for role in ("model", "tokenizer")}
        for role, path in files.items():
            if not path.is_file():
                raise QueryEncoderError(f"the ONNX query encoder's {role} file {path} is missing")
            if sha256_file(path) != entry[role]["sha256"]:
                raise QueryEncoderError(
                    f"the ONNX query encoder's {role} file {path} does not match its checksum"
                )
        return OnnxEmbedder(files["model"], files["tokenizer"], int(manifest["dimension"]))
    except QueryEncoderError:
        raise
    except ImportError as exc:
        raise QueryEncoderError(f"ONNX Runtime or tokenizers is not installed ({exc})") from None
    except Exception as exc:  # ONNX Runtime raises its own types for unreadable models
        raise QueryEncoderError(
            f"the ONNX query encoder cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None
