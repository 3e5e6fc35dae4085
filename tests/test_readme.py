"""Every example question in the README is answered right, from the bundled article."""

from __future__ import annotations

import re

from tests.conftest import REPO

# The answer each README example must get. A new example needs its expected answer here.
EXPECTED = {
    "Who is Ryan Ding?": "president of Huawei's carrier business group",
    "Which countries banned Huawei from their 5G networks?": "New Zealand and Australia",
    "What law worries US agencies?": "National Intelligence Law",
    "Who is the prime minister of New Zealand?": "Jacinda Ardern",
    "What is the latest on Huawei?": "has concluded that it is possible to limit the alleged risk",
}
_QUOTED_QUESTION = re.compile(r"""["']([A-Z][^"'\n]*?\?)(?:\\n)?["']|\\n([A-Z][^"'\n]*?\?)""")


def readme_questions() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.DOTALL)
    found: list[str] = []
    for block in blocks:
        for line in block.splitlines():
            if "newsbot" not in line and "make chat" not in line:
                continue
            for pair in _QUOTED_QUESTION.findall(line):
                for question in pair:
                    for part in question.split("\\n"):
                        if part and part not in found:
                            found.append(part)
    return found


def test_the_readme_has_example_questions_with_known_answers() -> None:
    questions = readme_questions()
    assert "Who is Ryan Ding?" in questions  # the first command of the README
    unknown = [q for q in questions if q not in EXPECTED]
    assert not unknown, f"add the expected answer of these README examples: {unknown}"


def test_every_readme_example_question_is_answered_right(seed_bot) -> None:
    wrong = []
    for question in readme_questions():
        answer = seed_bot.ask(question)
        if answer.abstained or EXPECTED[question] not in answer.answer:
            wrong.append((question, answer.answer, answer.confidence))
    assert not wrong, wrong
