"""JavaScript of the selector doctor: find each key's element by structure (never by the
selector that broke), propose selectors for it, and try selectors live.

Structure means what survives WhatsApp's redesigns: ids (#main, #side), roles, the
words of the page in its language (aria-label, aria-placeholder, text), data-icon names,
data-tab, contenteditable, file input accept values, the QR's data-ref, message rows
with status icons.
"""

# arguments[0]: the page's words {English word: word on the page}; arguments[1]: key names.
# Returns {key: {"targets": n, "candidates": [selector with {Word} placeholders, ...]}} and
# marks each key's target elements with data-wa-doctor="KEY" for the live check.
FIND = r"""
const WORDS = arguments[0], KEYS = arguments[1];
const vis = (e) => !!(e && e.isConnected && (e.offsetParent !== null || e.getClientRects().length));
const norm = (t) => String(t || '').replace(/\s+/g, ' ').trim();
const wordOf = (text) => {
  for (const [en, local] of Object.entries(WORDS)) if (norm(local) === norm(text)) return '{' + en + '}';
  return null;
};
const q = (s, root) => Array.from((root || document).querySelectorAll(s));
const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
const footer = () => document.querySelector('#main footer');
const inFooter = (e) => !!(footer() && footer().contains(e));
const clickables = (root) => q('button, [role="button"]', root).filter(vis);
const iconOf = (e) => (e.matches('[data-icon]') ? e : e.querySelector('[data-icon]'));
const iconName = (e) => { const i = iconOf(e); return i ? i.getAttribute('data-icon') : ''; };
const label = (e) => e.getAttribute('aria-label') || e.getAttribute('title') || '';
const STATUS = /^msg-(time|check|dblcheck)$/;
const statusIcons = () => q('#main [data-icon]').filter((i) => STATUS.test(i.getAttribute('data-icon')));
const rows = () => q('#main [role="row"]');
const outRows = () => rows().filter((r) => r.querySelector('[data-icon]') &&
  q('[data-icon]', r).some((i) => STATUS.test(i.getAttribute('data-icon'))));

const find = {
  booting: () => [document.querySelector('#startup') || document.querySelector('progress')],
  qr_code: () => q('canvas').map((c) => c.closest('[data-ref]')).filter(Boolean).slice(0, 1),
  qr_reload: () => q('[data-ref]').flatMap((r) => q('button', r.parentElement || r)).filter(vis).slice(0, 1),
  logged_in: () => [document.querySelector('#pane-side') || document.querySelector('#side')],
  chat_open: () => [document.querySelector('#main header span[title]') || document.querySelector('#main header')],
  compose_box: () => (footer() ? q('[contenteditable="true"]', footer()).filter(vis).slice(0, 1) : []),
  send_button: () => (footer() ? clickables(footer()).filter((e) =>
      norm(label(e)) === norm(WORDS['Send']) || /send/.test(iconName(e))).slice(0, 1) : []),
  attach_button: () => (footer() ? clickables(footer()).filter((e) =>
      norm(label(e)) === norm(WORDS['Attach']) || /plus|attach|clip/.test(iconName(e))).slice(0, 1) : []),
  media_input: () => {
    const files = q('input[type="file"]');
    const video = files.filter((i) => /video/.test(i.accept || ''));
    const image = files.filter((i) => (i.accept || '') === 'image/*');
    return (video.length ? video : image).slice(0, 1);
  },
  document_input: () => q('input[type="file"]').filter((i) => (i.accept || '*') === '*').slice(0, 1),
  caption_box: () => q('[contenteditable="true"]').filter((e) => vis(e) && !inFooter(e) &&
      !e.closest('#side')).slice(0, 1),
  media_send: () => clickables(document).filter((e) => !inFooter(e) && !e.closest('#side') &&
      (/send/.test(iconName(e)) || norm(label(e)) === norm(WORDS['Send']))).slice(0, 1),
  invalid_popup: () => q('[data-animate-modal-popup], [role="dialog"]').filter((d) => vis(d) &&
      norm(d.textContent).includes(norm(WORDS['invalid']))).slice(-1),
  popup_ok: () => q('[data-animate-modal-popup] button, [data-animate-modal-popup] [role="button"], ' +
      '[role="dialog"] button, [role="dialog"] [role="button"]').filter((b) => vis(b) &&
      norm(b.textContent) === norm(WORDS['OK'])).slice(0, 1),
  message_row: () => rows(),
  outgoing_message: () => outRows(),
  message_text: () => outRows().map((r) => {
    const t = q('.selectable-text', r).filter((e) => e.closest('[data-pre-plain-text]'));
    return t.length ? t[t.length - 1] : null;
  }).filter(Boolean),
  message_meta: () => outRows().map((r) => r.querySelector('[data-pre-plain-text]')).filter(Boolean),
  msg_ack: () => statusIcons().filter((i) => /check/.test(i.getAttribute('data-icon'))),
  msg_pending: () => statusIcons().filter((i) => /time/.test(i.getAttribute('data-icon'))),
  read_more: () => q('#main [role="button"]').filter((b) => norm(b.textContent) === norm(WORDS['Read more'])),
  message_list: () => {
    const r = rows()[0];
    return r ? [r.closest('[role="application"]') || r.parentElement] : [];
  },
  chat_start: () => q('#main [data-icon]').filter((i) => /lock/.test(i.getAttribute('data-icon'))).slice(0, 1),
};

// Selectors for an element, most structural first; {Word} where a label is a page word.
const propose = (key, el) => {
  const out = [];
  const tag = el.tagName.toLowerCase();
  const scope = inFooter(el) ? '#main footer ' : (el.closest('#main') ? '#main ' : '');
  const add = (s) => { if (s && !out.includes(s)) out.push(s); };
  if (key === 'outgoing_message') {
    // Every status a new bubble goes through, not only those on screen now.
    const names = [...new Set(['msg-time', 'msg-check', 'msg-dblcheck',
                               ...statusIcons().map((i) => i.getAttribute('data-icon'))])].sort();
    add(`#main div[role='row']:has(${names.map((n) => `span[data-icon='${n}']`).join(', ')})`);
    return out;
  }
  if (key === 'msg_ack' || key === 'msg_pending' || key === 'chat_start') {
    add(`${key === 'chat_start' ? '#main ' : ''}span[data-icon='${esc(el.getAttribute('data-icon'))}']`);
    return out;
  }
  if (key === 'message_row') { add("#main div[role='row']"); add('#main [role="row"]'); return out; }
  if (key === 'message_meta') { add('div.copyable-text[data-pre-plain-text]'); add('[data-pre-plain-text]'); return out; }
  if (key === 'message_text') { add('span.selectable-text'); add('[data-pre-plain-text] span[dir]'); return out; }
  if (key === 'qr_code') { add(`${tag}[data-ref]`); add('[data-ref]:has(> canvas)'); return out; }
  if (el.id) add(`#${el.id}`);
  if (tag === 'input') {
    add(`input[type='file'][accept='${esc(el.getAttribute('accept') || '*')}']`);
    return out;
  }
  const icon = iconOf(el);
  if (icon && !STATUS.test(icon.getAttribute('data-icon'))) add(`${scope}span[data-icon='${esc(icon.getAttribute('data-icon'))}']`);
  const role = el.getAttribute('role');
  const aria = el.getAttribute('aria-label');
  if (aria) {
    const w = wordOf(aria) || esc(aria);
    add(`${scope}${tag}${role ? `[role='${role}']` : ''}[aria-label='${w}']`);
  }
  const ph = el.getAttribute('aria-placeholder');
  if (ph) add(`${scope}${tag}[contenteditable='true'][aria-placeholder='${wordOf(ph) || esc(ph)}']`);
  if (el.getAttribute('contenteditable') === 'true') {
    if (el.getAttribute('data-tab')) add(`${scope}${tag}[contenteditable='true'][data-tab='${esc(el.getAttribute('data-tab'))}']`);
    if (el.getAttribute('data-lexical-editor')) add(`${scope}${tag}[contenteditable='true'][data-lexical-editor='true']`);
    add(`${scope}${tag}[contenteditable='true']`);
  }
  const text = norm(el.textContent);
  const tw = text && text.length < 40 ? wordOf(text) : null;
  if (tw && key === 'popup_ok') {
    const host = el.closest('[data-animate-modal-popup]') ? "//div[@data-animate-modal-popup='true']" : "//div[@role='dialog']";
    add(`xpath:${host}//*[@role='button' or self::button][normalize-space()='${tw}']`);
  }
  if (tw && key === 'read_more') add(`xpath:.//*[@role='button'][normalize-space()='${tw}']`);
  if (key === 'qr_reload') add("xpath://button[contains(., '{Click to reload QR code}')]");
  if (key === 'invalid_popup') {
    if (el.hasAttribute('data-animate-modal-popup')) add("xpath://div[@data-animate-modal-popup='true'][contains(., '{invalid}')]");
    add("xpath://div[@role='dialog'][contains(., '{invalid}')]");
  }
  if (key === 'message_list') add(`#main ${tag}${role ? `[role='${role}']` : ''}`);
  if (key === 'logged_in' || key === 'chat_open' || key === 'booting') add(key === 'chat_open' ? '#main header' : tag);
  return out;
};

const result = {};
for (const key of KEYS) {
  for (const old of q(`[data-wa-doctor~="${key}"]`)) {
    const rest = (old.getAttribute('data-wa-doctor') || '').split(' ').filter((k) => k && k !== key);
    if (rest.length) old.setAttribute('data-wa-doctor', ' ' + rest.join(' ')); else old.removeAttribute('data-wa-doctor');
  }
}
for (const key of KEYS) {
  let targets = [];
  try { targets = (find[key] ? find[key]() : []).filter(Boolean); } catch (e) { targets = []; }
  for (const t of targets) t.setAttribute('data-wa-doctor', (t.getAttribute('data-wa-doctor') || '') + ' ' + key);
  result[key] = {targets: targets.length, visible: targets.some(vis),
                 candidates: targets.length ? propose(key, targets[0]) : []};
}
return result;
"""

