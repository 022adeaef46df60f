// ASL GPT's page script, in the page's <head> before it draws (asl_gpt.app.ui.launch, like camera.js):
// keyboard shortcuts (Alt+key) on top of ordinary Tab/Enter/Space operation of every control; arrow keys between
// tabs (the WAI-ARIA tabs pattern); the question's length counter; preferences kept in this browser, applied
// before the page draws so a reload does not flash the default theme; names for the chat's icon buttons; the
// pending box's guard against recognised text replacing what the user typed. ASL_GPT_PAGE (the default caption
// size) is defined before this script by asl_gpt/app/ui.py.
(() => {
  const store = (k, v) => { try { if (v === undefined) return localStorage.getItem(k); localStorage.setItem(k, v); } catch (e) { return null; } };
  const apply = (hc, size) => {
    document.documentElement.classList.toggle('hc', hc);
    if (size) document.documentElement.style.setProperty('--caption-size', size + 'rem');
  };
  apply(store('asl-gpt-hc') === '1', store('asl-gpt-caption-size'));
  window.aslGptPrefs = {
    contrast: (v) => { apply(!!v); store('asl-gpt-hc', v ? '1' : '0'); },
    captionSize: (v) => { apply(store('asl-gpt-hc') === '1', v); store('asl-gpt-caption-size', String(v)); },
    saved: () => [store('asl-gpt-hc') === '1', parseFloat(store('asl-gpt-caption-size')) || ASL_GPT_PAGE.captionRem],
  };
  // This browser's conversation id (asl_gpt/app/conversations.py): random hex, kept so a reload shows the
  // conversation again. Without localStorage it lasts as long as the page.
  let browserId = store('asl-gpt-browser-id');
  window.aslGptBrowserId = () => {
    if (!/^[a-f0-9]{32}$/.test(browserId || '')) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      browserId = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
      store('asl-gpt-browser-id', browserId);
    }
    return browserId;
  };
})();
document.addEventListener('keydown', (e) => {
  const tab = e.target.closest && e.target.closest('[role="tab"]');
  if (tab && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && !e.altKey && !e.ctrlKey && !e.metaKey) {
    const list = tab.closest('[role="tablist"]') || tab.parentElement;
    const tabs = [...list.querySelectorAll('[role="tab"]')].filter((t) => !t.disabled && t.offsetParent !== null);
    const i = tabs.indexOf(tab), n = tabs.length;
    const j = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n : e.key === 'Home' ? 0 : n - 1;
    if (n && j !== i) { tabs[j].focus(); tabs[j].click(); }
    e.preventDefault();
    return;
  }
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  const ids = {s: 'send-btn', c: 'clear-btn', w: 'delete-word-btn', r: 'restore-btn', a: 'ask-btn'};
  const k = e.key.toLowerCase();
  if (k === 'v' && window.aslGptCamera) {
    window.aslGptCamera.running() ? window.aslGptCamera.stop() : window.aslGptCamera.start(); e.preventDefault(); return;
  }
  if (k === 'q') { const t = document.querySelector('#question textarea'); if (t) { t.focus(); e.preventDefault(); } return; }
  if (k === 'p') { const t = document.querySelector('#pending textarea'); if (t) { t.focus(); e.preventDefault(); } return; }
  if (ids[k]) { const b = document.getElementById(ids[k]); if (b) { b.click(); e.preventDefault(); } }
});
// The question's length: on every key, and on every change the app makes (Ask empties the box).
window.aslGptCount = (text) => {
  const c = document.getElementById('question-count');
  if (!c) return;
  const n = (text || '').length, limit = +c.dataset.limit;
  c.textContent = n + ' / ' + limit + ' characters' + (n > limit ? ': too long to ask, shorten it' : '');
  c.classList.toggle('over', n > limit);
};
document.addEventListener('input', (e) => {
  if (e.target.closest && e.target.closest('#question')) window.aslGptCount(e.target.value);
  if (e.target.closest && e.target.closest('#pending')) e.target.dataset.edited = '1';  // see aslGptFill
});
// Icon buttons Gradio draws in the chat without a name (the open/close arrow of a Sources group), and its
// trash button, which clears the whole conversation but was called "Clear" like the pending box's button.
new MutationObserver(() => {
  for (const b of document.querySelectorAll('#chat button.icon-button')) {
    const label = b.getAttribute('aria-label');
    const name = !label ? (b.querySelector('.dropdown-arrow') ? 'Show or hide' : '')
      : label === 'Clear' ? 'Clear the conversation' : '';
    if (name) { b.setAttribute('aria-label', name); b.title = name; }
  }
  // Accessibility fixes of Gradio's own markup (axe-core, tests/test_browser_axe.py). A Sources title is a
  // role=button around its "Show or hide" button (nested-interactive): the inner button alone is the control
  // (its click still reaches the title's handler), named after its group.
  for (const t of document.querySelectorAll('#chat .title[role="button"]')) {
    const b = t.querySelector('button');
    if (!b) continue;
    t.removeAttribute('role'); t.removeAttribute('tabindex');
    const title = (t.querySelector('.md') || t).innerText.trim();
    if (title) { b.setAttribute('aria-label', 'Show or hide ' + title); b.title = 'Show or hide ' + title; }
  }
  // An upload box is named "Click to upload or drop files" but reads "Drop File Here - or - Click to Upload"
  // (label-content-name-mismatch): its name is what it reads, then the field's label.
  for (const u of document.querySelectorAll('button.upload-container[aria-label]')) {
    const text = u.innerText.replace(/\s+/g, ' ').trim();
    const block = u.closest('.block'), field = block && block.querySelector('[data-testid="block-label"]');
    const name = text && (text + (field && field.innerText.trim() ? ': ' + field.innerText.trim() : ''));
    if (name && u.getAttribute('aria-label') !== name) u.setAttribute('aria-label', name);
  }
  // The footer's icons repeat the link's own words (image-redundant-alt): they are decoration.
  for (const img of document.querySelectorAll('footer img[alt]')) {
    if (img.alt && img.parentElement && img.parentElement.textContent.includes(img.alt)) img.alt = '';
  }
}).observe(document.documentElement, {childList: true, subtree: true});

// The pending box takes recognised text from the hidden feed (asl_gpt.app.ui) only while the user is not in it
// and has not typed in it: a value set from the server would replace keys typed meanwhile, and the server
// learns of the first key only a round trip later. So the first key freezes the box in the page itself
// (data-edited) until Send, Clear, Restore or a video's utterance hands it back (aslGptHandsBack). Returning
// the box's own text is a no-op.
window.aslGptFill = (feed) => {
  const box = document.querySelector('#pending textarea');
  let f = null;
  try { f = JSON.parse(feed); } catch (e) { /* empty feed */ }
  if (!f || (box && (document.activeElement === box || box.dataset.edited))) return box ? box.value : '';
  return f.text;
};
window.aslGptHandsBack = (...inputs) => {
  const box = document.querySelector('#pending textarea');
  if (box) delete box.dataset.edited;
  return inputs;
};
