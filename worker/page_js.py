"""The JavaScript the worker runs in WhatsApp Web's page (one round trip per look).

Every snippet receives the resolved selectors as arguments[0] (key -> ordered fallbacks,
"xpath:" prefix for XPath), and under the key `__meaning` the words that give the page its
meaning: the word for "You" and the account's own profile name (the sender of our own
bubbles), and the status labels (" Pending ", " Sent ", " Delivered ", " Read ") in the
page's language and in English.

Configured selectors come first. When a key matches nothing where the page plainly has
the thing, the page is read **by meaning** instead (docs/whatsapp-dom.md, "Reading by
meaning"), and the key is reported in `failed` so the worker counts it, stops the line
when it keeps failing, and repairs it:

- message rows are the items of the chat's scrolling message list that hold a message's
  marks: a `data-pre-plain-text` (sender and time) or a status element;
- a row is ours when its status element's label is a status word (only our own messages
  carry one) or its sender is "You" / our own name; a contact's when it names another
  sender and has no status; a row whose signals disagree is unclassifiable (null);
- a row's status is its status element's label: Pending → the clock, Sent / Delivered /
  Read → a tick.
"""

# F(key, root, visibleOnly): first element of the first fallback with a (visible) match.
# FA(key, root): all elements of the first fallback that matches any.
PRELUDE = r"""
const SEL = arguments[0];
const MEANING = SEL.__meaning || {you: ['You'], pending: ['Pending'], ack: ['Sent', 'Delivered', 'Read'],
                                  unread: ['unread']};
const vis = (e) => !!(e && e.isConnected && (e.offsetParent !== null || e.getClientRects().length));
const q = (s, root) => Array.from((root || document).querySelectorAll(s));
const one = (s, root) => {
  if (s.startsWith('xpath:')) {
    const r = document.evaluate(s.slice(6), root || document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return q(s, root);
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
// ---- reading by meaning ------------------------------------------------------------
const norm = (t) => String(t || '').normalize('NFC').replace(/[\s\u00a0\u202f]+/g, ' ').trim().toLowerCase();
const YOU = new Set(MEANING.you.map(norm));
const STATUS = new Map();
MEANING.pending.forEach((w) => STATUS.set(norm(w), 'pending'));
MEANING.ack.forEach((w) => STATUS.set(norm(w), 'ack'));
(MEANING.failed || []).forEach((w) => STATUS.set(norm(w), 'failed'));  // WhatsApp refused it
const labelOf = (e) => e.getAttribute('aria-label') || e.getAttribute('title') || '';
const statusOf = (e) => STATUS.get(norm(labelOf(e))) || null;
// The sender in "[2:05 PM, 11/30/2026] You: ".
const senderOf = (pre) => {
  if (pre === null || pre === undefined) return null;
  const s = String(pre).split(']').slice(1).join(']').trim().replace(/:$/, '').trim();
  return s || null;
};
const mainEl = () => document.querySelector('#main');
// The chat's scrolling message list: climbing from any message mark (a sender-and-time
// attribute, a status label) to the first element that scrolls.
const scroller = (root) => {
  if (!root) return null;
  const mark = root.querySelector('[data-pre-plain-text]') ||
    q('[aria-label], [title]', root).find((e) => statusOf(e) && !e.closest('header, footer'));
  for (let e = mark ? mark.parentElement : null; e && e !== root; e = e.parentElement) {
    const oy = getComputedStyle(e).overflowY;
    if (oy === 'auto' || oy === 'scroll') return e;
  }
  return null;
};
// The element whose children are the chat's message rows: the scroller, followed down
// through wrappers (a single child that still holds several messages).
const marks = (e) => Math.max(e.querySelectorAll('[data-pre-plain-text]').length,
                              q('[aria-label], [title]', e).filter(statusOf).length);
// A wrapper is the list when it holds several messages, or a message beside a row with
// none (a date divider, the encryption notice); a single message's own row is not.
const isList = (c) => marks(c) >= 2 || (c.children.length >= 2 &&
  Array.from(c.children).some((x) => marks(x) > 0) && Array.from(c.children).some((x) => marks(x) === 0));
const messageList = () => {
  let l = scroller(mainEl());
  while (l && l.children.length === 1 && isList(l.firstElementChild)) l = l.firstElementChild;
  return l;
};
// A photo or video (not an emoji image) in an element.
const hasMedia = (r) => q('img, video, canvas', r).some(
  (m) => { const b = m.getBoundingClientRect(); return b.width >= 48 && b.height >= 32; });
const sideOf = (row, mark) => {
  const rb = row.getBoundingClientRect();
  if (!rb.width || !mark) return null;
  let b = mark;
  while (b.parentElement && b.parentElement !== row && b.parentElement.getBoundingClientRect().width < rb.width - 24) {
    b = b.parentElement;
  }
  const bb = b.getBoundingClientRect();
  const left = bb.left - rb.left, right = rb.right - bb.right;
  if (Math.abs(left - right) < 24) return null;
  return left > right ? 'right' : 'left';
};
// Every message row of the open chat, read by meaning (configured selectors play no part).
const meaningRows = () => {
  const list = messageList();
  if (!list) return [];
  const out = [];
  for (const row of Array.from(list.children)) {
    const preEl = row.matches('[data-pre-plain-text]') ? row : row.querySelector('[data-pre-plain-text]');
    const statusEl = [row, ...q('[aria-label], [title]', row)].find((e) => e.nodeType === 1 && statusOf(e)) || null;
    const media = hasMedia(row);
    if (!preEl && !statusEl && !media) continue;  // a date divider, the encryption notice
    const pre = preEl ? preEl.getAttribute('data-pre-plain-text') : null;
    const sender = senderOf(pre);
    const side = sideOf(row, preEl || statusEl || row.querySelector('img, video, canvas'));
    let own = null;
    if (statusEl && (sender === null || YOU.has(norm(sender)))) own = true;
    else if (statusEl) own = null;                   // a status, yet another sender: signals disagree
    else if (sender !== null) own = YOU.has(norm(sender)) ? true : false;
    else if (side) own = side === 'right' ? null : false;  // media without text: only its side
    out.push({el: row, preEl, pre, sender, statusEl, status: statusEl ? statusOf(statusEl) : null, own, side, media});
  }
  return out;
};
// The chat list's rows: the outermost elements of #pane-side a person clicks (their
// pointer cursor survives any renaming), else the items of its list.
const chatRows = () => {
  const side = document.querySelector('#pane-side');
  if (!side) return [];
  const out = [];
  const walk = (e) => {
    for (const c of e.children) {
      if (getComputedStyle(c).cursor === 'pointer' && (c.textContent || '').trim()) out.push(c);
      else walk(c);
    }
  };
  walk(side);
  if (out.length) return out;
  let l = side;
  while (l && l.children.length === 1 && l.firstElementChild.children.length === 1) l = l.firstElementChild;
  return l ? Array.from(l.children).filter((r) => (r.textContent || '').trim() !== '') : [];
};
// WhatsApp's limits (docs/whatsapp-dom.md, "Account limits"). The notice an open chat
// shows where its compose box was: the footer's text when it holds no editable box.
const footerNotice = () => {
  const foot = document.querySelector('#main footer');
  if (!foot || foot.querySelector('[contenteditable="true"]') || F('compose_box', null, true)) return null;
  const t = (foot.innerText || foot.textContent || '').trim();
  return t ? t.slice(0, 400) : null;
};
// Texts outside the chats that carry a limit's words (SEL.__limits): the chat list's
// banners, the ban screen. Never inside #pane-side or #main, where contacts' words are.
const limitTexts = () => {
  const words = (SEL.__limits || []).map(norm).filter((w) => w);
  if (!words.length) return [];
  const side = document.querySelector('#side');
  const root = side || (document.querySelector('#main') ? null : (document.querySelector('#app') || document.body));
  if (!root) return [];
  const out = [];
  const skip = (e) => e.id === 'pane-side' || e.id === 'main';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.nodeType === 1 && skip(n)) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  for (let n = walker.nextNode(); n && out.length < 8; n = walker.nextNode()) {
    if (n.nodeType !== 3) continue;
    const t = norm(n.data).replace(/[\u2018\u2019]/g, "'");
    if (!words.some((w) => t.includes(w))) continue;
    // The whole notice (a title and its end time): up while the parent stays a short text
    // that holds no chat list.
    let box = n.parentElement;
    while (box.parentElement && box.parentElement !== root && !box.parentElement.querySelector('#pane-side, #main') &&
           (box.parentElement.textContent || '').length <= 400) box = box.parentElement;
    const text = (box.innerText || box.textContent || '').trim().slice(0, 400);
    if (text && !out.includes(text)) out.push(text);
  }
  return out;
};
const rowId = (r) => {
  const e = (r.closest && r.closest('[data-id]')) || r.querySelector('[data-id]');
  return e ? e.getAttribute('data-id') : null;
};
"""

