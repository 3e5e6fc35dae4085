"""Telegram conversations against the fake Bot API: a private chat and a group's reply threads
continue, /new resets, a conversation expires (the store's clock is injected) and survives a
restart."""

from __future__ import annotations

import asyncio
import html
import sqlite3
import time

from bot.conversation import Conversation, Turn
from bot.telegram.conversations import FILE_NAME, ConversationStore
from bot.telegram.state import STATE_KEY
from tests.telegram.test_app import (  # noqa: F401 -- autouse fixtures apply here too
    local_http_only,
    running_bot,
    sent_html,
    settle,
    token_never_logged,
)

FIRST = "Who runs Huawei's carrier business?"
FOLLOW_UP = "how much will the company invest?"
LOOKED_UP = "How much will Huawei invest?"
NCSC = "What is the NCSC?"
GROUP = -1009876543
SAFETY_NET = 300.0  # seconds: only a hung bot takes this long, however loaded the machine


def looked_up(text: str) -> str | None:
    prefix = "<i>→ looked up: "
    if not text.startswith(prefix):
        return None
    return html.unescape(text[len(prefix) : text.index("</i>")])


def test_a_private_chat_is_one_conversation_and_new_starts_afresh(seed_settings, seed_bot):
    chat = 7001

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            for number, text in enumerate([FIRST, FOLLOW_UP, "/new", "how much?"], start=1):
                server.message(chat, text)
                await server.wait_sent(chat, number)
            return sent_html(server, chat)

    first, follow_up, new, after_new = asyncio.run(scenario())
    assert looked_up(first) is None and "Ryan Ding" in first
    assert looked_up(follow_up) == LOOKED_UP
    assert "$2 billion" in follow_up.split("</i>", 1)[1].split("\n\n")[0]  # the answer itself
    assert "New conversation" in new
    assert "nothing to look up" in after_new


def test_in_a_group_a_reply_to_an_answer_continues_that_answers_thread(seed_settings, seed_bot):
    group = {"chat_type": "supergroup", "user_id": 5}

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(GROUP, f"/ask {FIRST}", **group)
            [huawei] = await server.wait_sent(GROUP, 1)
            server.message(GROUP, f"/ask {NCSC}", **group)
            ncsc = (await server.wait_sent(GROUP, 2))[1]
            # Replies to the first answer follow it, not the latest question in the group.
            server.message(GROUP, FOLLOW_UP, reply_to=huawei, **group)
            reply_huawei = (await server.wait_sent(GROUP, 3))[2]
            server.message(
                GROUP, "what did it conclude?", reply_to=ncsc, user_id=6, chat_type="supergroup"
            )
            await server.wait_sent(GROUP, 4)
            # A question that replies to nothing starts a thread of its own.
            server.message(GROUP, "/ask how much will the company invest?", **group)
            await server.wait_sent(GROUP, 5)
            # The thread goes on from the follow-up's answer too.
            server.message(GROUP, "why?", reply_to=reply_huawei, **group)
            await server.wait_sent(GROUP, 6)
            return sent_html(server, GROUP)

    texts = asyncio.run(scenario())
    assert looked_up(texts[2]) == LOOKED_UP
    assert looked_up(texts[3]) == "What did the NCSC conclude?"
    assert looked_up(texts[4]) is None  # not a reply: no conversation to continue
    assert looked_up(texts[5]) == "Why will Huawei invest?"


def test_two_people_replying_to_one_answer_each_go_on_from_it(seed_settings, seed_bot):
    """In a group, a reply goes on from the answer it replies to, even when someone else has
    since replied to the same answer with another question."""

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(GROUP, f"/ask {FIRST}", user_id=5, chat_type="supergroup")
            [first] = await server.wait_sent(GROUP, 1, timeout=SAFETY_NET)
            server.message(GROUP, FOLLOW_UP, reply_to=first, user_id=5, chat_type="supergroup")
            mine = (await server.wait_sent(GROUP, 2, timeout=SAFETY_NET))[1]
            server.message(GROUP, NCSC, reply_to=first, user_id=6, chat_type="supergroup")
            await server.wait_sent(GROUP, 3, timeout=SAFETY_NET)
            server.message(GROUP, "why?", reply_to=mine, user_id=5, chat_type="supergroup")
            await server.wait_sent(GROUP, 4, timeout=SAFETY_NET)
            return sent_html(server, GROUP)

    _, follow_up, other, mine_again = asyncio.run(scenario())
    assert looked_up(follow_up) == LOOKED_UP
    assert looked_up(other) is None  # a question of its own
    assert looked_up(mine_again) == "Why will Huawei invest?"  # not about the NCSC


