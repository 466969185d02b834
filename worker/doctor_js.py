"""JavaScript of the selector doctor: find each key's element by meaning and structure
(never by the selector that broke), propose selectors for it, and try selectors live.

Meaning and structure are what survive WhatsApp's redesigns and the simulator's seeded
builds: the ids #main, #side and #pane-side, `header`/`footer` in #main, roles of dialogs
and text boxes, the words of the page in its language wherever they sit (aria-label,
title, placeholder, text), `data-pre-plain-text` (sender and time of a bubble), the QR's
`data-ref`, `contenteditable`, file inputs by `accept`, and our own rows as page_js reads
them (sender "You" or our name, a status label). Candidates are then built from what the
target elements carry in this build (icon names, labels, roles, classes), each with why.
"""

from .page_js import PRELUDE

# arguments[0]: selectors with __meaning; arguments[1]: the page's words {English: on the
# page}; arguments[2]: key names. Returns {key: {"targets": n, "visible": bool,
# "candidates": [{"selector", "why", "rank"}...]}} and marks each key's target elements with
# data-wa-doctor="KEY" for the live check.
FIND = (
    PRELUDE
    + r"""
const WORDS = arguments[1], KEYS = arguments[2], SEEN = arguments[3] || {icons: {}};
// Keys read inside one row: their selectors must be relative to it (an XPath starts with ".").
const IN_ROW = new Set(['msg_ack', 'msg_pending', 'message_text', 'message_meta', 'read_more', 'unread_badge']);
const wordOf = (text) => {
  for (const [en, local] of Object.entries(WORDS)) if (norm(local) === norm(text)) return '{' + en + '}';
  for (const en of Object.keys(WORDS)) if (norm(en) === norm(text)) return '{' + en + '}';
  return null;
};
const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
const xq = (v) => (String(v).includes("'") ? `"${v}"` : `'${v}'`);
const footer = () => document.querySelector('#main footer');
const inFooter = (e) => !!(footer() && footer().contains(e));
const clickable = (e) => e.matches('button, [role="button"], [role="link"], a') || e.tabIndex >= 0 ||
  getComputedStyle(e).cursor === 'pointer';
const clickables = (root) => q('button, [role="button"], [tabindex], [aria-label], [title]', root)
  .filter((e) => vis(e) && clickable(e));
const labelIs = (e, word) => !!word && norm(labelOf(e)) === norm(word);
const iconOf = (e) => (e.matches('[data-icon]') ? e : (e.querySelector('[data-icon]') || e.closest('[data-icon]')));
const iconName = (e) => { const i = iconOf(e); return i ? i.getAttribute('data-icon') : ''; };
const ROWS = meaningRows();
const own = ROWS.filter((m) => m.own === true);
const theirs = ROWS.filter((m) => m.own === false);
const statusEls = (status) => own.filter((m) => m.status === status).map((m) => m.statusEl);
// The status element as a selector can hold it: an icon element inside it, or itself.
const statusTargets = (status) => statusEls(status).map((e) => iconOf(e) || e);
const dialogs = () => q('[role="dialog"], [data-animate-modal-popup]').filter(vis);
const buttonsIn = (root) => q('button, [role="button"]', root).filter(vis);

const find = {
  booting: () => [document.querySelector('#startup') || document.querySelector('progress')],
  qr_code: () => q('canvas').map((c) => c.closest('[data-ref]')).filter(Boolean).slice(0, 1),
  qr_reload: () => q('[data-ref]').flatMap((r) => q('button', r.parentElement || r)).filter(vis).slice(0, 1),
  logged_in: () => [document.querySelector('#pane-side') || document.querySelector('#side')],
  chat_open: () => {
    const h = document.querySelector('#main header');
    if (!h) return [];
    const t = q('[title]', h).find((e) => (e.getAttribute('title') || '').trim());
    return [t || h];
  },
  compose_box: () => (footer() ? q('[contenteditable="true"]', footer()).filter(vis).slice(0, 1) : []),
  send_button: () => (footer() ? clickables(footer()).filter((e) => labelIs(e, WORDS['Send']) ||
      labelIs(e, 'Send')).slice(0, 1) : []),
  attach_button: () => (footer() ? clickables(footer()).filter((e) => labelIs(e, WORDS['Attach']) ||
      labelIs(e, 'Attach')).slice(0, 1) : []),
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
      (labelIs(e, WORDS['Send']) || labelIs(e, 'Send'))).slice(0, 1),
  invalid_popup: () => dialogs().filter((d) => norm(d.textContent).includes(norm(WORDS['invalid']))).slice(-1),
  popup_ok: () => dialogs().flatMap(buttonsIn).filter((b) => norm(b.textContent) === norm(WORDS['OK'])).slice(0, 1),
  // Every item of the message list, the encryption notice and date dividers too.
  message_row: () => { const l = messageList(); return l ? Array.from(l.children).filter((r) => vis(r)) : []; },
  outgoing_message: () => own.map((m) => m.el),
  incoming_message: () => theirs.map((m) => m.el),
  message_text: () => own.map((m) => m.preEl).filter(Boolean),
  message_meta: () => own.map((m) => m.preEl).filter(Boolean),
  msg_ack: () => statusTargets('ack'),
  msg_pending: () => statusTargets('pending'),
  read_more: () => (mainEl() ? q('[role="button"], button', mainEl()).filter((b) =>
      norm(b.textContent) === norm(WORDS['Read more'])) : []),
  message_list: () => { const l = messageList(); return l ? [l] : []; },
  chat_start: () => {
    // The encryption notice above the first message: its row in the message list.
    const list = messageList();
    const w = norm(WORDS['end-to-end encrypted']);
    const text = mainEl() ? q('*', mainEl()).find((e) => e.children.length === 0 && norm(e.textContent).includes(w) &&
      !e.closest('[data-pre-plain-text]')) : null;
    if (!text) return [];
    let row = text;
    while (list && row.parentElement && row.parentElement !== list) row = row.parentElement;
    return [list && row.parentElement === list ? row : text];
  },
  chat_list_item: () => chatRows(),
  unread_badge: () => {
    const side = document.querySelector('#pane-side');
    const w = norm(WORDS['unread']);
    return side ? q('[aria-label], [title]', side).filter((e) => norm(labelOf(e)).includes(w)) : [];
  },
};

// ---- candidates -------------------------------------------------------------------
const VOLATILE = /^(style|class|id|href|src|alt|tabindex|data-wa-|data-id$|data-msgid|data-pre-plain-text|title$|aria-label$)/;
const scopeOf = (el) => (inFooter(el) ? '#main footer ' : (el.closest('#main') ? '#main ' :
  (el.closest('#pane-side') ? '#pane-side ' : (el.closest('#side') ? '#side ' : ''))));
const common = (els, f) => {
  const sets = els.map((e) => new Set(f(e)));
  return sets.length ? [...sets[0]].filter((v) => sets.every((s) => s.has(v))) : [];
};
const attrsOf = (e) => Array.from(e.attributes).filter((a) => !VOLATILE.test(a.name) && a.value.length <= 80 &&
  !/^[0-9A-F]{12,}$/i.test(a.value)).map((a) => `${a.name}=${a.value}`);
const labelSel = (tag, label, where) => {
  // A label as a page word (follows [browser] language), in aria-label or title.
  const w = wordOf(label);
  if (!w) return [];
  const t = tag || '*';
  return [
    {selector: `xpath:${where}//${t}[normalize-space(@aria-label)='${w}']`, why: `its label ${JSON.stringify(label.trim())} (aria-label) in the page's language`, rank: 1},
    {selector: `xpath:${where}//${t}[normalize-space(@title)='${w}']`, why: `its label ${JSON.stringify(label.trim())} (title) in the page's language`, rank: 1},
  ];
};
const XSCOPE = {'#main footer ': "//*[@id='main']//footer", '#main ': "//*[@id='main']", '#pane-side ': "//*[@id='pane-side']",
                '#side ': "//*[@id='side']", '': ''};
const propose = (key, els) => {
  const out = [];
  const add = (c) => { if (c && c.selector && !out.some((o) => o.selector === c.selector)) out.push(c); };
  const el = els[0];
  const tag = el.tagName.toLowerCase();
  const scope = IN_ROW.has(key) ? '' : scopeOf(el);
  // What every target carries: attributes (labels as words), classes, icon names.
  for (const a of common(els, attrsOf)) {
    const [name, ...rest] = a.split('=');
    const value = rest.join('=');
    const w = (name === 'aria-placeholder' || name === 'data-placeholder') ? wordOf(value) : null;
    const shown = w || esc(value);
    if (name === 'data-icon') add({selector: `${scope}${tag}[data-icon='${esc(value)}']`, why: `the icon it shows here (${value})`, rank: 2});
    else add({selector: `${scope}${tag}[${name}='${shown}']`, why: `its ${name} "${value}"${w ? ' (a page word)' : ''}`, rank: w ? 1 : 3});
  }
  for (const l of common(els, (e) => [labelOf(e)]).filter(Boolean)) {
    labelSel(tag, l, IN_ROW.has(key) ? '.' : (XSCOPE[scope] || '')).forEach(add);
  }
  // A status of ours: every label it may show in this state (Sent, Delivered and Read are all a tick).
  if (key === 'msg_ack' || key === 'msg_pending') {
    const words = key === 'msg_ack' ? ['Sent', 'Delivered', 'Read'] : ['Pending'];
    const any = words.map((w) => `normalize-space(@aria-label)='{${w}}' or normalize-space(@title)='{${w}}'`).join(' or ');
    add({selector: `xpath:.//*[${any}]`, why: `a status element labelled ${words.join(' / ')} in the page's language`, rank: 1});
    for (const n of (SEEN.icons[key] || [])) add({selector: `[data-icon='${esc(n)}']`, why: `the icon our probe's bubble showed while it read ${words.join(' / ')} (${n})`, rank: 2});
  }
  const icons = common(els, (e) => [iconName(e)]).filter(Boolean);
  for (const i of icons) if (iconOf(el) !== el) add({selector: `${scope}${tag}:has([data-icon='${esc(i)}'])`, why: `holds the icon ${i}`, rank: 2});
  for (const c of common(els, (e) => Array.from(e.classList))) add({selector: `${scope}${tag}.${CSS.escape(c)}`, why: `its class ${c} (this build's)`, rank: 4});
  const role = common(els, (e) => [e.getAttribute('role')]).filter(Boolean)[0];
  if (role) add({selector: `${scope}${tag}[role='${role}']`, why: `its role ${role}`, rank: 3});
  if (el.getAttribute('contenteditable') === 'true') add({selector: `${scope}${tag}[contenteditable='true']`, why: 'the editable box in its place', rank: 2});
  if (tag === 'input') add({selector: `input[type='file'][accept='${esc(el.getAttribute('accept') || '*')}']`, why: 'a file input by what it accepts', rank: 1});
  if (key === 'message_text' || key === 'message_meta') {
    add({selector: '[data-pre-plain-text]', why: "the element that carries the bubble's sender and time (the text a copy gives)", rank: 0});
  }
  // Keys that a word on the page defines: the word first, in the page's language.
  const dialog = "//*[@role='dialog' or @data-animate-modal-popup]";
  const said = {
    invalid_popup: [`xpath:${dialog}[contains(., '{invalid}')]`, 'a dialog that says the number is {invalid}'],
    popup_ok: [`xpath:${dialog}//*[self::button or @role='button'][normalize-space()='{OK}']`, 'the {OK} button of the dialog'],
    use_here_button: [`xpath:${dialog}//*[self::button or @role='button'][normalize-space()='{Use here}']`, 'the {Use here} button'],
    read_more: ["xpath:.//*[@role='button' or self::button][normalize-space()='{Read more}']", 'a button that says {Read more}'],
    qr_reload: ["xpath://*[@data-ref]/ancestor::*[2]//button", 'the button beside the QR code'],
    chat_start: ["xpath://*[@id='main']//*[not(ancestor-or-self::*[@data-pre-plain-text])][contains(text(), '{end-to-end encrypted}')]",
                 'the {end-to-end encrypted} notice above the first message'],
  }[key];
  // A key a word defines takes nothing but that word: a dialog is not "invalid" by its looks.
  if (said) return [{selector: said[0], why: said[1].replace(/[{}]/g, '"'), rank: 0}];
  return out;
};
// A short selector for one element by what it carries (role, data-*, class), else by its
// place under its parent's: the message list is found this way for the row keys.
const selOf = (el, depth) => {
  if (!el || el.id) return el && el.id ? `#${CSS.escape(el.id)}` : null;
  const tag = el.tagName.toLowerCase();
  const role = el.getAttribute('role');
  if (role) return `${scopeOf(el)}${tag}[role='${role}']`;
  const attr = attrsOf(el).find((a) => a.startsWith('data-') && !a.startsWith('data-wa'));
  if (attr) { const [n, ...v] = attr.split('='); return `${scopeOf(el)}${tag}[${n}='${esc(v.join('='))}']`; }
  if (el.classList.length) return `${scopeOf(el)}${tag}.${CSS.escape(el.classList[0])}`;
  if ((depth || 0) < 3 && el.parentElement) { const up = selOf(el.parentElement, (depth || 0) + 1); if (up) return `${up} > ${tag}`; }
  return null;
};
// Rows: what our rows carry that a contact's do not (their status element).
const proposeRows = (key, els) => {
  const out = propose(key, els);
  if (key !== 'outgoing_message' && key !== 'message_row' && key !== 'incoming_message') return out;
  const list = messageList();
  const listSel = list ? selOf(list) : null;
  const tag = els[0].tagName.toLowerCase();
  const rowBase = out.filter((c) => c.rank >= 3 && !c.selector.startsWith('xpath:') && !c.selector.includes(':has('))
    .map((c) => c.selector);
  // Under the list, its items: a row needs no mark of its own to be found there.
  const base = [...rowBase, ...(listSel ? [`${listSel} > ${tag}`] : [])];
  if (key === 'message_row') {
    if (listSel) out.unshift({selector: `${listSel} > *`, why: 'the items of the message list', rank: 2});
    return out;
  }
  const names = [...new Set([...own.map((m) => m.statusEl && iconName(m.statusEl)).filter(Boolean),
                             ...(SEEN.icons.msg_pending || []), ...(SEEN.icons.msg_ack || [])])];
  const labels = ['Pending', 'Sent', 'Delivered', 'Read'].map((w) => `[aria-label~='{${w}}'], [title~='{${w}}']`).join(', ');
  const extra = [];
  for (const b of base.slice(0, 4)) {
    if (key === 'incoming_message') {
      extra.push({selector: `${b}:not(:has(${labels})):has([data-pre-plain-text])`,
        why: 'a row with a sender and time but no status element (only ours carry one)', rank: 2});
      continue;
    }
    extra.push({selector: `${b}:has(${labels})`, why: 'a row that holds a status element labelled Pending / Sent / Delivered / Read', rank: 1});
    if (names.length) extra.push({selector: `${b}:has(${names.map((n) => `[data-icon='${esc(n)}']`).join(', ')})`,
      why: `a row that holds one of our status icons (${names.join(', ')})`, rank: 2});
  }
  return [...extra, ...out];
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
  let candidates = [];
  try { candidates = targets.length ? proposeRows(key, targets) : []; } catch (e) { candidates = []; }
  result[key] = {targets: targets.length, visible: targets.some(vis), candidates};
}
result.__rows = {all: ROWS.length, own: own.length, theirs: theirs.length,
                 unclassified: ROWS.filter((m) => m.own === null).length};
return result;
"""
)

