"""The living bot: the scheduled `feeds update` (PTB's JobQueue) makes new articles answerable
without a restart, and a failing feed is logged, not fatal; `/filter` narrows the answers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.engine import Newsbot
from bot.ingest.run import add_sources
from bot.ingest.state import SourceState
from bot.telegram.refresh import JOB_NAME
from tests.site_server import NewsSite
from tests.telegram.test_app import running_bot

BUDGET = "How big is the harbour maintenance budget?"


@pytest.fixture(autouse=True)
def local_http_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_scheduled_update_makes_new_articles_answerable(
    make_corpus, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_corpus({}).replace(feeds_refresh="1h")
    with NewsSite() as site:
        first = add_sources(settings, [site.url("/valley/library-reopens")], embedder=embedder)
        assert first.build is not None
        with SourceState(settings.index_dir) as state:
            state.add_feed(site.url("/feeds/rss.xml"), "Harbour Gazette")
            state.add_feed(site.url("/feeds/broken.xml"), "")  # it broke after it was added
        newsbot = Newsbot(settings, embedder=embedder)

        async def scenario() -> tuple[dict, dict, dict]:
            async with running_bot(settings, newsbot) as (server, application):
                [job] = application.job_queue.get_jobs_by_name(JOB_NAME)
                assert job.job.trigger.interval.total_seconds() == 3600
                server.message(42, BUDGET)
                [before] = await server.wait_sent(42, 1)
                # The schedule's next run, now rather than in an hour.
                await job.run(application)
                server.message(42, BUDGET)
                _, after = await server.wait_sent(42, 2)
                server.message(42, "/filter source Valley Courier")
                server.message(42, BUDGET)
                *_, narrowed, filtered = await server.wait_sent(42, 4)
                return before, after, {"set": narrowed, "answer": filtered}

        before, after, filtered = asyncio.run(scenario())
    assert "2.1 million pounds" not in before["text"]
    assert after["text"].startswith(
        "Port Ellery council approved a harbour maintenance budget of 2.1 million pounds"
    )
    assert "(Harbour Gazette, 2024-03-10)" in after["text"]  # outlet and date by the citation
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("broken.xml: feed: not an RSS or Atom feed" in m for m in failures), failures
    assert "Answering only from Valley Courier articles." in filtered["set"]["text"]
    assert "Harbour Gazette" not in filtered["answer"]["text"]
    assert "Valley Courier" in filtered["answer"]["text"]
