"""The Practice tab in headless Chromium: a word shown, spelled to the fake camera (a real signing video), each
letter judged and shown right or missed in words, AA contrast in both themes; and "How do I spell X" in the chat
drawn as handshapes. The app runs without indexing or the LLM (neither is needed here)."""

from __future__ import annotations

import os
import shutil

import pytest

from asl_gpt.benchmarks.browser import chromium_path
from asl_gpt.benchmarks.procs import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if chromium_path() is None:
    pytest.skip("Debian chromium is not installed (scripts/setup.sh installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from asl_gpt.app import build_demo, launch
    from asl_gpt.app.services import build_services
    from asl_gpt.config import load_settings

    state = tmp_path_factory.mktemp("state")
    services = build_services(load_settings(paths={"state_dir": state}))
    demo = build_demo(services, initial_index=False)
    port = free_port()
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}", demo, state
    finally:
        demo.close()
        services.close()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def page(app, signing_videos, test_output):
    from asl_gpt.benchmarks.browser import browser, write_y4m

    y4m = write_y4m(signing_videos["SOUP"], test_output / "fake-camera-soup.y4m", min_seconds=6.0)
    with browser(y4m) as b:
        ctx = b.new_context(viewport={"width": 1400, "height": 1000})
        p = ctx.new_page()
        p.set_default_timeout(30_000)
        p.goto(app[0], wait_until="load")
        p.locator("#question textarea").wait_for()
        yield p
        ctx.close()


def test_practice_tab_judges_each_letter_from_the_camera(page, app, test_output):
    from fakes import on_page, wait
    from test_browser import CONTRAST_JS, _live

    _, demo, state = app
    live = _live(page, demo)
    page.locator("#cam-start").click()  # the Ask tab's camera, as a user starts it
    def the_fake_cameras_frames_arrived() -> bool:
        return live.state().frames_processed >= 5

    wait(the_fake_cameras_frames_arrived, 120, 0.5, on_page(page))
    page.get_by_role("tab", name="Practice").click()
    page.locator("#practice-level").get_by_text("Short words").click()
    page.locator("#practice-new-btn").click()
    page.wait_for_function("() => document.querySelector('#practice-word [data-word]')")
    word = page.locator("#practice-word [data-word]").get_attribute("data-word")
    page.locator("#practice-cam-btn").focus()  # keyboard only from here
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#practice-status').innerText.includes('Record')",
                           timeout=60_000)
    def recorded() -> bool:  # the signer's hands stay in view: the take is stopped by hand once it has frames
        return bool(live.practice_take and len(live.practice_take.frames) >= 20) or \
            bool(page.locator("#practice-result li").count())

    wait(recorded, 120, 0.5, on_page(page))
    page.screenshot(path=str(test_output / "browser-practice-recording.png"), full_page=True)
    if not page.locator("#practice-result li").count():
        page.locator("#practice-stop-btn").focus()
        page.keyboard.press("Enter")
    try:
        page.wait_for_function("() => document.querySelectorAll('#practice-result li.practice-letter').length > 0",
                               timeout=120_000)
    finally:
        page.screenshot(path=str(test_output / "browser-practice.png"), full_page=True)
    assert page.locator("#practice-result li").count(), page.locator("#practice-status").inner_text()
    letters = page.locator("#practice-result li.practice-letter")
    assert letters.count() == len(word)
    for i in range(letters.count()):
        text = letters.nth(i).inner_text()
        assert word[i].upper() in text and ("right" in text or "missed" in text)  # in words, not colour alone
    assert "letters right" in page.locator("#practice-result").inner_text()
    assert (state / "profiles" / "profile.practice.json").is_file()  # progress kept for the learner
    bad = [r for r in page.evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
    page.locator("#high-contrast input").check()
    page.wait_for_timeout(500)
    bad += [r for r in page.evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
    page.screenshot(path=str(test_output / "browser-practice-high-contrast.png"), full_page=True)
    page.locator("#high-contrast input").uncheck()
    assert not bad, bad[:5]
    page.locator("#practice-progress-panel").get_by_text("Your progress", exact=True).click()
    page.wait_for_function("() => document.querySelector('#practice-progress')?.innerText.includes('practised')")
    page.locator("#practice-reset-btn").click()
    page.wait_for_function("() => document.querySelector('#practice-progress')?.innerText.includes('Progress reset')")
    assert not (state / "profiles" / "profile.practice.json").exists()


def test_how_do_i_spell_draws_the_handshapes_in_the_chat(page, test_output):
    page.get_by_role("tab", name="Ask").click()
    page.locator("#question textarea").fill("How do I spell cab?")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('C-A-B')", timeout=60_000)
    imgs = page.locator("#chat img[alt^='ASL handshape for']")
    assert imgs.count() == 3
    assert [imgs.nth(i).get_attribute("alt") for i in range(3)] == [f"ASL handshape for {c}" for c in "CAB"]
    drawn = page.evaluate("() => [...document.querySelectorAll('#chat img[alt^=\"ASL handshape\"]')]"
                          ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
    assert all(natural > 0 and 0 < shown <= 200 for natural, shown in drawn), drawn  # drawn, and small
    page.screenshot(path=str(test_output / "browser-how-to-spell.png"), full_page=True)
