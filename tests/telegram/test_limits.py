"""The per-user question limit, on a clock the test controls."""

from __future__ import annotations

import pytest

from bot.telegram.limits import QuestionLimiter


def test_question_limit_is_a_sliding_minute_and_warns_once_per_wait() -> None:
    limiter = QuestionLimiter(per_minute=2)
    verdicts = [limiter.check(1, now) for now in (0.0, 10.0, 20.0, 30.0)]
    assert [v.allowed for v in verdicts] == [True, True, False, False]
    assert [v.notify for v in verdicts[2:]] == [True, False]
    assert verdicts[2].retry_in == pytest.approx(40.0)
    assert limiter.check(2, 30.0).allowed  # another user has their own minute
    assert limiter.check(1, 60.5).allowed  # the first question left the window
    assert not limiter.check(1, 65.0).allowed
    assert QuestionLimiter(per_minute=0).check(1, 0.0).allowed  # 0: no limit