def test_in_a_private_chat_a_reply_to_an_earlier_answer_goes_back_to_it(seed_settings, seed_bot):
    chat = 7007

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(chat, FIRST)
            [first] = await server.wait_sent(chat, 1, timeout=SAFETY_NET)
            server.message(chat, NCSC)
            await server.wait_sent(chat, 2, timeout=SAFETY_NET)
            server.message(chat, FOLLOW_UP, reply_to=first)  # quoting the first answer
            await server.wait_sent(chat, 3, timeout=SAFETY_NET)
            server.message(chat, "what does it conclude?")  # after that, on from the latest
            await server.wait_sent(chat, 4, timeout=SAFETY_NET)
            return sent_html(server, chat)

    *_, back, latest = asyncio.run(scenario())
    assert looked_up(back) == LOOKED_UP
    assert "Huawei" in (looked_up(latest) or "")


def test_a_conversation_expires_after_conversation_minutes(seed_settings, seed_bot):
    chat = 7002
    now = [1_000_000.0]

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            store: ConversationStore = application.bot_data[STATE_KEY].conversations
            store.clock = lambda: now[0]
            server.message(chat, FIRST)
            await server.wait_sent(chat, 1)
            await settle(server, application)  # the turn is saved once the reply is sent
            now[0] += 29 * 60  # within 30 minutes: it goes on
            server.message(chat, FOLLOW_UP)
            await server.wait_sent(chat, 2)
            await settle(server, application)
            now[0] += 31 * 60  # 31 minutes since the last question: it is over
            server.message(chat, "how much?")
            await server.wait_sent(chat, 3)
            return sent_html(server, chat)

    assert seed_settings.conversation_minutes == 30
    _, within, expired = asyncio.run(scenario())
    assert looked_up(within) == LOOKED_UP
    assert "nothing to look up" in expired


def test_a_conversation_survives_a_restart(seed_settings, seed_bot):
    chat = 7003

    async def scenario() -> str:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.message(chat, FIRST)
            await server.wait_sent(chat, 1)
            await settle(server, application)
        async with running_bot(seed_settings, seed_bot) as (server, _):  # a new process
            server.message(chat, FOLLOW_UP)
            await server.wait_sent(chat, 1)
            return sent_html(server, chat)[0]

    assert looked_up(asyncio.run(scenario())) == LOOKED_UP
    assert (seed_settings.index_dir / FILE_NAME).is_file()


def test_tell_me_more_goes_on_with_the_answer_after_a_restart(seed_settings, seed_bot):
    chat = 7004

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.message(chat, FIRST)
            await server.wait_sent(chat, 1)
            await settle(server, application)
        async with running_bot(seed_settings, seed_bot) as (server, _):  # a new process
            for number, text in enumerate(["tell me more", "go on"], start=1):
                server.message(chat, text)
                await server.wait_sent(chat, number)
            return sent_html(server, chat)

    more, on = asyncio.run(scenario())
    assert looked_up(more) is None  # nothing was looked up: the article goes on
    assert "stands in contrast to countries like New Zealand and Australia" in more
    assert "Spark sent a request" in on


