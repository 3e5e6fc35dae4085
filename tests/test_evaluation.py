"""QA files, the metrics of `newsbot eval` (checked against hand-computed values), the command."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.cli
from bot.answering import Answer, Citation
from bot.cli import app
from bot.evaluation import QAFileError, QAItem, contains_answer, judge, load_qa, report
from tests.conftest import DATA

runner = CliRunner()
FIXTURE = DATA / "eval_fixture.jsonl"


def test_a_qa_file_is_read_with_answerable_and_unanswerable_items() -> None:
    items = load_qa(FIXTURE)
    assert len(items) == 6
    assert items[0] == QAItem("Who is New Zealand's prime minister?", ("Jacinda Ardern",), "easy")
    assert [i.answerable for i in items] == [True, True, True, False, False, False]
    assert items[3].kind == "off-topic"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"answers": ["x"]}', '"question" must be a non-empty string'),
        ('{"question": "Why?"}', '"answers" (a non-empty list of strings)'),
        ('{"question": "Why?", "answers": []}', '"answers" (a non-empty list of strings)'),
        ('{"question": "Why?", "answers": [3]}', '"answers" (a non-empty list of strings)'),
        ('{"question": 3, "answers": ["x"]}', '"question" must be a non-empty string'),
        ('{"question": "Why?", "answers": "Paris"}', '"answers" (a non-empty list of strings)'),
        ('{"question": "Why?", "answerable": "false"}', '"answerable" must be true or false'),
        ('{"question": "Why?", "answerable": 0}', '"answerable" must be true or false'),
        ('{"question": "Why?", "answerable": false, "answers": ["x"]}', "not both"),
        # Questions `newsbot ask` refuses, in the engine's own words.
        ('{"question": "?", "answerable": false}', "the question has nothing to look up"),
        ('{"question": "\U0001f642", "answers": ["x"]}', "the question has nothing to look up"),
        (json.dumps({"question": "Why " * 200, "answers": ["x"]}), "the limit is 500"),
    ],
)
def test_a_malformed_line_is_named_with_its_line_number(tmp_path: Path, line, message) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"question": "Who is Ryan Ding?", "answers": ["me"]}\n\n' + line + "\n", encoding="utf-8"
    )
    with pytest.raises(QAFileError) as error:
        load_qa(path)
    assert f"{path}:3:" in str(error.value) and message in str(error.value)


def test_the_question_length_limit_is_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "Who is Ryan Ding?", "answers": ["x"]}\n', encoding="utf-8")
    assert len(load_qa(path, max_question_chars=17)) == 1
    with pytest.raises(QAFileError, match=f"{path}:1: .*the limit is 16"):
        load_qa(path, max_question_chars=16)


def test_a_byte_order_mark_and_a_line_separator_inside_a_string_are_read(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    text = '{"question": "Who is\u2028Ryan Ding?", "answers": ["x"]}\r\n{"question": "Why?"}\n'
    path.write_text("\ufeff" + text, encoding="utf-8")
    with pytest.raises(QAFileError, match=f"{path}:2: "):  # line 2 as an editor counts it
        load_qa(path)
    path.write_text("\ufeff" + text.split("\r\n")[0], encoding="utf-8")
    assert load_qa(path)[0].question == "Who is\u2028Ryan Ding?"


def test_text_that_is_not_utf8_is_named_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes(
        b'{"question": "Who is Ryan Ding?", "answers": ["me"]}\n{"question": "Caf\xe9?"}\n'
    )
    with pytest.raises(QAFileError) as error:
        load_qa(path)
    assert str(error.value) == f"{path}:2: not valid UTF-8 text"


def test_a_directory_is_refused_without_python_error_text(tmp_path: Path) -> None:
    with pytest.raises(QAFileError) as error:
        load_qa(tmp_path)
    assert str(error.value) == f"cannot read QA file {tmp_path}: a directory"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "qa.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            load_qa(fifo)
        except BaseException as problem:  # handed to the test thread
            outcome.append(problem)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=60)  # only a broken load_qa gets near this; a working one never opens
    if worker.is_alive():  # blocked opening the FIFO: a writer that closes at once frees it
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
        pytest.fail("load_qa opened the FIFO and waited for a writer")
    assert len(outcome) == 1 and isinstance(outcome[0], QAFileError)
    assert str(outcome[0]) == f"cannot read QA file {fifo}: not a regular file"


def test_answer_matching_ignores_case_and_spacing() -> None:
    assert contains_answer("Prime  Minister\nJacinda Ardern said", ["jacinda ardern"])
    assert contains_answer("It’s Huawei's", ["it's huawei’s"])
    assert not contains_answer("Jacinda", ["Jacinda Ardern"])


def _citation(rank: int, text: str) -> Citation:
    return Citation(rank, "d.txt", "T", "", "", "/d.txt", 1, 0, len(text), text, 0.0)


def _answer(sentence: str | None, passages: list[str], confidence: float) -> Answer:
    citations = [_citation(rank, text) for rank, text in enumerate(passages, start=1)]
    return Answer("q", sentence, sentence is None, confidence, citations)


def test_metrics_match_hand_computed_values() -> None:
    filler = [f"passage {n}" for n in range(10)]
    gold = QAItem("q", ("Paris",))
    cases = [
        # answered right, answer in passage 1
        (gold, _answer("It is Paris.", ["It is Paris.", *filler[:9]], 0.9), 0.010),
        # answered right, first passage with the answer is the 3rd
        (gold, _answer("paris, yes", [*filler[:2], "Paris!", *filler[2:9]], 0.8), 0.020),
        # abstained (a false abstention), no passage has the answer
        (gold, _answer(None, filler, 0.1), 0.030),
        # answered wrongly, the answer is in passage 7
        (gold, _answer("Lyon.", [*filler[:6], "in Paris", *filler[6:9]], 0.7), 0.040),
        # unanswerable: abstained, then answered anyway
        (QAItem("q", ()), _answer(None, filler, 0.2), 0.050),
        (QAItem("q", ()), _answer("Berlin.", filler, 0.6), 0.100),
    ]
    metrics = report([judge(item, answer, seconds) for item, answer, seconds in cases])
    assert (metrics.questions, metrics.answerable, metrics.unanswerable) == (6, 4, 2)
    assert metrics.passage_recall_at_1 == pytest.approx(1 / 4)
    assert metrics.passage_recall_at_5 == pytest.approx(2 / 4)
    assert metrics.mrr_at_10 == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert metrics.sentence_accuracy == pytest.approx(2 / 4)
    assert metrics.false_abstentions == 1
    assert metrics.false_abstention_rate == pytest.approx(1 / 4)
    assert metrics.abstention_precision == pytest.approx(1 / 2)
    assert metrics.abstention_recall == pytest.approx(1 / 2)
    assert metrics.latency_p50_ms == pytest.approx(35.0)  # between 30 and 40 ms
    assert metrics.latency_p95_ms == pytest.approx(50 + 0.75 * 50)


def test_eval_command_reports_the_fixture_set(seed_settings) -> None:
    where = ["--corpus", str(seed_settings.corpus_dir), "--index", str(seed_settings.index_dir)]
    result = runner.invoke(app, ["eval", str(FIXTURE), "--json", *where])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    # By hand: the two easy questions are answered from the first passage; the third has an
    # answer string no passage holds; both off-topic questions are abstained on, and the
    # answerable question mislabelled unanswerable is answered.
    assert (metrics["answerable"], metrics["unanswerable"]) == (3, 3)
    assert metrics["passage_recall_at_1"] == pytest.approx(2 / 3)
    assert metrics["passage_recall_at_5"] == pytest.approx(2 / 3)
    assert metrics["mrr_at_10"] == pytest.approx(2 / 3)
    assert metrics["sentence_accuracy"] == pytest.approx(2 / 3)
    assert metrics["false_abstentions"] == 0
    assert metrics["abstention_precision"] == pytest.approx(1.0)
    assert metrics["abstention_recall"] == pytest.approx(2 / 3)
    assert metrics["by_kind"]["off-topic"] == {
        "questions": 2,
        "answerable": 0,
        "correct": 0,
        "abstained": 2,
    }
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p95_ms"]

    table = runner.invoke(app, ["eval", str(FIXTURE), "--retriever", "bm25", *where])
    assert table.exit_code == 0, table.stderr
    assert "retriever bm25" in table.stdout
    assert "answer sentence right  0.667" in table.stdout


def test_eval_command_rejects_a_bad_qa_file_in_one_line(tmp_path: Path, seed_settings) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who?"}\n', encoding="utf-8")
    where = ["--corpus", str(seed_settings.corpus_dir), "--index", str(seed_settings.index_dir)]
    for path, fragment in ((bad, f"{bad}:1:"), (tmp_path / "none.jsonl", "QA file not found")):
        result = runner.invoke(app, ["eval", str(path), *where])
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("newsbot: error:") and fragment in lines[0]


def test_eval_command_refuses_an_unaskable_question_before_asking_any(
    tmp_path: Path, seed_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        '{"question": "Who is Ryan Ding?", "answers": ["me"]}\n{"question": "?", "answers": ["x"]}\n'
    )

    def no_bot(settings):
        raise AssertionError("a question was about to be asked")

    monkeypatch.setattr(bot.cli, "open_bot", no_bot)
    where = ["--corpus", str(seed_settings.corpus_dir), "--index", str(seed_settings.index_dir)]
    result = runner.invoke(app, ["eval", str(qa), *where])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"newsbot: error: {qa}:2: the question has nothing to look up (only punctuation or "
        "words like 'who' and 'is'); say what it is about"
    ]
