"""Faults: one row per failure (LLM killed mid-answer, Chroma server restarted, indexing killed, corrupt model or index, read-only or full state folder): what the user saw, whether anything was lost.

Everything runs on the real stack (real embeddings, embedded Chroma or a `chroma run` server, the embedded
llama.cpp server) in a temporary folder; the user's state folder is not touched. The user's view is the
chat's own words: each question goes through `asl_gpt.app.chat.answer_turn`, as in the app. The read-only
and full state folders are private mounts (`unshare -m`), so those rows need root; they say so otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.benchmarks.procs import free_port, start_chroma, stop_process

QUESTIONS = ("How do you fingerspell the letter J?", "What is Deaf culture?", "How is the letter Z signed?")
FAULTS = ("llm", "chroma", "kill", "model", "index", "readonly", "full")


@dataclass
class Row:
    fault: str
    seen: str  # what the user saw, in the chat's (or the index command's) words
    lost: str  # "nothing", or what was lost
    ok: bool  # the product behaved as it promises (one clear line, the app up, nothing the user typed lost)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--docs", help="folder to index (default: the knowledge folder)")
    p.add_argument("--kills", type=int, default=20, help="index runs killed at random points")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill points and the document edits")
    p.add_argument("--only", help=f"comma-separated faults to run (default all: {','.join(FAULTS)})")
    p.add_argument("--json", help="also write the rows to this file")


# -- what the user sees ---------------------------------------------------------------------------------

def ask(assistant, question: str, on_status=None) -> dict:
    """Ask through the chat as the app does: the final chat reply, the sources shown, the status line."""
    from asl_gpt.app.chat import answer_turn
    from asl_gpt.app.pending import Turn

    t0 = time.perf_counter()
    chat, status = [], ""
    try:
        for chat, _turns, status in answer_turn(assistant, Turn(question, "typed"), [], []):
            if on_status is not None:
                on_status(status)
    except Exception as e:  # noqa: BLE001 - a crash is a row's finding, not the benchmark's end
        return {"reply": f"CRASH {type(e).__name__}: {e}", "sources": 0, "status": "crash", "kept": False,
                "seconds": time.perf_counter() - t0}
    replies = [m for m in chat if m["role"] == "assistant" and not m.get("metadata")]
    return {"reply": replies[-1]["content"] if replies else "", "status": status,
            "sources": sum(1 for m in chat if (m.get("metadata") or {}).get("parent_id")),
            "kept": any(m["role"] == "user" and question in str(m["content"]) for m in chat),
            "seconds": time.perf_counter() - t0}


def _line(text: str, n: int = 150) -> str:
    text = re.sub(r"\\([\\`*_\[\]()#|<>])", r"\1", str(text))  # the chat's Markdown escapes, undone
    text = re.sub(r"\*{1,2}([^*]+)\*{1,2}", r"\1", text)  # and its emphasis
    text = re.sub(r"\s+", " ", text).strip().replace("|", "/")
    return text if len(text) <= n else text[:n - 1] + "…"


def _answered(r: dict) -> bool:
    return r["status"].startswith("answered")


# -- the stack --------------------------------------------------------------------------------------------

class Stack:
    """Settings per state folder over one temporary root; the embeddings and the LLM are loaded once."""

    def __init__(self, settings, root: Path, docs: Path):
        from asl_gpt.rag.index import KnowledgeBase
        from asl_gpt.rag.bundle import assemble_model
        from asl_gpt.rag.llm import LLMEndpoint

        self.base, self.root, self.docs = settings, root, docs
        self.state = root / "state"
        self.model_path = assemble_model(settings.llm.embedded_model, self.state / "models")
        kb = KnowledgeBase(self.settings(self.state))
        self.embeddings = kb.embeddings
        t = time.perf_counter()
        self.summary = kb.index([docs])
        self.index_s = time.perf_counter() - t
        kb.close()
        self.llm = LLMEndpoint(self.settings(self.state).llm, self.state)

    def settings(self, state: Path, **rag):
        s = self.base
        llm = dataclasses.replace(s.llm, base_url="", model="")  # the embedded model is what is measured
        return dataclasses.replace(s, paths=dataclasses.replace(s.paths, state_dir=state, knowledge_dir=self.docs),
                                   rag=dataclasses.replace(s.rag, **{"chroma_url": "", **rag}), llm=llm)

    def assistant(self, settings, llm=None):
        from asl_gpt.rag.chain import Assistant
        from asl_gpt.rag.index import KnowledgeBase

        return Assistant(settings, KnowledgeBase(settings, embeddings=self.embeddings), llm or self.llm)

    def close(self) -> None:
        self.llm.close()


# -- the faults -------------------------------------------------------------------------------------------

def fault_llm_killed(st: Stack) -> Row:
    """SIGKILL to the embedded server's process at the first streamed token of an answer."""
    a = st.assistant(st.settings(st.state))
    a.warm_up()
    killed: dict = {}

    def kill() -> None:
        pid = st.llm.server_pid
        if pid and not killed:
            killed["pid"] = pid
            os.kill(pid, signal.SIGKILL)

    timer: list[threading.Timer] = []

    def on_status(status: str) -> None:
        if status.startswith("answering"):
            kill()
        elif "waiting for the LLM" in status and not timer:  # no token for 30 s (a busy machine): kill anyway
            timer.append(threading.Timer(30.0, kill))
            timer[0].start()

    r = ask(a, QUESTIONS[0], on_status)
    for t in timer:
        t.cancel()
    nxt = ask(a, QUESTIONS[1])
    ok = bool(killed) and "did not answer" in r["reply"] and r["sources"] > 0 and r["kept"] and _answered(nxt)
    seen = (f"{_line(r['reply'], 320)} [+{r['sources']} passages]; next question: "
            f"{'answered' if _answered(nxt) else _line(nxt['reply'])} in {nxt['seconds']:.1f} s (server restarted)")
    return Row("embedded LLM process killed mid-answer", seen if killed else "the answer ended before the kill",
               "nothing: the question, the text streamed so far and the passages stay in the chat" if ok else "?", ok)


