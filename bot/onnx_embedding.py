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
    """MiniLM on ONNX Runtime: the same vectors as `SentenceTransformerEmbedder`, without torch."""

    name = MODEL_NAME

    def __init__(self, model_path: Path, tokenizer_path: Path, dimension: int) -> None:
        """`tokenizer_path` as the export saved it: truncating, padding to the longest in a batch."""
        import onnxruntime
        from tokenizers import Tokenizer

        self.dimension = dimension
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        # One thread, no spin-waiting: a question is a few dozen tokens, and spinning threads
        # double the latency when other processes share the cores (measured on 2 shared cores).
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings; texts of similar length are batched together, as ST does."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for begin in range(0, len(order), batch_size):
            batch = order[begin : begin + batch_size]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


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
