"""Each browser's conversation kept by the server (issue 28 items 2 and 7): a question asked while an answer streams
waits its turn, a new conversation stops the old answer, and a conversation survives a restart in its folder."""

from __future__ import annotations

from asl_gpt.app.chat import markdown_text
from asl_gpt.app.conversations import MAX_WAITING, Conversations, valid_id, waiting_markdown
from asl_gpt.app.pending import Turn

B = "0123456789abcdef0123456789abcdef"


def test_only_ids_page_js_makes_are_accepted():
    assert valid_id(B) == B and valid_id(B.upper()) == B
    assert valid_id("../../etc/passwd") is None and valid_id("") is None and valid_id(None) is None


def test_a_question_asked_while_an_answer_streams_waits_and_is_answered_next():
    store = Conversations()
    assert store.ask(B, Turn("what is asl", "typed")) and store.begin(B)
    q, gen = store.next(B)
    assert q.text == "what is asl"
    # meanwhile a second question arrives: its own event finds the answer busy and leaves it waiting
    assert store.ask(B, Turn("<b>who founded gallaudet</b>", "typed")) and not store.begin(B)
    shown = waiting_markdown(store.get(B), markdown_text)
    assert "Waiting to be asked" in shown and "&lt;b&gt;who founded gallaudet" in shown and "<b>" not in shown
    assert store.update(B, gen, [{"role": "user", "content": "what is asl"}], [])
    q2, _ = store.next(B)  # the running answer takes it when its own ends
    assert q2.text == "<b>who founded gallaudet</b>"
    assert store.next(B) is None and store.begin(B)  # nothing left: the claim ended, a new one can start
    store.end(B)


def test_too_many_waiting_questions_are_refused_not_dropped():
    store = Conversations()
    assert all(store.ask(B, Turn(f"q{i}", "typed")) for i in range(MAX_WAITING))
    assert not store.ask(B, Turn("one more", "typed"))  # the caller keeps it in the box and says so


def test_a_new_conversation_stops_the_answer_of_the_old_one(tmp_path):
    store = Conversations(tmp_path)
    store.ask(B, Turn("q", "typed"))
    store.begin(B)
    _, gen = store.next(B)
    store.clear(B)
    assert not store.update(B, gen, [{"role": "user", "content": "q"}], [])
    assert store.get(B).chat == [] and not (tmp_path / f"{B}.json").exists()


def test_a_conversation_survives_a_restart_in_its_folder(tmp_path):
    chat = [{"role": "user", "content": "**Typed**\n\nwhat is asl"}, {"role": "assistant", "content": "A language [1]."}]
    turns = [{"role": "user", "content": "what is asl"}, {"role": "assistant", "content": "A language [1]."}]
    store = Conversations(tmp_path)
    store.update(B, 0, chat, turns)
    store.save(B)
    again = Conversations(tmp_path).get(B)
    assert again.chat == chat and again.turns == turns
    other = "f" * 32
    assert Conversations(tmp_path).get(other).chat == []  # another browser sees none of it
    (tmp_path / f"{other}.json").write_text("not json")
    assert Conversations(tmp_path).get(other).chat == []  # a damaged file is an empty conversation


def test_the_least_recently_used_conversations_are_dropped(tmp_path):
    store = Conversations(tmp_path, size=2)
    for b in ("a" * 32, "b" * 32, "c" * 32):
        store.update(b, 0, [{"role": "user", "content": b}], [])
        store.save(b)
    assert len(store) == 2 and not (tmp_path / f"{'a' * 32}.json").exists()


def test_an_id_page_js_could_not_make_is_never_a_file_name(tmp_path):
    """The fallback id is Gradio's session hash, which the client sends: such a conversation stays in memory and no
    path is ever built from it."""
    from asl_gpt.app.conversations import Conversations

    folder = tmp_path / "conversations"
    store = Conversations(folder)
    for bid in ("../../escaped", "session-hash_1"):
        store.get(bid).chat.append({"role": "user", "content": "hello"})
        store.save(bid)
        store.clear(bid)
    assert not (tmp_path / "escaped.json").exists()
    assert not folder.exists() or list(folder.iterdir()) == []