def fault_chroma_restarted(st: Stack) -> Row:
    """A `chroma run` server under rag.chroma_url stopped, asked, restarted on the same port and folder, asked."""
    from asl_gpt.rag.index import KnowledgeBase

    port, data = free_port(), st.root / "chroma-server"
    url = f"http://127.0.0.1:{port}"
    s = st.settings(st.root / "state-server", chroma_url=url)
    server = start_chroma(port, data)
    try:
        KnowledgeBase(s, embeddings=st.embeddings).index([st.docs])
        a = st.assistant(s)
        before = a.kb.stats().chunks
        up = ask(a, QUESTIONS[2])
        stop_process(server)
        down = ask(a, QUESTIONS[2])
        server = start_chroma(port, data)
        back = ask(a, QUESTIONS[2])
        after = a.kb.stats().chunks
    finally:
        stop_process(server)
    ok = _answered(up) and down["status"] != "crash" and down["kept"] and _answered(back) and after == before
    seen = f"while stopped: {_line(down['reply'], 260)}; after the restart: {back['status']}"
    return Row("Chroma server stopped, then restarted", seen,
               f"nothing ({before} chunks before, {after} after; the question stays in the chat)", ok)


def fault_index_killed(st: Stack, kills: int, rng: random.Random) -> Row:
    """`asl-gpt index` (its own process) killed with SIGKILL at a random point of its writing phase, `kills`
    times; after each kill the app's own KnowledgeBase indexes again and is checked against the documents."""
    from asl_gpt.rag.index import KnowledgeBase

    docs = st.root / "kill-docs"
    shutil.copytree(st.docs, docs)
    state = st.root / "state-kill"
    kb = KnowledgeBase(st.settings(state), embeddings=st.embeddings)
    kb.index([docs])
    _edit(docs, rng, 0)
    p, _ = _index_process(state, docs, json_out=True)
    out = p.communicate(timeout=900)[0]
    stats = json.loads(out[out.index("{"):]) if p.returncode == 0 and "{" in out else {}
    embed_s = max(0.5, stats.get("embed_seconds", 5.0))
    landed, bad, checks = Counter(), [], []
    for i in range(1, kills + 1):
        _edit(docs, rng, i)
        before = _stored(kb)
        p, started = _index_process(state, docs)
        # A point drawn uniformly over the writing phase: from the first embedded batch (the progress bar
        # appears) to 1.2 x the embedding time of an uninterrupted run of the same size.
        at = rng.uniform(0, 1.2 * embed_s)
        if started.wait(600) and p.poll() is None:
            time.sleep(at)
        if p.poll() is None:
            p.kill()
            p.wait()
            landed["mid-write" if _stored(kb) != before else "before its first write"] += 1
        else:
            p.wait()
            landed["after it finished"] += 1
        kb.index([docs])  # the next run, as the app's Knowledge tab would start it
        c = _check(kb, docs)
        checks.append(c)
        if c["orphans"] or c["missing"] or c["duplicates"]:
            bad.append((i, c))
    totals = {k: sum(c[k] for c in checks) for k in ("orphans", "missing", "duplicates")}
    where = ", ".join(f"{n} {k}" for k, n in landed.most_common())
    seen = (f"{kills} kills ({where}; {stats.get('chunks_embedded', '?')} chunks to embed a run, points over "
            f"0-{1.2 * embed_s:.1f} s of writing); after each kill the next run converged: {totals['orphans']} orphan, "
            f"{totals['missing']} missing, {totals['duplicates']} duplicate chunks ({checks[-1]['chunks']} chunks)")
    return Row(f"indexing killed at {kills} random points", seen,
               "nothing: a killed run's chunks are reused or removed by the next run" if not bad else
               f"runs {[i for i, _ in bad]} left orphans/missing chunks", not bad)


