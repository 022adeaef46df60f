"""Untrusted documents, uploads and network exposure: no camera, network or LLM needed.

Rendering is checked with markdown-it (CommonMark with raw HTML allowed, like Gradio's renderer
before its sanitiser): what the app hands the chatbot must not produce a tag, a link, an image or a
code block whatever a document or an answer says.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from asl_gpt.app.chat import answer_turn, markdown_text, sources_messages, user_message
from asl_gpt.app.pending import Turn
from asl_gpt.errors import InputError

PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    "<svg onload=alert(3)>",
    "[click me](javascript:window.__xss=4)",
    "![x](javascript:alert(5))",
    "<javascript:alert(6)>",
    "[ref][r]\n\n[r]: javascript:alert(7)",
    "&lt;img src=x onerror=alert(8)&gt;",
    "&#60;script&#62;alert(9)&#60;/script&#62;",
    "\\<img src=x onerror=alert(10)>",
    "\\[a](javascript:alert(11))",
    "`x` <b onmouseover=alert(12)>`",
    "```mermaid\ngraph TD; A-->B; click A callback\n```",
    "~~~html\n<script>alert(13)</script>\n~~~",
    "    <script>alert(14)</script>",
    "<details open ontoggle=alert(15)>x</details>",
    '<a href="javascript:alert(16)">a</a>',
    "[1]: javascript:alert(17)\n\nsee [1]",
]
TEXT_TAGS = {"p", "em", "strong", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "br", "hr"}


def _render(md: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "linkify": False}).render(md)


def _unsafe(md: str) -> list:
    """The tags in `md` rendered that are not plain text formatting, or that carry attributes."""
    from html.parser import HTMLParser

    found = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in TEXT_TAGS or attrs:
                found.append((tag, attrs))

        handle_startendtag = handle_starttag

    Tags().feed(_render(md))
    return found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_untrusted_text_renders_as_text_never_as_html_link_image_or_code(payload):
    assert _unsafe(markdown_text(payload)) == [], _render(markdown_text(payload))


def test_escaping_keeps_what_the_reader_sees():
    # The characters come back as written once rendered; emphasis, lists and citations still work.
    from html import unescape

    for text in ("a < b & c > d", "costs $5 [1]", "back\\slash and `tick`", "~tilde~ [x](y)"):
        shown = unescape(re.sub(r"<[^>]+>", "", _render(markdown_text(text)))).strip()
        assert shown == text, (text, shown)
    assert "<strong>bold</strong>" in _render(markdown_text("**bold** [1]"))
    assert "<li>" in _render(markdown_text("- one\n- two"))
    assert markdown_text("ASL is a language [1].") == "ASL is a language [1]."


def _source(**kw):
    from asl_gpt.rag.chain import Source

    base = dict(n=1, path="uploads/evil.md", title="Club", section="History", passage="text", score=0.8)
    return Source(**{**base, **kw})


def test_sources_escape_passage_title_section_and_path():
    for p in PAYLOADS:
        msgs = sources_messages([_source(passage=p, title=p, section=p, path=f"uploads/{p}.md")])
        for m in msgs:
            for text in (m["content"], m["metadata"]["title"]):
                assert _unsafe(text) == [], (p, _render(text))


def test_sources_name_an_upload_by_its_file_name_not_its_server_path():
    body = sources_messages([_source(path="/home/ann/.asl_gpt/uploads/club.md")])[1]["content"]
    assert "club.md" in body and "/home" not in body and ".asl_gpt" not in body, body


class _EchoBackend:
    """An LLM that repeats the passage's payload, token by token."""

    def __init__(self, payload: str, status: str = "answered"):
        self.payload, self.status = payload, status

    def ask_stream(self, question, history=None, raw=None):
        from asl_gpt.rag.chain import Answer, Retrieved, Token

        src = (_source(passage=self.payload),)
        yield Retrieved(question, src, None)
        for i in range(0, len(self.payload), 3):
            yield Token(self.payload[i:i + 3])
        yield Answer(question, self.payload, src, self.status, error=self.payload if self.status == "llm_error" else "")