# arguments[0]: {key: [resolved selectors]}. For each key and selector: how many elements
# match, whether one is visible, how many of the key's targets (marked by FIND) it covers
# and how many other elements it matches. Selectors in a key's list are tried in order.
TRY = r"""
const SETS = arguments[0];
// Keys whose element may be matched by one around it (a banner, the list, a title); for the
// others only the element or one inside it will do (a click on a row around a button, or a
// "row" around several rows, is wrong).
const AROUND = new Set(arguments[1] || []);
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
  const targets = Array.from(document.querySelectorAll(`[data-wa-doctor~="${key}"]`));
  const isTarget = (e) => targets.some((t) => t === e || t.contains(e) || (AROUND.has(key) && e.contains(t)));
  out[key] = sels.map((s) => {
    let els = [];
    try { els = one(s); } catch (e) { return {selector: s, error: String(e.message || e).slice(0, 120)}; }
    const first = els.find(vis) || els[0];
    const covered = targets.filter((t) => els.some((e) => e === t || t.contains(e) || (AROUND.has(key) && e.contains(t)))).length;
    return {selector: s, count: els.length, visible: els.some(vis), target: !!(first && isTarget(first)),
            covered, stray: els.filter((e) => !isTarget(e)).length, targets: targets.length,
            stray_visible: els.filter((e) => vis(e) && !isTarget(e)).length};
  });
}
return out;
"""