def fault_model(st: Stack) -> list[Row]:
    rows = []
    st.llm.close()
    # 1) the cached copy of the bundled model damaged in place (a bad disk, an interrupted copy)
    from asl_gpt.rag.llm import LLMEndpoint

    with open(st.model_path, "r+b") as f:
        f.seek(st.model_path.stat().st_size // 2)
        f.write(os.urandom(1 << 20))
    s = st.settings(st.state)
    llm = LLMEndpoint(s.llm, st.state)
    try:
        r = ask(st.assistant(s, llm), QUESTIONS[1])
    finally:
        llm.close()
    import hashlib

    from asl_gpt.rag.bundle import BUNDLED

    h = hashlib.sha256()
    with open(st.model_path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    spec = BUNDLED.get(st.llm.cfg.embedded_model)
    rebuilt = spec is not None and h.hexdigest() == spec.sha256
    rows.append(Row("cached model file damaged (1 MiB overwritten)",
                    f"{r['status']} (the first answer, start included): the copy was hashed again, found damaged "
                    f"and rebuilt from the packages{'' if rebuilt else ' - NOT rebuilt'}", "nothing",
                    _answered(r) and rebuilt))
    # 2) and 3) a model file the user named, truncated (a GGUF header) or not a model at all
    for name, make in (("truncated", lambda p: p.write_bytes(st.model_path.read_bytes()[:40 << 20])),
                       ("not a GGUF file", lambda p: p.write_bytes(b"<html>404 Not Found</html>" * 100))):
        bad = st.root / f"bad-{name.split()[0]}.gguf"
        make(bad)
        s = dataclasses.replace(st.settings(st.state), llm=dataclasses.replace(st.llm.cfg, embedded_model=str(bad)))
        llm = LLMEndpoint(s.llm, st.state)
        try:
            a = st.assistant(s, llm)
            status = a.check_llm()
            r = ask(a, QUESTIONS[2])
        finally:
            llm.close()
        ok = r["status"].startswith("LLM error") and r["sources"] > 0 and r["kept"] and not status.ok
        rows.append(Row(f"model file corrupt at start ({name}, llm.embedded_model)",
                        f"{_line(r['reply'], 260)} [+{r['sources']} passages]",
                        "nothing: the passages are shown; the question stays", ok))
    return rows


def fault_index_corrupt(st: Stack) -> Row:
    state = st.root / "state-corrupt"
    state.mkdir()
    shutil.copytree(st.state / "chroma", state / "chroma")
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # no client of this process keeps the old file open
    (state / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 4096)
    s = st.settings(state)
    a = st.assistant(s)
    r = ask(a, QUESTIONS[1])
    llm_ok = a.check_llm(start=False).ok
    t = time.perf_counter()
    summary = a.kb.index([st.docs], rebuild=True)
    rebuild_s = time.perf_counter() - t
    again = ask(a, QUESTIONS[1])
    ok = r["status"] != "crash" and "rebuild" in r["reply"] and r["kept"] and _answered(again)
    seen = (f"{_line(r['reply'], 260)} (the LLM status stays {'ok' if llm_ok else 'failed'}); rebuild: "
            f"{summary.chunks_total} chunks in {rebuild_s:.1f} s, then {again['status']}")
    return Row("index corrupt at start (chroma.sqlite3 overwritten)", seen,
               "the index, rebuilt from the documents (untouched); the question stays", ok)


def fault_state_folder(st: Stack, mode: str) -> Row:
    """The state folder read-only, or full, in a private mount namespace (root only)."""
    name = {"readonly": "state folder read-only", "full": "state folder full"}[mode]
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return Row(name, "not measured: needs root and unshare for a private mount", "-", True)
    src = st.root / f"state-{mode}-src"
    src.mkdir()
    shutil.copytree(st.state / "chroma", src / "chroma")
    for f in ("index.generation",):
        if (st.state / f).exists():
            shutil.copy(st.state / f, src / f)
    target = st.root / f"state-{mode}"
    target.mkdir()
    extra = st.root / f"more-docs-{mode}"
    if not extra.exists():
        shutil.copytree(st.docs, extra)
        for p in extra.rglob("*.md"):
            p.write_text(p.read_text() + "\n\nA copy for the benchmark.\n")
    args = json.dumps({"mode": mode, "state": str(target), "docs": str(st.docs), "extra": str(extra),
                       "model": str(st.model_path)})
    child = f"{sys.executable} -c 'import sys; from asl_gpt.benchmarks.faults import child_main; child_main(sys.argv[1])' '{args}'"
    if mode == "readonly":
        script = f"cp -a {src}/. {target}/ && mount --bind {target} {target} && mount -o remount,bind,ro {target} && {child}"
    else:
        used = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
        size_kb = used // 1024 + 256  # what is indexed now, and 256 KiB more
        script = f"mount -t tmpfs -o size={size_kb}k tmpfs {target} && cp -a {src}/. {target}/ && {child}"
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=900)
    try:
        res = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Row(name, f"the check did not run: {_line(out.stderr[-300:])}", "?", False)
    return Row(name, res["seen"], res["lost"], res["ok"])


def child_main(arg: str) -> None:
    """Inside the private mount: ask, index more, (full) make room and index again; one JSON line out."""
    import logging

    from asl_gpt.config import load_settings
    from asl_gpt.errors import AslGptError
    from asl_gpt.rag.chain import build_assistant

    logging.basicConfig(level=logging.ERROR)
    a = json.loads(arg)
    state, docs, extra = Path(a["state"]), Path(a["docs"]), Path(a["extra"])
    s = load_settings(env={}, paths={"state_dir": state, "knowledge_dir": docs}, llm={"embedded_model": a["model"]})
    assistant = build_assistant(s)
    before = assistant.kb.stats().chunks
    r = ask(assistant, QUESTIONS[1])
    try:
        summary = assistant.kb.index([extra])
        indexing = f"indexing more documents worked ({summary.chunks_total} chunks)"
    except AslGptError as e:
        indexing = f"indexing more documents: ⚠ {e}"
    except Exception as e:  # noqa: BLE001 - the finding
        indexing = f"indexing more documents: CRASH {type(e).__name__}: {e}"
    after = ask(assistant, QUESTIONS[2])
    kept = assistant.kb.stats().chunks
    ok = _answered(r) and "CRASH" not in indexing and _answered(after) and "worked" not in indexing
    lost = f"nothing: {before} chunks before, {kept} after; the questions answered"
    seen = f"question: {r['status']}; {_line(indexing, 330)}"
    if a["mode"] == "full":
        subprocess.run(["mount", "-o", "remount,size=256m", str(state)], check=True)
        try:
            summary = assistant.kb.index([extra])
            c = _check(assistant.kb, extra, docs)
            seen += (f"; with room again the next run indexed them ({summary.chunks_total} chunks, "
                     f"{c['orphans']} orphan, {c['missing']} missing)")
            ok = ok and not (c["orphans"] or c["missing"] or c["duplicates"])
        except Exception as e:  # noqa: BLE001
            seen += f"; with room again: {type(e).__name__}: {_line(e, 120)}"
            ok = False
    assistant.close()
    print(json.dumps({"seen": seen, "lost": lost, "ok": ok}))


# -- helpers (the process helpers are asl_gpt.benchmarks.procs, shared with the tests) --------------------------

def _index_process(state: Path, docs: Path, json_out: bool = False) -> tuple[subprocess.Popen, threading.Event]:
    """`asl-gpt index DOCS` in its own process, and an event set when it starts embedding (its progress bar
    appears; with `json_out` it prints its summary as JSON instead, and no bar)."""
    # Batches of 8 (the default is 32): more points at which a kill leaves a partial write.
    env = {**os.environ, "ASL_GPT_PATHS_STATE_DIR": str(state), "ASL_GPT_RAG_CHROMA_URL": "",
           "ASL_GPT_RAG_EMBED_BATCH_SIZE": "8"}
    code = "import sys; from asl_gpt.cli import main; sys.exit(main())"
    p = subprocess.Popen([sys.executable, "-c", code, "index", str(docs)] + (["--json"] if json_out else []), env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = threading.Event()
    if json_out:
        started.set()
        return p, started

    def watch() -> None:  # the progress bar on stderr (tqdm)
        for line in iter(lambda: p.stderr.read(64), ""):
            if "embedding" in line or "chunk" in line:
                started.set()
        started.set()  # ended without embedding anything

    threading.Thread(target=watch, daemon=True).start()
    return p, started


def _edit(docs: Path, rng: random.Random, i: int) -> None:
    """Change about a third of the documents throughout (every chunk of them changes), remove one, add one."""
    files = sorted(p for p in docs.rglob("*.md") if not p.name.startswith("extra-"))
    for p in rng.sample(files, max(1, len(files) // 3)):
        lines = p.read_text().splitlines()
        p.write_text("\n".join(re.sub(r" \(rev \d+\)$", "", ln) + f" (rev {i})" if ln.strip() and not ln.startswith("#")
                               else ln for ln in lines) + "\n")
    extras = sorted(docs.glob("extra-*.md"))
    if extras and rng.random() < 0.5:
        rng.choice(extras).unlink()
    (docs / f"extra-{i}.md").write_text(f"# Extra note {i}\n\nA note added while indexing was being killed, number {i}.\n")


def _stored(kb) -> frozenset:
    return frozenset(cid for chunks in kb.store.ids_by_source().values() for cid in chunks)


def _check(kb, *roots: Path) -> dict:
    """The index against the documents: chunks that no document has (orphans), chunks missing, duplicates."""
    from asl_gpt.rag.documents import chunk_document, discover, load_document

    expected: Counter = Counter()
    ids = set()
    for root in roots:
        for path in discover([root.resolve()])[0]:
            for c in chunk_document(load_document(path), kb.rag.chunk_size, kb.rag.chunk_overlap):
                ids.add(c.id)
                expected[(c.metadata["source"], c.text)] += 1
    stored = kb.store.all_chunks()
    have = Counter((c.metadata.get("source", ""), c.text) for c in stored)
    return {"chunks": len(stored), "orphans": len({c.id for c in stored} - ids), "missing": len(ids - {c.id for c in stored}),
            "duplicates": sum(max(0, n - expected.get(k, 0)) for k, n in have.items() if expected.get(k, 0))}


# -- the run ------------------------------------------------------------------------------------------------

def run(args, settings) -> int:
    import logging

    from asl_gpt.benchmarks import machine_description

    logging.getLogger("asl_gpt").setLevel(logging.ERROR)  # the rows say what happened; tracebacks are expected
    only = set((args.only or ",".join(FAULTS)).split(","))
    unknown = only - set(FAULTS)
    if unknown:
        print(f"unknown faults: {', '.join(sorted(unknown))} (use {','.join(FAULTS)})")
        return 2
    docs = Path(args.docs or settings.paths.knowledge_dir).resolve()
    rng = random.Random(args.seed)
    print(f"machine: {machine_description()}")
    rows: list[Row] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="asl-gpt-faults-") as tmp:
        st = Stack(settings, Path(tmp), docs)
        print(f"stack: {st.summary.chunks_total} chunks of {docs} indexed in {st.index_s:.1f} s; "
              f"LLM {st.llm.model_name} (embedded)", flush=True)
        steps = [("llm", lambda: [fault_llm_killed(st)]), ("chroma", lambda: [fault_chroma_restarted(st)]),
                 ("kill", lambda: [fault_index_killed(st, args.kills, rng)]),
                 ("index", lambda: [fault_index_corrupt(st)]),
                 ("readonly", lambda: [fault_state_folder(st, "readonly")]),
                 ("full", lambda: [fault_state_folder(st, "full")]),
                 ("model", lambda: fault_model(st))]
        try:
            for name, step in steps:
                if name not in only:
                    continue
                t = time.perf_counter()
                try:
                    new = step()
                except Exception as e:  # noqa: BLE001 - one fault's harness failing does not hide the others
                    new = [Row(name, f"the benchmark failed: {type(e).__name__}: {_line(e, 200)}", "?", False)]
                rows += new
                for r in new:
                    print(f"[{time.perf_counter() - t:5.1f} s] {'ok ' if r.ok else 'BAD'} {r.fault}: {r.seen}",
                          flush=True)
        finally:
            st.close()
    print(f"\n{len(rows)} faults in {time.perf_counter() - t0:.0f} s; machine: {machine_description()}\n")
    print("| fault | what the user saw | lost | as promised |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r.fault} | {r.seen} | {r.lost} | {'yes' if r.ok else 'NO'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_description(),
                                               "rows": [dataclasses.asdict(r) for r in rows]}, indent=1))
        print(f"written: {args.json}")
    return 0 if all(r.ok for r in rows) else 1
