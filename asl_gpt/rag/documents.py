"""Loading documents (Markdown, text, PDF, HTML) and splitting them into chunks along headings.

Pure functions over files and strings; no Chroma, no embeddings. A chunk's id is derived from its
source, position and text, so re-chunking an unchanged file yields the same ids (incremental indexing
rests on that).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".rst": "text",
                 ".html": "html", ".htm": "html", ".pdf": "pdf"}
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CHUNKER_VERSION = "2"  # bump when the chunking changes so that ids (and thus the index) change with it


@dataclass(frozen=True)
class Section:
    heading: str  # "Parent > Child" path of headings under the title; "" for text before the first one
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    source: str  # absolute path: the key of the document in the index
    title: str
    sections: list[Section]
    content_hash: str  # sha256 of the file's bytes


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str  # the passage shown to the user and the LLM
    metadata: dict = field(default_factory=dict)  # source, title, section, position, file_hash

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: the passage with its title and section for context."""
        head = " - ".join(x for x in (self.metadata.get("title", ""), self.metadata.get("section", "")) if x)
        return f"{head}\n{self.text}" if head else self.text


class SkipDocument(Exception):
    """A file that cannot be indexed (binary, unreadable, empty); the message says why."""


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Supported files under `paths` (folders recursively, hidden entries skipped), sorted; plus skipped ones."""
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            if root.suffix.lower() in TEXT_SUFFIXES:
                found.append(root.resolve())
            else:
                skipped.append((root, f"unsupported file type {root.suffix or '(none)'}"))
        elif root.is_dir():
            for p in sorted(root.rglob("*")):
                rel = p.relative_to(root).parts
                if any(part.startswith(".") for part in rel) or not p.is_file():
                    continue
                if p.suffix.lower() in TEXT_SUFFIXES:
                    found.append(p.resolve())
        else:
            skipped.append((root, "no such file or folder"))
    return sorted(set(found)), skipped


def load_document(path: Path) -> LoadedDocument:
    """Read one file into a title and sections; raises SkipDocument with a reason if it cannot be used."""
    path = Path(path).resolve()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SkipDocument(f"unreadable: {e.strerror or e}") from e
    kind = TEXT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SkipDocument(f"unsupported file type {path.suffix}")
    if kind == "pdf":
        title, sections = _parse_pdf(path, data)
    else:
        if b"\x00" in data[:8192]:
            raise SkipDocument("binary content in a text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # old text files; every byte decodes, nothing is lost
        if kind == "html":
            text = html_to_markdown(text)
        if kind in ("markdown", "html"):
            title, sections = parse_markdown(text)
        else:
            title, sections = "", [Section("", unwrap(text.strip()))]
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise SkipDocument("no text")
    title = title or path.stem.replace("_", " ").replace("-", " ").strip()
    return LoadedDocument(str(path), title, sections, hashlib.sha256(data).hexdigest())


def parse_markdown(text: str) -> tuple[str, list[Section]]:
    """Title (the first level-1 heading) and the sections under each heading path; code fences respected."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # YAML front matter
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []
    headings: list[str] = []
    in_fence = False

    def flush():
        if "".join(body).strip():
            sections.append(Section(" > ".join(h for _, h in stack), unwrap("\n".join(body).strip())))
        body.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if not m:
            body.append(line)
            continue
        flush()
        level, heading = len(m.group(1)), m.group(2).strip()
        headings.append(heading)
        if level == 1 and not title:
            title = heading
            stack = []
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    if not sections and headings:  # a heading is text too: a file of headings alone is not "no text"
        sections.append(Section("", "\n".join(headings)))
    return title, sections


_BLOCK_START = re.compile(r"^\s*([-*+] |\d+[.)] |[|>]|```|~~~)")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines into one line per paragraph or list item (tables and code stay as they are).

    Documents wrapped at 80-100 columns would otherwise reach the embedder, BM25 and the LLM with line
    breaks inside sentences (small models copy those breaks into their answers).
    """
    out: list[str] = []
    in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            out.append(line)
            continue
        joinable = (out and out[-1].strip() and not in_fence and stripped and not _BLOCK_START.match(line)
                    and not out[-1].lstrip().startswith(("|", "```", "~~~")) and not out[-1].rstrip().endswith("  "))
        if joinable:
            out[-1] = out[-1].rstrip() + " " + stripped
        else:
            out.append(line)
    return "\n".join(out)


def html_to_markdown(html: str) -> str:
    """Headings become Markdown headings, block text becomes paragraphs; scripts and styles are dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer"]):
        tag.decompose()
    lines: list[str] = []
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    body = soup.body or soup
    has_h1 = body.find("h1") is not None
    if title and not has_h1:
        lines.append(f"# {title}")
    for el in body.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "td", "blockquote", "dt", "dd"]):
        if el.find_parent(["p", "li", "pre", "td", "blockquote"]) is not None:
            continue  # nested blocks are covered by their parent's text
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            lines.append(f"\n{'#' * int(el.name[1:])} {text}\n")
        else:
            lines.append(("- " if el.name == "li" else "") + text)
    return "\n".join(lines)


def _parse_pdf(path: Path, data: bytes) -> tuple[str, list[Section]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
        sections = [Section(f"page {i + 1}", (page.extract_text() or "").strip()) for i, page in enumerate(reader.pages)]
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise SkipDocument(f"unreadable PDF: {e}") from e
    return title, sections


def split_text(text: str, size: int, overlap: int) -> list[str]:
    """Paragraph/sentence-aware split into pieces of at most `size` characters sharing `overlap`."""
    if len(text) <= size:
        return [text]
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                              separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""])
    return [p.strip() for p in splitter.split_text(text) if p.strip()]


def chunk_document(doc: LoadedDocument, size: int, overlap: int) -> list[Chunk]:
    """Chunks along the document's sections (long sections split with overlap), numbered in order."""
    chunks: list[Chunk] = []
    for section in doc.sections:
        for piece in split_text(section.text, size, overlap):
            position = len(chunks)
            key = "\x00".join((_CHUNKER_VERSION, doc.source, str(position), doc.title, section.heading, piece))
            cid = hashlib.sha256(key.encode()).hexdigest()[:32]
            chunks.append(Chunk(cid, piece, {"source": doc.source, "title": doc.title, "section": section.heading,
                                             "position": position, "file_hash": doc.content_hash}))
    return chunks
