"""bot/conversation/names.py: names in questions and answers, and the kind of each."""

from bot.conversation import asked_kind, names_in


def test_names_and_the_kind_of_name_a_question_asks_for() -> None:
    found = names_in("On Monday, New Zealand Prime Minister Jacinda Ardern said the UK NCSC agreed")
    assert [(n.text, n.kind) for n in found] == [
        ("New Zealand", "place"),
        ("Jacinda Ardern", "person"),
        ("UK", "place"),
        ("NCSC", "org"),
    ]
    # An organisation's "of" goes on with its name: no "Public Health" for "he" to stand for.
    found = names_in("The Ministry of Public Health and Health Care said Ryan Ding is well")
    assert [n.kind for n in found] == ["org", "org", "org", "person"]
    assert asked_kind("Who runs it?") == "person"
    assert asked_kind("Which countries banned Huawei?") == "place"
    assert asked_kind("What did the EU decide?") is None