# arguments[0]: {key: [resolved selectors]}. For each key and selector: how many elements
# match, whether one is visible, and whether the first match is the key's structural
# target (marked by FIND). Selectors in a key's list are tried in order, as the worker does.
TRY = r"""
const SETS = arguments[0];
const vis = (e) => !!(e && e.isConnected && (e.offsetParent !== null || e.getClientRects().length));
const one = (s) => {
  if (s.startsWith('xpath:')) {
    const r = document.evaluate(s.slice(6), document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from(document.querySelectorAll(s));
};
const out = {};
for (const [key, sels] of Object.entries(SETS)) {
  out[key] = sels.map((s) => {
    let els = [];
    try { els = one(s); } catch (e) { return {selector: s, error: String(e.message || e).slice(0, 120)}; }
    const mine = (e) => !!(e && (e.getAttribute && (e.getAttribute('data-wa-doctor') || '').split(' ').includes(key)) ||
      (e && e.querySelector && e.querySelector(`[data-wa-doctor~="${key}"]`)) ||
      (e && e.closest && e.closest(`[data-wa-doctor~="${key}"]`)));
    const first = els.find(vis) || els[0];
    return {selector: s, count: els.length, visible: els.some(vis), target: !!(first && mine(first))};
  });
}
return out;
"""

# The account's own number, as WhatsApp Web keeps it ("last-wid-md": "5511...:12@c.us").
OWN_NUMBER = r"""
try {
  const raw = localStorage.getItem('last-wid-md') || localStorage.getItem('last-wid') || '';
  const m = /(\d{7,15})/.exec(raw);
  return m ? '+' + m[1] : null;
} catch (e) { return null; }
"""