@pytest.mark.parametrize("status", ["answered", "llm_error"])
def test_an_answer_that_repeats_a_payload_is_shown_as_text_while_streaming_and_at_the_end(status):
    for p in PAYLOADS:
        steps = list(answer_turn(_EchoBackend(p, status), Turn(p, "typed"), [], []))
        for chat, turns, line in steps:
            for m in chat:
                assert _unsafe(m["content"]) == [], (p, _render(m["content"]))
            assert _unsafe(line) == [], line
        assert steps[-1][1][-1] == {"role": "assistant", "content": p}  # the history keeps the words as written


def test_recognised_text_with_a_backtick_cannot_leave_its_code_span():
    raw = "ab`<img src=x onerror=alert(1)>`"
    msg = user_message(Turn(raw, "signed", recognised=raw, confidence=0.9))
    out = _render(msg["content"])
    assert "<img" not in out and "onerror" in out  # shown, as text
    assert "<code>leba</code>" in _render(user_message(Turn("leba", "signed", recognised="leba", confidence=0.9))["content"])


# -- uploads ---------------------------------------------------------------------------------------
def _files(tmp_path: Path, **named: bytes) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    out = []
    for name, data in named.items():
        p = src / name
        p.write_bytes(data)
        out.append(p)
    return out


def test_upload_types_are_checked_by_suffix_and_content(tmp_path):
    from asl_gpt.app.knowledge import check_upload

    good_md, exe, fake_pdf, pdf, binary_md, empty = _files(
        tmp_path, **{"notes.md": b"# Notes\n", "tool.exe": b"MZ\x90", "paper.pdf": b"<html>not a pdf</html>",
                     "real.pdf": b"%PDF-1.7\n...", "blob.md": b"\x00\x01\x02 binary", "empty.txt": b""})
    assert check_upload(good_md, 20) == "" and check_upload(pdf, 20) == ""
    assert check_upload(exe, 20).startswith("unsupported file type .exe (use .htm, .html, .markdown, .md")
    assert check_upload(fake_pdf, 20) == "not a PDF (its content does not start like one)"
    assert check_upload(binary_md, 20) == "binary content, not a .md text file"
    assert check_upload(empty, 20) == "empty file"
    big = _files(tmp_path, **{"big.txt": b"a" * (2 * 2**20 + 1)})[0]
    assert check_upload(big, 2) == "too large: 2.0 MB, the limit is 2 MB (rag.max_upload_mb)"
    noext = _files(tmp_path, **{"README": b"text"})[0]
    assert check_upload(noext, 20).startswith("unsupported file type (no suffix)")


@pytest.mark.parametrize("name, stored", [
    ("../../etc/passwd.md", "passwd.md"),
    ("/etc/cron.d/evil.md", "evil.md"),
    ("..\\..\\Windows\\evil.md", "evil.md"),
    ("C:\\Users\\me\\notes.txt", "notes.txt"),
    (".bashrc.txt", "bashrc.txt"),
    ("../", "upload"),
    ("..", "upload"),
    ("notes .md", "notes_.md"),
    ("<img src=x onerror=alert(1)>.md", "_img_src_x_onerror_alert_1__.md"),
    ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
])
def test_upload_names_with_paths_are_stored_inside_the_uploads_folder(name, stored):
    from asl_gpt.app.knowledge import safe_name

    assert safe_name(name) == stored
    assert "/" not in stored and "\\" not in stored and not stored.startswith(".")


