"""The Knowledge tab: list, upload and (re)index documents with the same KnowledgeBase.index as `asl-gpt index`.

Uploaded files are copied into `<state_dir>/uploads/`, which is indexed together with the knowledge
folder. On the first run (an empty index) the knowledge folder is indexed in the background so the
app answers out of the box; the status shows the progress meanwhile.

Uploads are untrusted: each file is checked (type by its suffix and its first bytes, size, number
per upload) and stored under a name made of safe characters only, never a path the browser chose; a
refused file gets one line saying why, and the others are still uploaded. Messages go to a Markdown
box, so document names and reasons are escaped (`markdown_text`).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path

from asl_gpt.app.chat import markdown_text
from asl_gpt.app.wording import web_text
from asl_gpt.config import RagConfig
from asl_gpt.errors import AslGptError
from asl_gpt.rag.documents import TEXT_SUFFIXES

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 100  # stored file names are cut to this (file systems stop at 255 bytes)

_index_lock = threading.Lock()  # one index run at a time in this process (the store has its own file lock)


def documents_table(services) -> list[list]:
    try:
        docs = services.knowledge().documents()
        # the user's own uploads first: the table scrolls, and 34 default documents would bury them
        default = str(services.settings.paths.knowledge_dir)
        docs.sort(key=lambda d: (str(d.source).startswith(default), d.path))
        up = str(services.uploads_dir().resolve())
        # an upload by its file name (the server's folders are nobody's business), marked as the user's own
        return [[f"{Path(d.source).name} (uploaded)" if str(d.source).startswith(up) else d.path, d.title, d.chunks]
                for d in docs]
    except AslGptError as e:
        log.warning("listing documents failed: %s", e)
        return []
    except Exception:  # noqa: BLE001 - a broken store shows an empty list and a status line
        log.exception("listing documents failed")
        return []


def _summary(s, only: set[str] | None = None) -> str:
    text = (f"Indexed: {s.added} added, {s.updated} updated, {s.removed} removed, {s.unchanged} unchanged; "
            f"{s.chunks_embedded} chunks embedded, {s.chunks_total} in the index ({s.seconds:.1f} s).")
    skipped = [(p, why) for p, why in s.skipped if only is None or str(Path(p).resolve()) in only]
    if skipped:
        text += "  \nSkipped: " + "; ".join(_md(f"{p.rsplit('/', 1)[-1]} ({why})") for p, why in skipped)
    return text


def _run_index(services, probe, paths, rebuild: bool, progress=None, only: list[Path] | None = None) -> str:
    """Index `paths`; the summary names the files skipped among `only` (default: all of them)."""
    def report(done: int, total: int) -> None:
        probe.indexing = f"indexing: {done}/{total} chunks embedded"
        if progress is not None:
            progress((done, total), desc="embedding", unit="chunks")

    if not _index_lock.acquire(blocking=False):
        return "⚠ Another index run is in progress; try again when it finishes."
    try:
        probe.indexing = "indexing: reading documents"
        summary = services.knowledge().index(paths, rebuild=rebuild, progress=report)
        return _summary(summary, None if only is None else {str(p.resolve()) for p in only})
    except AslGptError as e:
        return f"⚠ {_md(e)}"
    except Exception as e:  # noqa: BLE001 - the app stays up; the message says what failed
        log.exception("indexing failed")
        return f"⚠ indexing failed: {type(e).__name__}: {_md(str(e)[:200])}"
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
    """Store the acceptable files among `files` and index them; one line per refused file."""
    if not files:
        return "Choose one or more files first."
    rag = getattr(services.settings, "rag", None) or RagConfig()
    saved, refused = save_uploads(files, services.uploads_dir(), rag.max_upload_mb, rag.max_upload_files)
    lines = [f"⚠ {_md(r)}" for r in refused]
    if saved:
        # the whole uploads folder is indexed, but this status is about this upload: a file skipped by an
        # earlier upload (still in the folder) is not reported again
        msg = _run_index(services, probe, [services.uploads_dir()], False, progress, only=saved)
        lines = [f"Uploaded {_md(', '.join(p.name for p in saved))}.", *lines, msg]
    return "  \n".join(lines)


def uploaded_names(services) -> list[str]:
    """The file names in the uploads folder, for the page's list of removable uploads."""
    try:
        return sorted(p.name for p in services.uploads_dir().iterdir() if p.is_file() and p.suffix in TEXT_SUFFIXES)
    except OSError:
        return []


