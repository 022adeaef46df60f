"""The Knowledge tab: list, upload and (re)index documents with the same KnowledgeBase.index as `asl-gpt index`.

Uploaded files are copied into `<state_dir>/uploads/`, which is indexed together with the knowledge
folder. On the first run (an empty index) the knowledge folder is indexed in the background so the
app answers out of the box; the status shows the progress meanwhile.
"""

from __future__ import annotations

import logging
import threading

from asl_gpt.errors import AslGptError
from asl_gpt.services import save_uploads

log = logging.getLogger(__name__)

_index_lock = threading.Lock()  # one index run at a time in this process (the store has its own file lock)


def documents_table(services) -> list[list]:
    try:
        docs = services.knowledge().documents()
        # the user's own uploads first: the table scrolls, and 34 default documents would bury them
        default = str(services.settings.paths.knowledge_dir)
        docs.sort(key=lambda d: (str(d.source).startswith(default), d.path))
        return [[d.path, d.title, d.chunks] for d in docs]
    except AslGptError as e:
        log.warning("listing documents failed: %s", e)
        return []
    except Exception:  # noqa: BLE001 - a broken store shows an empty list and a status line
        log.exception("listing documents failed")
        return []


def _summary(s) -> str:
    text = (f"Indexed: {s.added} added, {s.updated} updated, {s.removed} removed, {s.unchanged} unchanged; "
            f"{s.chunks_embedded} chunks embedded, {s.chunks_total} in the index ({s.seconds:.1f} s).")
    if s.skipped:
        text += "  \nSkipped: " + "; ".join(f"{p.rsplit('/', 1)[-1]} ({why})" for p, why in s.skipped)
    return text


def _run_index(services, probe, paths, rebuild: bool, progress=None) -> str:
    def report(done: int, total: int) -> None:
        probe.indexing = f"indexing: {done}/{total} chunks embedded"
        if progress is not None:
            progress((done, total), desc="embedding", unit="chunks")

    if not _index_lock.acquire(blocking=False):
        return "⚠ Another index run is in progress; try again when it finishes."
    try:
        probe.indexing = "indexing: reading documents"
        summary = services.knowledge().index(paths, rebuild=rebuild, progress=report)
        return _summary(summary)
    except AslGptError as e:
        return f"⚠ {e}"
    except Exception as e:  # noqa: BLE001 - the app stays up; the message says what failed
        log.exception("indexing failed")
        return f"⚠ indexing failed: {type(e).__name__}: {str(e)[:200]}"
    finally:
        probe.indexing = ""
        probe.invalidate()
        _index_lock.release()


def index_roots(services) -> list:
    roots = [services.settings.paths.knowledge_dir]
    up = services.uploads_dir()
    if any(up.iterdir()):
        roots.append(up)
    return roots


def upload_and_index(services, probe, files: list[str], progress=None) -> str:
    if not files:
        return "Choose one or more files first."
    try:
        saved = save_uploads(files, services.uploads_dir())
    except AslGptError as e:
        return f"⚠ {e}"
    msg = _run_index(services, probe, [services.uploads_dir()], False, progress)
    return f"Uploaded {', '.join(p.name for p in saved)}.  \n{msg}"


def reindex(services, probe, rebuild: bool, progress=None) -> str:
    return _run_index(services, probe, index_roots(services), rebuild, progress)


def start_initial_index(services, probe) -> threading.Thread:
    """Index the knowledge folder in the background when the index is empty (the first run)."""

    def run():
        try:
            kb = services.knowledge()
            if kb.stats().documents:
                return
        except Exception as e:  # noqa: BLE001 - shown by the status probe instead
            log.warning("index check failed: %s", e)
            return
        log.info("the index is empty: indexing %s", services.settings.paths.knowledge_dir)
        log.info(reindex(services, probe, False))

    t = threading.Thread(target=run, name="initial-index", daemon=True)
    t.start()
    return t
