"""The JavaScript the worker runs in WhatsApp Web's page (one round trip per look).

Every snippet receives the resolved selectors as arguments[0] (key -> ordered fallbacks,
"xpath:" prefix for XPath) and reads the page only through them, plus the structural
fallbacks named in docs/whatsapp-dom.md (an outgoing message is a row with a status icon).
"""

# F(key, root, visibleOnly): first element of the first fallback with a (visible) match.
# FA(key, root): all elements of the first fallback that matches any.
PRELUDE = r"""
const SEL = arguments[0];
const vis = (e) => !!(e && e.isConnected && (e.offsetParent !== null || e.getClientRects().length));
const one = (s, root) => {
  if (s.startsWith('xpath:')) {
    const r = document.evaluate(s.slice(6), root || document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from((root || document).querySelectorAll(s));
};
const FA = (key, root) => {
  for (const s of (SEL[key] || [])) { try { const l = one(s, root); if (l.length) return l; } catch (e) {} }
  return [];
};
const F = (key, root, visibleOnly) => {
  for (const s of (SEL[key] || [])) {
    try { for (const e of one(s, root)) { if (!visibleOnly || vis(e)) return e; } } catch (e) {}
  }
  return null;
};
// Text as a person copies it: an emoji image counts as its character, <br> and block
// boundaries as line breaks; the elements in `skip` (a "Read more" button) are left out.
const BLOCK = /^(DIV|P|LI|UL|OL|H[1-6]|BLOCKQUOTE|PRE)$/;
const richText = (root, skip) => {
  let out = '', pending = false;
  const flush = () => { if (pending) { out += '\n'; pending = false; } };
  const walk = (node) => {
    for (const c of node.childNodes) {
      if (c.nodeType === 3) { if (c.data) { flush(); out += c.data; } }
      else if (c.nodeName === 'IMG') {
        const alt = c.getAttribute('data-plain-text') || c.getAttribute('alt') || '';
        if (alt) { flush(); out += alt; }
      } else if (c.nodeName === 'BR') {
        flush();
        if (c.nextSibling || !(c.parentNode === root || BLOCK.test(c.parentNode.nodeName))) out += '\n';
      } else if (c.nodeType === 1 && !(skip && skip.has(c)) && c.nodeName !== 'SCRIPT' && c.nodeName !== 'STYLE') {
        const block = BLOCK.test(c.nodeName);
        if (block && out !== '') pending = true;
        walk(c);
        if (block) pending = true;
      }
    }
  };
  walk(root);
  return out;
};
const STATUS_ICON = (r) => !!(F('msg_pending', r) || F('msg_ack', r));
// Outgoing message rows: the configured key, else rows with a status icon (structural).
const outgoing = () => {
  const rows = FA('outgoing_message');
  if (rows.length) return {rows, structural: false};
  const s = FA('message_row').filter(STATUS_ICON);
  return {rows: s, structural: s.length > 0};
};
const rowId = (r) => {
  const e = (r.closest && r.closest('[data-id]')) || r.querySelector('[data-id]');
  return e ? e.getAttribute('data-id') : null;
};
// Media (a photo or video, not an emoji image) in a row.
const hasMedia = (r) => Array.from(r.querySelectorAll('img, video, canvas')).some(
  (m) => { const b = m.getBoundingClientRect(); return b.width >= 48 && b.height >= 32; });
"""

# Chrome's own error page ("This site can't be reached"): its code, or null.
NET_ERROR = r"""
const uri = document.documentURI || '';
const body = document.body;
if (!uri.startsWith('chrome-error://') && !(body && body.classList.contains('neterror'))) return null;
const code = document.querySelector('.error-code');
return (code && code.textContent.trim()) || 'the page could not be loaded';
"""

STATE = (
    PRELUDE
    + r"""
const qr = F('qr_code', null, true);
const chat = F('chat_open', null, true);
let title = null, titleNew = false;
if (chat) {
  title = chat.getAttribute('title') || chat.textContent || '';
  titleNew = !chat.hasAttribute('data-wa-sender-old');
}
return {
  booting: !!F('booting', null, true),
  qr: qr ? qr.getAttribute('data-ref') : null,
  qr_expired: !!F('qr_reload', null, true),
  logged_in: !!F('logged_in', null, true),
  phone_disconnected: !!F('phone_disconnected', null, true),
  offline: !!F('offline_banner', null, true),
  net_error: (document.documentURI || '').startsWith('chrome-error://') ||
             !!(document.body && document.body.classList.contains('neterror')),
  use_here: !!F('use_here_button', null, true),
  chat_title: title,
  chat_title_new: titleNew,
  compose: !!F('compose_box', null, true),
  invalid: !!F('invalid_popup', null, true),
  popup_ok: !!F('popup_ok', null, true),
  // Only an error shown after this chat was asked for counts (see MARK_BEFORE_OPEN).
  chat_error: FA('chat_error', null).some((e) => vis(e) && !e.hasAttribute('data-wa-sender-seen')),
};
"""
)

FIND = PRELUDE + "return F(arguments[1], null, arguments[2]);"

# Before a chat is asked for: an error toast still showing does not count, and the open
# chat's title is marked so that a new chat panel can be told from the old one (a saved
# contact's chat shows a name, not the number).
MARK_BEFORE_OPEN = (
    PRELUDE
    + r"""
for (const e of FA('chat_error', null)) e.setAttribute('data-wa-sender-seen', '1');
for (const e of FA('chat_open', null)) e.setAttribute('data-wa-sender-old', '1');
return true;
"""
)