# Chrome's own error page ("This site can't be reached"): its code, or null.
NET_ERROR = r"""
const uri = document.documentURI || '';
const body = document.body;
if (!uri.startsWith('chrome-error://') && !(body && body.classList.contains('neterror'))) return null;
const code = document.querySelector('.error-code');
return (code && code.textContent.trim()) || 'the page could not be loaded';
"""

# The page as the worker reads it at each step: session, chat, popups (`look()`).
_LOOK = r"""
const look = () => {
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
    notice: footerNotice(),
  };
};
"""
STATE = PRELUDE + _LOOK + "return look();"

# Asynchronous: wait in the page until the open chat changes (a bubble, its tick), at most
# arguments[0] ms; true when something changed. A MutationObserver is not seen by the page,
# and one round trip replaces a poll every few milliseconds. The chat panel is `#main` on
# every WhatsApp Web build the maintained clients know; without it, the whole document.
WAIT_CHANGE = r"""
const done = arguments[arguments.length - 1];
const where = document.querySelector('#main') || document;
let timer = null;
const seen = new MutationObserver(() => {
  seen.disconnect();
  clearTimeout(timer);
  setTimeout(() => done(true), 5);  // the rest of the same redraw comes with it
});
seen.observe(where, {subtree: true, childList: true, attributes: true, characterData: true});
timer = setTimeout(() => { seen.disconnect(); done(false); }, arguments[0]);
"""

