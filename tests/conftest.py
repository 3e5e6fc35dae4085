"""Shared fixtures: the real model, a real index of the bundled corpus, built once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.embedding import SentenceTransformerEmbedder
from bot.engine import Newsbot
from bot.indexing import build_index

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"
DATA = Path(__file__).resolve().parent / "data"
CROWDED_CORPUS = DATA / "crowded" / "corpus"


def read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The reference MiniLM embedder, loaded once."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """Settings for a private copy of the bundled corpus, with its index built."""
    root = tmp_path_factory.mktemp("seed")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def seed_bot(seed_settings: Settings, embedder) -> Newsbot:
    """A Newsbot answering from the bundled article (do not rebuild its index in tests)."""
    return Newsbot(seed_settings, embedder=embedder)


@pytest.fixture
def make_corpus(tmp_path: Path):
    """Write `{name: text}` as a fresh corpus; returns settings for it (index not built)."""

    def make(files: dict[str, str | bytes]) -> Settings:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in files.items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")

    return make


@pytest.fixture
def crowded_bot(make_corpus, embedder):
    """A Newsbot over the crowded corpus's articles whose file names match `pattern`
    ("2020-01-*.md"), indexed afresh."""

    def make(pattern: str) -> Newsbot:
        settings = make_corpus(
            {
                path.name: path.read_text(encoding="utf-8")
                for path in sorted(CROWDED_CORPUS.glob(pattern))
            }
        )
        build_index(settings, embedder=embedder)
        return Newsbot(settings, embedder=embedder)

    return make
