"""Milvus fixtures: the bundled article indexed in Milvus Lite embedded (in this process) and
in a `milvus-lite server` on 127.0.0.1 (shared by processes), each built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.engine import Newsbot
from bot.stores import build_index
from bot.stores.milvus.lite import free_port, start_server, stop_server

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session")
def milvus_seed_settings(seed_settings: Settings, tmp_path_factory, embedder) -> Settings:
    """The FAISS seed index's corpus, indexed again in an embedded Milvus Lite file."""
    root = tmp_path_factory.mktemp("milvus-seed")
    settings = load_settings(
        corpus_dir=seed_settings.corpus_dir,
        index_dir=root / "index",
        store="milvus",
        milvus_uri=str(root / "milvus.db"),
    )
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def milvus_seed_bot(milvus_seed_settings: Settings, embedder) -> Newsbot:
    return Newsbot(milvus_seed_settings, embedder=embedder)


@pytest.fixture(params=["faiss", "milvus"])
def any_bot(request) -> Newsbot:
    """The seed index through each store: the same tests must pass over both."""
    name = "seed_bot" if request.param == "faiss" else "milvus_seed_bot"
    return request.getfixturevalue(name)


class LiteServer:
    """A `milvus-lite server` on a fixed port and data directory, which tests may stop and
    start again (the port stays, as a real server's address would)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.start()

    def start(self) -> None:
        self.process, _ = start_server(self.data_dir, self.port)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)
            self.process = None


@pytest.fixture(scope="session")
def lite_server(tmp_path_factory):
    server = LiteServer(tmp_path_factory.mktemp("milvus-server") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_seed_settings(lite_server: LiteServer, tmp_path_factory, embedder) -> Settings:
    """The bundled article indexed in the server, collection `seed`."""
    root = tmp_path_factory.mktemp("server-seed")
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = load_settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        store="milvus",
        milvus_uri=lite_server.uri,
        milvus_collection="seed",
    )
    build_index(settings, embedder=embedder)
    return settings