# The texts that carry a limit outside the chats, and the open chat's notice.
LIMITS = PRELUDE + "return {texts: limitTexts(), notice: footerNotice(), side: !!document.querySelector('#side')};"

FIND = PRELUDE + "return F(arguments[1], null, arguments[2]);"

# Before a chat is asked for: an error toast still showing does not count, and the open
# chat's title is marked so that a new chat panel can be told from the old one (a saved
# contact's chat shows a name, not the number).
_MARK = r"""
for (const e of FA('chat_error', null)) e.setAttribute('data-wa-sender-seen', '1');
for (const e of FA('chat_open', null)) e.setAttribute('data-wa-sender-old', '1');
"""
MARK_BEFORE_OPEN = PRELUDE + _MARK + "return true;"

# The document's mark (WhatsAppPage.load): a reload replaces `window` and the mark with it.
MARK_DOCUMENT = "window.__waSenderDocument = arguments[0];"
SAME_DOCUMENT = "return window.__waSenderDocument === arguments[0];"

# A wa.me link clicked in the page: WhatsApp Web opens the chat in the app (in-app
# navigation, no page load). The link is LINK.
_CLICK_LINK = r"""
const a = document.createElement('a');
a.href = LINK;
a.rel = 'noopener';
a.textContent = 'chat';
a.style.position = 'fixed'; a.style.left = '-100px'; a.style.top = '0';
(document.body || document.documentElement).appendChild(a);
try { a.click(); } finally { a.remove(); }
"""
OPEN_LINK = "const LINK = arguments[0];" + _CLICK_LINK + "return true;"

