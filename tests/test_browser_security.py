"""A hostile document in the real app (headless Chromium): uploaded, listed, retrieved, shown in the
sources and perhaps repeated in the answer, none of its markup runs.

The app, the browser and the helpers are those of tests/test_browser.py (the same fixtures). Every
payload announces itself if it runs: it sets `window.__xss` or opens a dialog, which the test
records.
"""

from __future__ import annotations


import pytest

from fakes import wait
from test_browser import _ask_in_a_new_conversation, _open_sources, app, chromium, page, y4m  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The facts a question finds, wrapped in every kind of markup a document could use to run a script.
HOSTILE_MD = """# The Lighthouse Signing Circle <img src=x onerror="window.__xss='title';alert('title')">

## History <svg onload="window.__xss='section'">
The Lighthouse Signing Circle is a group for people learning American Sign Language. It was founded
in 1994 by Thomas Whitcombe, a ferry captain, and it meets every Tuesday in the lighthouse museum.
<script>window.__xss = 'script'; alert('script')</script>
<img src=x onerror="window.__xss='img'; alert('img')">
[Join the circle](javascript:window.__xss='link';alert('link')) and ![logo](javascript:alert('image'))
<javascript:alert('autolink')> [members][m]
<details open ontoggle="window.__xss='details'">more</details>
<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>
&lt;img src=x onerror="window.__xss='entity'"&gt;

```mermaid
graph TD; A[Whitcombe] --> B; click A call alert('mermaid')
```

[m]: javascript:alert('reference')
"""
HOSTILE_HTML = """<html><head><title>Lighthouse museum <script>window.__xss='html-title'</script></title></head>
<body><h1>Lighthouse museum</h1>
<p>The lighthouse museum hosts the Lighthouse Signing Circle founded by Thomas Whitcombe.
&lt;img src=x onerror="window.__xss='html-entity'"&gt;</p>
<script>window.__xss = 'html-script'</script>
<a href="javascript:window.__xss='html-link'">museum hours</a></body></html>
"""

# Markup that survived as markup: script-capable elements, event handlers, javascript: URLs.
VIOLATIONS_JS = """(sel) => {
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'details'].includes(tag)) out.push(tag);
      for (const a of el.attributes) {
        if (a.name.toLowerCase().startsWith('on') || /^\\s*javascript:/i.test(a.value)) out.push(tag + '[' + a.name + ']');
      }
      if (tag === 'img' && !(el.getAttribute('src') || '').startsWith(location.origin) && root.id !== 'documents')
        out.push('img ' + el.getAttribute('src'));
    }
  }
  return out;
}"""


def test_a_hostile_document_is_shown_as_text_and_nothing_in_it_runs(page, tmp_path, test_output):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    md = tmp_path / "lighthouse-circle.md"
    md.write_text(HOSTILE_MD)
    html_doc = tmp_path / "lighthouse-museum.html"
    html_doc.write_text(HOSTILE_HTML)
    exe = tmp_path / "setup<img src=x onerror=alert('name')>.exe"
    exe.write_bytes(b"MZ\x90\x00")

    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#kb-files input[type='file']").set_input_files([str(md), str(html_doc), str(exe)])
    page.wait_for_timeout(1000)
    page.locator("#upload-btn").click()
    wait(lambda: "Indexed:" in page.locator("#kb-status").inner_text(), 180, every_s=0.5)
    status = page.locator("#kb-status").inner_text()
    assert "2 added" in status, status
    assert "unsupported file type .exe" in status and status.count("⚠") == 1, status  # one line for the refused file
    assert "lighthouse-circle.md" in page.locator("#documents").inner_text()
    page.screenshot(path=str(test_output / "browser-security-upload.png"), full_page=True)

    page.get_by_role("tab", name="Ask").click()
    answer_status = _ask_in_a_new_conversation(page, "Who founded the Lighthouse Signing Circle?")
    assert answer_status.startswith("answered"), answer_status
    titles = _open_sources(page)
    assert any("Lighthouse" in t for t in titles), titles
    for t in page.locator("#chat .thought-group .title").all():  # open every passage, so its text is drawn
        if t.inner_text().strip().startswith("["):
            t.click()
    page.wait_for_timeout(1000)
    chat = page.locator("#chat").inner_text()
    for tab in ("Knowledge", "Ask"):  # the documents table draws the hostile title too
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(800)
    page.screenshot(path=str(test_output / "browser-security-answer.png"), full_page=True)

    assert page.evaluate("() => window.__xss") is None, page.evaluate("() => window.__xss")
    assert dialogs == [], dialogs
    assert page.evaluate(VIOLATIONS_JS, "#chat, #documents, #kb-status") == []
    # Shown as the document wrote it, as text: the markup is visible, not interpreted (nor removed, nor
    # drawn: Gradio hands a mermaid fence to mermaid).
    assert "<script>" in chat and "onerror=" in chat and "javascript:" in chat and "```mermaid" in chat, chat
    assert "Whitcombe" in chat
