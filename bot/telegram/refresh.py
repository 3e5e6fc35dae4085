"""The living bot: `feeds update` on a schedule (python-telegram-bot's JobQueue), so new
articles are answerable without a restart. A failing feed or build is logged, never fatal."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from telegram.ext import Application, ContextTypes

from bot.config import Settings, duration_seconds
from bot.errors import ConfigError
from bot.telegram.state import state_of

logger = logging.getLogger(__name__)
JOB_NAME = "feeds-refresh"


def schedule_refresh(application: Application, settings: Settings) -> None:
    """Run `feeds update` every `settings.feeds_refresh` (nothing when it is empty)."""
    if not settings.feeds_refresh:
        return
    seconds = duration_seconds(settings.feeds_refresh, "feeds_refresh (--refresh)")
    if application.job_queue is None:
        raise ConfigError(
            "scheduled refresh needs python-telegram-bot's job queue: "
            'pip install "python-telegram-bot[job-queue]"'
        )
    application.job_queue.run_repeating(
        refresh_feeds, interval=seconds, first=seconds, name=JOB_NAME
    )
    logger.info("feeds are updated every %s", settings.feeds_refresh)


async def refresh_feeds(context: ContextTypes.DEFAULT_TYPE) -> None:
    """One scheduled `feeds update`, off the event loop; the next question sees the new index."""
    from bot.ingest.run import update_feeds

    state = state_of(context)
    try:
        run = await asyncio.to_thread(update_feeds, state.settings)
    except Exception:  # the bot goes on answering from the index it has
        logger.exception("feeds update failed; still answering from the current index")
        return
    for outcome in run.outcomes:
        if outcome.status == "failed":
            logger.warning("feeds update: %s: %s", outcome.input, outcome.message)
    counts = Counter(outcome.status for outcome in run.outcomes)
    if run.build_error:
        logger.error(
            "feeds update: the index could not be updated: %s; still answering from the "
            "current index",
            run.build_error,
        )
    elif run.build is not None:
        await asyncio.to_thread(state.bot.reload_if_rebuilt)
    logger.info(
        "feeds update: %s",
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing new",
    )