def test_tell_me_more_with_nothing_to_go_on_says_why(seed_settings, seed_bot):
    """Asked first, or at the end of the article, "tell me more" says so, in a chat and inline,
    rather than that nothing in the corpus comes close."""
    chat = 7005

    async def scenario() -> tuple[list[str], list[dict]]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            texts = ["tell me more", "What did Ardern tell a weekly news conference?"]
            texts += ["tell me more", "tell me more"]
            for number, text in enumerate(texts, start=1):
                server.message(chat, text)
                await server.wait_sent(chat, number, timeout=SAFETY_NET)
            server.inline_query(chat, "tell me more")
            await server.wait_for(
                lambda: bool(server.calls_to("answerInlineQuery")), timeout=SAFETY_NET
            )
            return sent_html(server, chat), server.calls_to("answerInlineQuery")[0].params[
                "results"
            ]

    (first, _, last_sentence, past_the_end), inline = asyncio.run(scenario())
    assert "ask a question first" in first and "comes close" not in first
    assert "The ball is now in their court." in last_sentence
    assert "The article says no more after that." in past_the_end
    assert "comes close" not in past_the_end
    assert "ask a question first" in inline[0]["description"]


def test_a_damaged_conversations_file_is_set_aside_and_started_afresh(tmp_path, caplog):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"not a database, " * 100)
    store = ConversationStore(path, max_age=600)
    assert store.load(5, 0).last is None
    turn = Turn(question=FIRST, answer="Ryan Ding.", doc_id="a.txt", paragraph=3, at=1.0)
    store.save(5, 0, Conversation(turn), [41])
    assert store.load(5, 0).last == turn
    assert store.thread_of(5, 41) == 0
    assert [p.name for p in tmp_path.glob(f"{FILE_NAME}.damaged-*")], "the damaged file is kept"
    assert "moved to" in caplog.text
    store.close()


def test_a_store_from_before_answers_kept_their_turn_is_upgraded(tmp_path):
    path = tmp_path / FILE_NAME
    with sqlite3.connect(path) as db:  # the messages table as it was, without `turn`
        db.execute(
            "CREATE TABLE messages (chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, "
            "thread_id INTEGER NOT NULL, created REAL NOT NULL, PRIMARY KEY (chat_id, message_id))"
        )
        db.execute("INSERT INTO messages VALUES (5, 40, 7, ?)", (time.time(),))
    db.close()
    store = ConversationStore(path, max_age=600)
    assert store.thread_of(5, 40) == 7
    assert store.load(5, 7, replying_to=40).last is None  # an old answer: no turn kept
    turn = Turn(question=FIRST, answer="Ryan Ding.", doc_id="a.txt", paragraph=3, at=1.0)
    store.save(5, 7, Conversation(turn), [41])
    assert store.load(5, 7, replying_to=41).last == turn
    store.close()


def test_a_chats_filter_survives_a_restart_and_off_clears_it(seed_settings, seed_bot):
    chat = 7004

    async def scenario() -> list[str]:
        async with running_bot(seed_settings, seed_bot) as (server, application):
            server.message(chat, "/filter since 2030-01-01")
            await server.wait_sent(chat, 1)
            await settle(server, application)
        async with running_bot(seed_settings, seed_bot) as (server, application):  # restarted
            server.message(chat, "/filter")
            server.message(chat, NCSC)  # the bundled article has no date: nothing passes
            server.message(chat, "/filter off")
            server.message(chat, "/filter")
            await server.wait_sent(chat, 4)
            await settle(server, application)
            return sent_html(server, chat)

    shown, answer, cleared, after = asyncio.run(scenario())
    assert "since 2030-01-01" in shown
    assert "Cyber Security Centre" not in answer
    assert "No filter" in cleared and "No filter" in after


def test_a_filter_that_no_article_passes_says_so(seed_settings, seed_bot):
    chat = 7006

    async def scenario() -> tuple[str, list[dict]]:
        async with running_bot(seed_settings, seed_bot) as (server, _):
            server.message(chat, "/filter source Nowhere")
            server.message(chat, NCSC)
            await server.wait_sent(chat, 2, timeout=SAFETY_NET)
            server.inline_query(chat, NCSC)  # a private chat's filter applies inline too
            await server.wait_for(
                lambda: bool(server.calls_to("answerInlineQuery")), timeout=SAFETY_NET
            )
            results = server.calls_to("answerInlineQuery")[0].params["results"]
            return sent_html(server, chat)[1], results

    answer, inline = asyncio.run(scenario())
    assert "No article matches the filter (source Nowhere); /filter off clears it." in answer
    assert "comes close" not in answer
    assert "No article matches the filter (source Nowhere)" in inline[0]["description"]