# Asynchronous: MARK_BEFORE_OPEN, the link of arguments[1], then STATE once the page has
# changed (the chat drawn, a popup) and settled, or after arguments[2] ms: the first look
# at the opening chat comes with the click instead of one or two round trips later.
OPEN_LINK_AND_LOOK = (
    PRELUDE
    + _MARK
    + _LOOK
    + r"""
const done = arguments[arguments.length - 1];
const LINK = arguments[1];
let timer = null, settle = null, finished = false;
const finish = () => {
  if (finished) return;  // the settle and the cap can both come due
  finished = true;
  seen.disconnect(); clearTimeout(timer); clearTimeout(settle);
  done(look());
};
// Our own link going in and out of the page is no change of the page.
const ours = (r) => r.type === 'childList' &&
  [...r.addedNodes, ...r.removedNodes].every((n) => n.nodeName === 'A' && n.getAttribute('href') === LINK);
const seen = new MutationObserver((records) => {
  if (settle === null && !records.every(ours)) settle = setTimeout(finish, 10);  // the rest of the redraw
});
seen.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
timer = setTimeout(finish, arguments[2]);
"""
    + _CLICK_LINK
)

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

# Whether the box's footer shows the preview of a link to arguments[2] (a host): WhatsApp
# draws it above the box with the site's name and host. Read by meaning (an element of the
# footer, outside the box, whose own text holds the host), so no selector can go stale.
LINK_PREVIEW = (
    PRELUDE
    + r"""
const box = F(arguments[1], null, true);
if (!box) return null;
const footer = box.closest('footer') || document.querySelector('#main footer');
if (!footer) return null;
const host = arguments[2];
for (const e of footer.querySelectorAll('*')) {
  if (e === box || box.contains(e) || e.contains(box) || !vis(e)) continue;
  const own = Array.from(e.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data).join('');
  if (own.toLowerCase().includes(host)) return true;
}
return false;
"""
)

BOX_TEXT = (
    PRELUDE
    + r"""
const box = F(arguments[1], null, true);
return box ? richText(box) : null;
"""
)