def remove_upload(services, probe, name: str | None) -> str:
    """Delete an uploaded document (by its file name in the uploads folder) and drop it from the index."""
    if not name:
        return "Choose an uploaded document first."
    up = services.uploads_dir().resolve()
    target = up / safe_name(name)
    if safe_name(name) != name or not target.is_file():  # only a name the folder lists: never a path
        return f"⚠ {_md(name)} is not an uploaded document."
    try:
        target.unlink()
    except OSError as e:
        return f"⚠ {_md(name)} could not be removed ({_md(e.strerror or e)})."
    return f"Removed {_md(name)}.  \n" + _run_index(services, probe, [up], False)


def _md(text) -> str:
    """A message for the Markdown status box: the app's wording (no CLI, no server paths), escaped."""
    return markdown_text(web_text(text))


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: the last component of `name` (either slash),
    letters, digits, `-`, `_` and `.` only, no leading dot, at most MAX_NAME_CHARS, its suffix kept."""
    base = re.split(r"[\\/]", str(name))[-1]
    suffix = Path(base).suffix.lower()
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in base).lstrip(".")
    stem = keep[: -len(suffix)] if suffix and keep.lower().endswith(suffix) else keep
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(".") or "upload"
    return stem + suffix


def check_upload(path: Path, max_mb: float) -> str:
    """Why the file at `path` cannot be added ("" when it can): its type by suffix and first bytes, its size."""
    suffix = path.suffix.lower()
    kind = TEXT_SUFFIXES.get(suffix)
    if kind is None:
        return f"unsupported file type {suffix or '(no suffix)'} (use {', '.join(sorted(TEXT_SUFFIXES))})"
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as e:
        return f"unreadable ({e.strerror or e})"
    if size > max_mb * 2**20:
        return f"too large: {size / 2**20:.1f} MB, the limit is {max_mb:g} MB (rag.max_upload_mb)"
    if size == 0:
        return "empty file"
    if kind == "pdf":
        if b"%PDF-" not in head[:1024]:
            return "not a PDF (its content does not start like one)"
    elif b"\x00" in head:  # the indexer's own test for a binary file (asl_gpt.rag.documents)
        return f"binary content, not a {suffix} text file"
    return ""


def save_uploads(files: list[str | Path], uploads_dir: Path, max_mb: float,
                 max_files: int) -> tuple[list[Path], list[str]]:
    """Copy acceptable uploads into `uploads_dir`; (stored paths, one line per refused file)."""
    saved: list[Path] = []
    refused: list[str] = []
    files = [Path(f) for f in files]
    if len(files) > max_files:
        extra = files[max_files:]
        names = ", ".join(p.name for p in extra[:3]) + (", …" if len(extra) > 3 else "")
        refused.append(f"{len(extra)} file(s) not uploaded ({names}): at most {max_files} per upload "
                       "(rag.max_upload_files)")
        files = files[:max_files]
    root = uploads_dir.resolve()
    for p in files:
        why = check_upload(p, max_mb)
        dest = root / safe_name(p.name)
        if not why and dest.parent != root:  # safe_name makes this impossible; checked all the same
            why = "unsafe file name"
        if not why:
            try:
                shutil.copyfile(p, dest)
            except OSError as e:
                why = f"could not be stored ({e.strerror or e})"
        if why:
            refused.append(f"{p.name}: {why}")
            log.info("upload refused: %s: %s", p.name, why)
        else:
            saved.append(dest)
    return saved, refused


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
