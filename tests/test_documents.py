"""Loaders and chunking: Markdown sections, text, HTML, PDF, binary and unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from asl_gpt.rag.documents import (SkipDocument, chunk_document, discover, html_to_markdown, load_document,
                                   parse_markdown)

MD = """---
author: test
---
# Fingerspelling basics

Intro text before any section.

## Handshapes

A is a fist with the thumb beside it.

### Confusions

A, S and T differ in the thumb.

```
# not a heading inside a fence
```

## Speed

Spell at a steady rhythm.
"""


def test_markdown_title_and_section_paths():
    title, sections = parse_markdown(MD)
    assert title == "Fingerspelling basics"
    heads = [s.heading for s in sections]
    assert heads == ["", "Handshapes", "Handshapes > Confusions", "Speed"]
    assert "# not a heading" in sections[2].text


def test_chunks_carry_source_title_section_position_and_stable_ids(tmp_path):
    p = tmp_path / "basics.md"
    p.write_text(MD)
    doc = load_document(p)
    chunks = chunk_document(doc, size=1200, overlap=200)
    assert [c.metadata["position"] for c in chunks] == list(range(len(chunks)))
    assert all(c.metadata["source"] == str(p.resolve()) and c.metadata["title"] == "Fingerspelling basics"
               for c in chunks)
    assert chunks[1].metadata["section"] == "Handshapes"
    assert "Fingerspelling basics - Handshapes" in chunks[1].embed_text
    again = chunk_document(load_document(p), size=1200, overlap=200)
    assert [c.id for c in again] == [c.id for c in chunks]
    assert len({c.id for c in chunks}) == len(chunks)


def test_long_sections_split_with_overlap(tmp_path):
    sentences = " ".join(f"Sentence number {i} is about the manual alphabet." for i in range(60))
    p = tmp_path / "long.md"
    p.write_text(f"# Long\n\n## Part\n\n{sentences}\n")
    chunks = chunk_document(load_document(p), size=300, overlap=80)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    # neighbours share text (the overlap)
    assert chunks[1].text.startswith(" ".join(chunks[0].text.split()[-3:])[:10]) or \
        chunks[0].text.split()[-1] in chunks[1].text
    assert all(c.metadata["section"] == "Part" for c in chunks)


def test_plain_text_and_latin1(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_bytes("Café signs and caf\xe9 culture.".encode("latin-1"))
    doc = load_document(p)
    assert doc.title == "notes" and "Caf" in doc.sections[0].text


def test_html_headings_become_sections(tmp_path):
    html = ("<html><head><title>Deaf history</title><script>var x=1;</script></head><body>"
            "<h1>Deaf history</h1><p>The school opened in <b>1817</b>.</p>"
            "<h2>Gallaudet</h2><ul><li>Founded 1864</li></ul></body></html>")
    assert "var x" not in html_to_markdown(html)
    p = tmp_path / "history.html"
    p.write_text(html)
    doc = load_document(p)
    assert doc.title == "Deaf history"
    assert [s.heading for s in doc.sections] == ["", "Gallaudet"]
    assert "1817" in doc.sections[0].text and "Founded 1864" in doc.sections[1].text


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF with one line of text (written by hand: no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def test_pdf_pages_become_sections(tmp_path):
    p = tmp_path / "stokoe.pdf"
    p.write_bytes(_tiny_pdf("William Stokoe described ASL in 1960"))
    doc = load_document(p)
    assert doc.sections[0].heading == "page 1"
    assert "Stokoe" in doc.sections[0].text


def test_a_file_of_headings_alone_is_text(tmp_path):
    (tmp_path / "title.md").write_text("# Only a title\n\n## And a subtitle\n")
    doc = load_document(tmp_path / "title.md")
    assert doc.title == "Only a title" and [s.text for s in doc.sections] == ["Only a title\nAnd a subtitle"]


def test_binary_corrupt_empty_and_unreadable_files_are_skipped(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (tmp_path / "empty.md").write_text("\n  \n")
    for name in ("bin.md", "broken.pdf", "empty.md"):
        with pytest.raises(SkipDocument):
            load_document(tmp_path / name)
    with pytest.raises(SkipDocument, match="unreadable"):
        load_document(tmp_path / "missing.md")


def test_discover_recurses_skips_hidden_and_reports_unsupported(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\ntext")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("text")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.md").write_text("# C\n\ntext")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    files, skipped = discover([tmp_path, tmp_path / "image.png", tmp_path / "nope"])
    assert [f.name for f in files] == ["a.md", "b.txt"]
    assert {Path(p).name for p, _ in skipped} == {"image.png", "nope"}


def test_hard_wrapped_paragraphs_are_unwrapped_lists_and_code_kept():
    from asl_gpt.rag.documents import unwrap

    text = ("Classifiers are handshapes that stand\nfor a category of things.\n\n- **CL:3**: a vehicle,\n"
            "  moving along a path.\n- **CL:1**: a person.\n\n```\nline one\nline two\n```\n| a | b |\n| 1 | 2 |")
    assert unwrap(text) == ("Classifiers are handshapes that stand for a category of things.\n\n"
                            "- **CL:3**: a vehicle, moving along a path.\n- **CL:1**: a person.\n\n"
                            "```\nline one\nline two\n```\n| a | b |\n| 1 | 2 |")