# The open chat as the worker needs it: our rows (newest `limit`, 0 = all) with their
# text, time, status and media, found by the configured keys or else by meaning; the times
# of the first rows of any kind (how far back the loaded history reaches); whether the
# chat's start is loaded; `failed`: the keys that matched nothing where the page plainly
# has the thing, with what was seen.
CHAT = (
    PRELUDE
    + r"""
const expand = arguments[1], limit = arguments[2], control = arguments[3];
const failed = {};
const meaning = meaningRows();
const ownByMeaning = meaning.filter((m) => m.own === true);
const byEl = new Map(meaning.map((m) => [m.el, m]));
const meaningOf = (r) => byEl.get(r) || meaning.find((m) => m.el.contains(r) || r.contains(m.el)) || null;
const keyedRows = FA('message_row');
if (!keyedRows.length && meaning.length) {
  failed.message_row = `no configured selector matched the ${meaning.length} message row(s) of the open chat`;
}
// Our rows: the configured key first; by meaning when it misses rows that are plainly ours.
let rows = FA('outgoing_message');
let source = 'key';
const missed = ownByMeaning.filter((m) => !rows.some((r) => r.contains(m.el) || m.el.contains(r)));
if (missed.length) {
  failed.outgoing_message = rows.length
    ? `the configured selectors matched ${rows.length} of our ${ownByMeaning.length} bubble(s) (found by their sender and status labels)`
    : `no configured selector matched our ${ownByMeaning.length} bubble(s) (found by their sender and status labels)`;
  rows = meaning.filter((m) => m.own !== false).map((m) => m.el);
  source = 'meaning';
}
const picked = limit ? rows.slice(-limit) : rows;
const moreButtons = new Set(FA('read_more', null));
let expanded = 0;
const out = [];
const statusMiss = [];
for (const r of picked) {
  const m = meaningOf(r);
  const more = Array.from(moreButtons).filter((b) => r.contains(b) && vis(b));
  if (expand) for (const b of more) { b.click(); expanded++; }
  let t = F('message_text', r);
  if (!t && m && m.preEl && richText(m.preEl, moreButtons).trim()) {
    failed.message_text = failed.message_text || 'no configured selector matched the text of a bubble that has one';
    t = m.preEl;
  }
  let meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null);
  if (!meta && m && m.preEl) {
    failed.message_meta = failed.message_meta || 'no configured selector matched a bubble\'s data-pre-plain-text';
    meta = m.preEl;
  }
  // The configured icons first; the status element's label says what they must say.
  const keyAck = !!F('msg_ack', r), keyPending = !!F('msg_pending', r);
  const label = m ? m.status : null;
  let ack, pending, refused = false;
  if (label) {
    if (label === 'ack' && !keyAck) { statusMiss.push(['msg_ack', labelOf(m.statusEl)]); }
    if (label === 'pending' && !keyPending) { statusMiss.push(['msg_pending', labelOf(m.statusEl)]); }
    if (label === 'pending' && keyAck) { failed.msg_ack = failed.msg_ack || `msg_ack matches a bubble whose status reads ${JSON.stringify(labelOf(m.statusEl))}`; }
    ack = label === 'ack';          // a tick only when its label says so
    pending = label === 'pending';
    refused = label === 'failed';   // the failure mark: WhatsApp did not send it
  } else if (keyAck || keyPending) {
    ack = keyAck && !keyPending;
    pending = keyPending;
  } else {
    ack = null;   // no status can be read: neither sent nor pending, unknown
    pending = false;
  }
  out.push({
    id: rowId(r),
    text: t ? richText(t, moreButtons) : null,
    full: richText(r, moreButtons),
    pre: meta ? meta.getAttribute('data-pre-plain-text') : null,
    media: hasMedia(r),
    ack, pending, refused,
    more: more.length > 0,
    own: m ? m.own : (source === 'key' ? true : null),
  });
}
for (const [key, label] of statusMiss) {
  failed[key] = failed[key] || `our bubble is there; its status element (label ${JSON.stringify(label)}) matches ` +
    'none of msg_pending / msg_ack';
}
const all = keyedRows.length ? keyedRows : meaning.map((m) => m.el);
const metas = all.map((r) => {
  const m = meaningOf(r);
  const meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null) || (m && m.preEl);
  return meta ? meta.getAttribute('data-pre-plain-text') : null;
});
const box = F('compose_box', null, true);
return {
  rows: out, total: rows.length, structural: source === 'meaning', any_rows: all.length, metas,
  start: !!F('chat_start', null, false), expanded,
  box: box ? richText(box) : null,
  logged_in: !!F('logged_in', null, true),
  qr: !!F('qr_code', null, true),
  phone_disconnected: !!F('phone_disconnected', null, true),
  offline: !!F('offline_banner', null, true),
  failed,
  // Senders of rows that are ours by their status label: our own name as this page writes it.
  own_senders: [...new Set(meaning.filter((m) => m.status && m.sender).map((m) => m.sender))],
  unclassified: meaning.filter((m) => m.own === null).length,
  // The element of the key asked for (the send control before a click): no extra round trip.
  control: control ? F(control, null, true) : null,
};
"""
)