OPEN_LINK = r"""
const a = document.createElement('a');
a.href = arguments[0];
a.rel = 'noopener';
a.textContent = 'chat';
a.style.position = 'fixed'; a.style.left = '-100px'; a.style.top = '0';
(document.body || document.documentElement).appendChild(a);
try { a.click(); } finally { a.remove(); }
return true;
"""

CLEAR_BOX = (
    PRELUDE
    + r"""
const box = F(arguments[1], null, true);
if (!box) return null;
box.focus();
const r = document.createRange(); r.selectNodeContents(box);
const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
if (richText(box) !== '') document.execCommand('delete', false);
return richText(box);
"""
)

INSERT = (
    PRELUDE
    + r"""
const box = F(arguments[1], null, true);
if (!box) return null;
if (document.activeElement !== box) box.focus();
// Always type at the end: an editor that redraws itself may have moved the caret.
const r = document.createRange(); r.selectNodeContents(box); r.collapse(false);
const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
if (arguments[2]) document.execCommand('insertText', false, arguments[2]);
return richText(box);
"""
)

BOX_TEXT = (
    PRELUDE
    + r"""
const box = F(arguments[1], null, true);
return box ? richText(box) : null;
"""
)

# The open chat as the worker needs it: outgoing rows (newest `limit`, 0 = all) with
# their text, time, ack and media; the times of the first rows of any kind (to know how
# far back the loaded history reaches); whether the chat's start is loaded.
CHAT = (
    PRELUDE
    + r"""
const expand = arguments[1], limit = arguments[2];
const {rows, structural} = outgoing();
const picked = limit ? rows.slice(-limit) : rows;
const moreButtons = new Set(FA('read_more', null));
let expanded = 0;
const out = [];
for (const r of picked) {
  const more = Array.from(moreButtons).filter((b) => r.contains(b) && vis(b));
  if (expand) for (const b of more) { b.click(); expanded++; }
  const t = F('message_text', r);
  const meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null);
  out.push({
    id: rowId(r),
    text: t ? richText(t, moreButtons) : null,
    full: richText(r, moreButtons),
    pre: meta ? meta.getAttribute('data-pre-plain-text') : null,
    media: hasMedia(r),
    ack: !!F('msg_ack', r),
    pending: !!F('msg_pending', r),
    more: more.length > 0,
  });
}
const all = FA('message_row');
const metas = all.map((r) => {
  const meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null);
  return meta ? meta.getAttribute('data-pre-plain-text') : null;
});
const box = F('compose_box', null, true);
return {
  rows: out, total: rows.length, structural, key_matched: !structural && rows.length > 0,
  any_rows: all.length, metas, start: !!F('chat_start', null, false), expanded,
  box: box ? richText(box) : null,
  logged_in: !!F('logged_in', null, true),
  qr: !!F('qr_code', null, true),
  phone_disconnected: !!F('phone_disconnected', null, true),
  offline: !!F('offline_banner', null, true),
};
"""
)

# Scroll the message list to its top, which makes the page load older messages.
SCROLL_TOP = (
    PRELUDE
    + r"""
const list = F('message_list', null, false);
if (!list) return false;
let s = list;
while (s && s !== document.body && !(s.scrollHeight > s.clientHeight + 1 &&
       /(auto|scroll)/.test(getComputedStyle(s).overflowY))) s = s.parentElement;
if (!s || s === document.body) s = list.parentElement || list;
s.scrollTop = 0;
s.dispatchEvent(new Event('scroll'));
return true;
"""
)

# The chat list's chats: the chat's name (its first span[title]), the preview of its
# newest message (the last span[title]) and its unread count (0: no badge).
CHAT_LIST = (
    PRELUDE
    + r"""
const items = FA('chat_list_item');
const chats = [];
for (const r of items) {
  const badge = F('unread_badge', r);
  const titles = Array.from(r.querySelectorAll('span[title]'));
  chats.push({
    title: titles.length ? titles[0].getAttribute('title') : null,
    preview: titles.length > 1 ? titles[titles.length - 1].getAttribute('title') : null,
    unread: badge ? (parseInt((badge.textContent || '').replace(/\D/g, ''), 10) || 1) : 0,
  });
}
const header = F('chat_open', null, true);
return {chats, rows: items.length,
        open_title: header ? (header.getAttribute('title') || header.textContent || '').trim() : null};
"""
)

# The open chat's incoming messages: rows that the incoming key matches, else rows with
# no status icon (ours always have one), each with whether it comes after our last
# outgoing row.
INCOMING = (
    PRELUDE
    + r"""
const all = FA('message_row');
const keyed = new Set(FA('incoming_message'));
const out = [];
let afterOurs = false;
for (const r of all) {
  const mine = STATUS_ICON(r);
  if (mine) { afterOurs = true; out.forEach((m) => { m.after_ours = false; }); continue; }
  const incoming = keyed.size ? Array.from(keyed).some((k) => r.contains(k) || k.contains(r)) : true;
  if (!incoming) continue;
  const t = F('message_text', r);
  const meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null);
  const doc = r.querySelector('[title$=".pdf"], [title$=".docx"], [title$=".xlsx"], [title$=".zip"]');
  out.push({
    id: rowId(r),
    text: t ? richText(t) : null,
    full: richText(r),
    pre: meta ? meta.getAttribute('data-pre-plain-text') : null,
    media: hasMedia(r),
    document: doc ? doc.getAttribute('title') : null,
    after_ours: afterOurs,
  });
}
return out;
"""
)
