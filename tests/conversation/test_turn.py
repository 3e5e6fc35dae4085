"""bot/conversation/turn.py: what a turn keeps for the follow-ups after it."""

from bot.answering import Answer
from bot.conversation import Conversation, Name, Resolution, Turn


def test_a_turn_survives_a_round_trip_through_json() -> None:
    ding = Turn(
        "Who runs Huawei's carrier business?",
        "Earlier this month, Ryan Ding sent a letter.",
        doc_id="ncsc-huawei-5g",
        paragraph=12,
        end=2140,
        confidence=0.87,
    )
    assert Turn.from_json(ding.to_json()) == ding
    remembering = Turn("was he convicted?", None, names=(Name("Brenton Tarrant", "person"),))
    assert Turn.from_json(remembering.to_json()) == remembering
    assert Turn.from_json({"nonsense": 1}) is None


def test_a_pronoun_stands_for_whom_the_user_asked_about_before_a_new_name_in_the_answer() -> None:
    conversation = Conversation()
    for typed, answer in (
        ("why was trump impeached", "The House impeached President Donald Trump on Wednesday."),
        ("what were the votes", "After the vote, a spokesperson, Morgan Ortagus, said more."),
    ):
        resolution = conversation.resolve(typed)
        conversation.remember(resolution, Answer(typed, answer, False, 0.9, []))
    assert conversation.last is not None
    assert [n.text for n in conversation.last.names] == ["Donald Trump", "Morgan Ortagus"]
    assert conversation.resolve("so was he removed by the senate?").looked_up == (
        "Was Donald Trump removed by the senate?"
    )
    # The answer's person is who "he" is when the user named no one yet.
    fresh = Conversation()
    fresh.remember(Resolution("what were the votes", "first"), Answer("q", answer, False, 0.9, []))
    assert fresh.resolve("what did he say?").looked_up == "What did Morgan Ortagus say?"