# Scroll the message list to its top, which makes the page load older messages.
SCROLL_TOP = (
    PRELUDE
    + r"""
let list = F('message_list', null, false) || messageList();
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

# The chat list's chats: the chat's name, the preview of its newest message and its
# unread count (0: no badge). By the configured keys, else by meaning: the rows of the
# chat list's scroller (#pane-side), a row's first line of text its name, its last its
# preview, a badge an element whose label holds the word for "unread".
CHAT_LIST = (
    PRELUDE
    + r"""
const failed = {};
let items = FA('chat_list_item');
const shown = chatRows();
if (!items.length && shown.length) {
  failed.chat_list_item = `no configured selector matched the ${shown.length} chat(s) the chat list shows`;
  items = shown;
}
const UNREAD = MEANING.unread.map(norm);
const texts = (r) => {
  const titled = q('[title]', r).map((e) => e.getAttribute('title')).filter((t) => t && t.trim());
  if (titled.length >= 2) return titled;
  const lines = [];
  const walk = (n) => {
    for (const c of n.childNodes) {
      if (c.nodeType === 3 && c.data.trim()) lines.push(c.data.trim());
      else if (c.nodeType === 1 && !statusOf(c) && !UNREAD.some((w) => norm(labelOf(c)).includes(w))) walk(c);
    }
  };
  walk(r);
  // A time ("14:05", "2:05 PM", "Yesterday") sits between the name and the preview.
  return lines.filter((t, i) => !(i === 1 && t.length <= 10 && /\d|:/.test(t)));
};
const chats = [];
let badgeMiss = 0;
for (const r of items) {
  let badge = F('unread_badge', r);
  if (!badge) {
    const labelled = [r, ...q('[aria-label], [title]', r)].find(
      (e) => e.nodeType === 1 && UNREAD.some((w) => norm(labelOf(e)).includes(w)));
    if (labelled) { badge = labelled; badgeMiss++; }
  }
  const t = texts(r);
  chats.push({
    title: t.length ? t[0] : null,
    preview: t.length > 1 ? t[t.length - 1] : null,
    unread: badge ? (parseInt((badge.textContent || labelOf(badge) || '').replace(/\D/g, ''), 10) || 1) : 0,
  });
}
if (badgeMiss) failed.unread_badge = `no configured selector matched the ${badgeMiss} unread badge(s) the chat list shows`;
const header = F('chat_open', null, true);
return {chats, rows: items.length, failed,
        open_title: header ? (header.getAttribute('title') || header.textContent || '').trim() : null};
"""
)

# The open chat's incoming messages: rows the incoming key matches, else the rows that are
# a contact's by meaning (another sender, no status element); each with whether it comes
# after our last outgoing row.
INCOMING = (
    PRELUDE
    + r"""
const failed = {};
const meaning = meaningRows();
const keyedRows = FA('message_row');
const rowsAll = keyedRows.length ? keyedRows : meaning.map((m) => m.el);
if (!keyedRows.length && meaning.length) {
  failed.message_row = `no configured selector matched the ${meaning.length} message row(s) of the open chat`;
}
const mOf = (r) => meaning.find((m) => m.el === r || m.el.contains(r) || r.contains(m.el)) || null;
const keyed = FA('incoming_message');
const theirs = meaning.filter((m) => m.own === false);
const useKey = keyed.length > 0;
if (!useKey && theirs.length) {
  failed.incoming_message = `no configured selector matched the ${theirs.length} bubble(s) of another sender in the open chat`;
}
const mine = (r) => {
  if (F('msg_pending', r) || F('msg_ack', r)) return true;
  const m = mOf(r);
  return !!(m && m.own !== false);
};
const out = [];
let afterOurs = false;
for (const r of rowsAll) {
  if (mine(r)) { afterOurs = true; out.forEach((m) => { m.after_ours = false; }); continue; }
  const m = mOf(r);
  const incoming = useKey ? keyed.some((k) => r.contains(k) || k.contains(r)) : !!(m && m.own === false);
  if (!incoming) continue;
  let t = F('message_text', r);
  if (!t && m && m.preEl) t = m.preEl;
  const meta = F('message_meta', r) || (r.hasAttribute('data-pre-plain-text') ? r : null) || (m && m.preEl);
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
return {rows: out, failed};
"""
)