def test_save_uploads_stores_good_files_and_refuses_each_bad_one_with_one_line(tmp_path):
    from asl_gpt.app.knowledge import save_uploads

    up = tmp_path / "uploads"
    up.mkdir()
    files = _files(tmp_path, **{"ok.md": b"# ok\n", "bad.exe": b"MZ", "big.txt": b"x" * 2048,
                                "<i>x.md": b"# tag name\n"})
    files.append(Path("/definitely/missing/gone.md"))
    saved, refused = save_uploads(files, up, max_mb=1 / 1024, max_files=20)
    assert [p.name for p in saved] == ["ok.md", "_i_x.md"]
    assert all(p.parent == up.resolve() for p in saved)
    assert sorted(x.name for x in up.iterdir()) == sorted(p.name for p in saved)
    assert len(refused) == 3 and all("\n" not in r for r in refused), refused
    assert refused[0].startswith("bad.exe: unsupported file type .exe")
    assert refused[1].startswith("big.txt: too large")
    assert refused[2].startswith("gone.md: unreadable")
    saved, refused = save_uploads(_files(tmp_path, **{f"n{i}.md": b"# n\n" for i in range(5)}), up, 20, max_files=3)
    assert len(saved) == 3 and refused == ["2 file(s) not uploaded (n3.md, n4.md): at most 3 per upload "
                                           "(rag.max_upload_files)"]


def test_upload_and_index_reports_each_refusal_and_indexes_the_rest(tmp_path):
    from asl_gpt.app import knowledge as kn
    from asl_gpt.config import RagConfig

    indexed = []
    up = tmp_path / "uploads"
    up.mkdir()
    summary = SimpleNamespace(added=1, updated=0, removed=0, unchanged=0, chunks_embedded=1, chunks_total=1,
                              seconds=0.1, skipped=[(str(up / "club.md"), "no <b>text</b>"),
                                                    (str(up / "earlier.md"), "no text")])
    services = SimpleNamespace(
        settings=SimpleNamespace(rag=RagConfig(max_upload_mb=1.0, max_upload_files=5)),
        uploads_dir=lambda: up,
        knowledge=lambda: SimpleNamespace(index=lambda paths, rebuild, progress: indexed.append(paths) or summary))
    probe = SimpleNamespace(indexing="", invalidate=lambda: None)
    files = _files(tmp_path, **{"club.md": b"# Club\n", "<img src=x onerror=alert(1)>.exe": b"MZ"})
    msg = kn.upload_and_index(services, probe, [str(f) for f in files])
    lines = msg.split("  \n")
    assert lines[0] == "Uploaded club.md."
    assert lines[1].startswith("⚠ &lt;img src=x onerror=alert(1)&gt;.exe: unsupported")
    assert lines[2].startswith("Indexed: 1 added") and lines[3] == "Skipped: club.md (no &lt;b&gt;text&lt;/b&gt;)"
    assert "earlier.md" not in msg  # skipped by an earlier upload: that status said so, this one is about its own
    assert indexed == [[up]] and _unsafe(msg) == []
    # Nothing acceptable: no index run, only the reasons.
    msg = kn.upload_and_index(services, probe, [str(files[1])])
    assert msg.startswith("⚠ ") and "\n" not in msg and indexed == [[up]]
    assert kn.upload_and_index(services, probe, []) == "Choose one or more files first."


