"""How long `newsbot feeds update` takes over the test news site (tests/site_server.py on
127.0.0.1): the first update (fetch, extract, store, build) and a second one with nothing new.

    .venv/bin/python scripts/bench_feeds.py

Each update is the real command in a fresh process (so start-up is included). Results in
scripts/results/bench_feeds.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchlib import print_table, write_results
from tests.site_server import NewsSite

NEWSBOT = Path(sys.executable).parent / "newsbot"


def timed(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(NEWSBOT), *args], env=env, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, NewsSite() as site:
        root = Path(scratch)
        (root / "corpus").mkdir()
        env = {
            **os.environ,
            "NEWSBOT_CORPUS": str(root / "corpus"),
            "NEWSBOT_INDEX": str(root / "index"),
            "NEWSBOT_FETCH_TIMEOUT": "2",
            "NO_PROXY": "127.0.0.1",
        }
        for feed in ("/feeds/rss.xml", "/feeds/atom.xml"):
            timed(env, "feeds", "add", site.url(feed))
        first, first_out = timed(env, "feeds", "update")
        requests = sum(site.requests.values())
        second, second_out = timed(env, "feeds", "update")
        second_requests = sum(site.requests.values()) - requests
    rows = [
        ["first update (7 items: 4 stored, 3 skipped or failed)", f"{first:.1f}"],
        [f"second update, nothing new ({second_requests} requests, all 304)", f"{second:.1f}"],
    ]
    print_table(["newsbot feeds update", "seconds"], rows)
    assert second_out.strip() == "Nothing new.", second_out
    write_results(
        "bench_feeds",
        {
            "first_update_seconds": round(first, 2),
            "second_update_seconds": round(second, 2),
            "second_update_requests": second_requests,
            "first_update_lines": first_out.splitlines(),
        },
    )


if __name__ == "__main__":
    main()