# arguments[0]: {key: [resolved selectors]}: how many of the key's targets the list covers
# when every selector counts (keys read inside one row try each fallback in turn there).
TRY_LIST = r"""
const SETS = arguments[0];
const one = (s) => {
  if (s.startsWith('xpath:')) {
    const r = document.evaluate(s.slice(6), document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from(document.querySelectorAll(s));
};
const out = {};
for (const [key, sels] of Object.entries(SETS)) {
  const targets = Array.from(document.querySelectorAll(`[data-wa-doctor~="${key}"]`));
  const els = [];
  for (const s of sels) { try { els.push(...one(s)); } catch (e) { /* a bad selector matches nothing */ } }
  const covered = targets.filter((t) => els.some((e) => e === t || t.contains(e) || e.contains(t))).length;
  out[key] = {count: els.length, covered, targets: targets.length};
}
return out;
"""

# The account's own profile name ("pushname"), as WhatsApp Web keeps its contacts in
# IndexedDB ("model-storage", store "contact", the record whose id is its own number).
# Asynchronous (execute_async_script): arguments[0] the own number's digits.
OWN_NAME = r"""
const done = arguments[arguments.length - 1];
const digits = arguments[0];
(async () => {
  try {
    const dbs = indexedDB.databases ? await indexedDB.databases() : [];
    if (!dbs.some((d) => d.name === 'model-storage')) return null;
    const db = await new Promise((ok, no) => { const r = indexedDB.open('model-storage'); r.onsuccess = () => ok(r.result);
                                                r.onerror = () => no(r.error); });
    try {
      if (!db.objectStoreNames.contains('contact')) return null;
      const all = await new Promise((ok, no) => { const g = db.transaction('contact', 'readonly').objectStore('contact').getAll();
                                                  g.onsuccess = () => ok(g.result || []); g.onerror = () => no(g.error); });
      const me = all.find((c) => String((c && c.id && (c.id._serialized || c.id)) || '').startsWith(digits + '@'));
      return me ? (me.pushname || me.name || null) : null;
    } finally { db.close(); }
  } catch (e) { return null; }
})().then(done, () => done(null));
"""

# The account's own number, as WhatsApp Web keeps it ("last-wid-md": "5511...:12@c.us").
OWN_NUMBER = r"""
try {
  const raw = localStorage.getItem('last-wid-md') || localStorage.getItem('last-wid') || '';
  const m = /(\d{7,15})/.exec(raw);
  return m ? '+' + m[1] : null;
} catch (e) { return null; }
"""