# -- serving on a network --------------------------------------------------------------------------
def test_only_loopback_addresses_are_local():
    from asl_gpt.commands.serve import is_local

    assert all(is_local(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1", "LOCALHOST"))
    assert not any(is_local(h) for h in ("0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "myhost", "example.org"))


def test_logins_are_parsed_from_arguments_and_a_file(tmp_path):
    from asl_gpt.commands.serve import parse_logins

    f = tmp_path / "logins"
    f.write_text("# users\nann:pa:ss word\n\n bob : secret\n")
    assert parse_logins(["me:pw"], str(f)) == [("me", "pw"), ("ann", "pa:ss word"), ("bob", " secret")]
    for bad in (["nocolon"], [":pw"], ["user:"]):
        with pytest.raises(InputError, match="a login is USER:PASSWORD"):
            parse_logins(bad)
    with pytest.raises(InputError, match="cannot read --auth-file"):
        parse_logins([], str(tmp_path / "missing"))


def test_a_network_address_needs_a_login_or_insecure(capsys, tmp_path, monkeypatch):
    from asl_gpt.cli import main
    from asl_gpt.commands.serve import check_exposure

    check_exposure("127.0.0.1", [], False)
    check_exposure("0.0.0.0", [("u", "p")], False)
    check_exposure("0.0.0.0", [], True)
    monkeypatch.setenv("ASL_GPT_PATHS_STATE_DIR", str(tmp_path))
    built = []
    monkeypatch.setattr("asl_gpt.app.services.build_services", lambda s: built.append(s))
    assert main(["serve", "--host", "0.0.0.0", "--no-initial-index"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: --host 0.0.0.0 shows the app to the network: add --auth USER:PASSWORD (or --auth-file "
                   "FILE) to require a login, or --insecure to serve it without one\n")
    assert main(["serve", "--host", "0.0.0.0", "--auth", "bad"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert built == []  # refused before anything was loaded


# -- the camera socket -----------------------------------------------------------------------------
def _socket_app(registry, auth=None):
    from fastapi import FastAPI

    from asl_gpt.app.camera import websocket_route

    app = FastAPI(routes=[websocket_route(registry)])
    app.auth, app.cookie_id, app.tokens = auth, "cid", {"good-cookie": "ann"}  # what Gradio's App carries
    return app


def _closed_with(client, url, **kw) -> int:
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect(url, **kw) as ws:
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_json()
    return e.value.code


def test_camera_socket_refuses_other_origins_other_sessions_and_missing_logins():
    pytest.importorskip("gradio")
    from fastapi.testclient import TestClient

    from asl_gpt.app.camera import PATH
    from asl_gpt.app.registry import LiveRegistry
    from fakes import FakeServices

    registry = LiveRegistry(FakeServices(None))
    try:
        mine, other = registry.token("tab-1"), registry.token("tab-2")
        with TestClient(_socket_app(registry)) as client:
            url = f"{PATH}?key={mine}"
            assert _closed_with(client, url, headers={"origin": "http://evil.example"}) == 4403
            assert _closed_with(client, url, headers={"origin": "null"}) == 4403
            assert registry.get("tab-1").state().frames_received == 0 and not registry.get("tab-1").state().camera_on
            with client.websocket_connect(url, headers={"origin": "http://testserver"}):  # the app's own page
                assert registry.get("tab-1").state().camera_on and not registry.get("tab-2").state().camera_on
            registry.drop("tab-2")  # another session's token, once that tab is gone, opens nothing
            assert _closed_with(client, f"{PATH}?key={other}") == 4404
            assert _closed_with(client, f"{PATH}?key={mine[:-1]}") == 4404  # nor a near miss
        with TestClient(_socket_app(registry, auth={"ann": "pw"})) as client:
            url = f"{PATH}?key={mine}"
            assert _closed_with(client, url) == 4401
            assert _closed_with(client, url, headers={"cookie": "access-token-cid=stolen"}) == 4401
            with client.websocket_connect(url, headers={"cookie": "access-token-cid=good-cookie"}):
                assert registry.get("tab-1").state().camera_on
    finally:
        registry.close()


def test_the_launched_app_with_a_login_guards_its_pages_and_its_camera_socket(tmp_path, port):
    """The real Gradio server (fake services, 127.0.0.1): the login applies to the camera route too."""
    pytest.importorskip("gradio")
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from asl_gpt.app import build_demo, launch
    from asl_gpt.app.camera import PATH
    from fakes import FakeServices, wait

    app = build_demo(FakeServices(tmp_path), initial_index=False)
    launch(app, port=port, prevent_thread_lock=True, quiet=True, auth=[("ann", "pw")])
    try:
        token = app.registry.token("tab-1")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10)
        assert e.value.code == 401
        client = TestClient(app.demo.server_app)  # the server's own FastAPI app, its login state included
        with client.websocket_connect(f"{PATH}?key={token}") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4401
        r = client.post("/login", data={"username": "ann", "password": "pw"})
        assert r.status_code == 200, r.text
        with client.websocket_connect(f"{PATH}?key={token}"):
            wait(lambda: app.registry.get("tab-1").state().camera_on)
    finally:
        app.close()
