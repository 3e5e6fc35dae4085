"""A local `milvus-lite server` (a real gRPC server) for tests, benchmarks and one-machine
deployments that several bot processes share: started on a free port, ready when a client
can list collections."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command() -> str:
    found = Path(sys.executable).parent / "milvus-lite"
    return str(found) if found.exists() else (shutil.which("milvus-lite") or "milvus-lite")


def start_server(
    data_dir: Path, port: int | None = None, timeout: float = 120.0
) -> tuple[subprocess.Popen, str]:
    """Start `milvus-lite server` on 127.0.0.1 and wait (polling a connection, at most
    `timeout` seconds) until it answers; (process, uri)."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            server_command(),
            "server",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(uri, timeout, process)
    except BaseException:
        stop_server(process)
        raise
    return process, uri


def wait_until_serving(uri: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    import logging

    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"milvus-lite server exited with status {process.returncode}")
        try:
            probe = MilvusClient(uri, timeout=5)
            probe.list_collections()
            probe.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Milvus server at {uri} after {timeout:.0f} s") from None
            time.sleep(0.1)  # a poll interval, not a wait for an event


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
