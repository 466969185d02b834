/* WhatsApp Web simulator: the single-page app.
 *
 * The server holds all state (login, chats, ledger, faults). This page boots
 * (a #startup screen for boot_time seconds), then polls /__sim__/state and
 * renders the QR landing, the "Use here" dialog or the app. Chats open inside
 * the app (wa.me and /send links, chat list, "New chat" field) without a reload.
 * The DOM follows docs/whatsapp-dom.md exactly: do not rename anything here
 * without changing that contract.
 */
'use strict';
(function () {
  const CFG = Object.assign({ boot_time: 3, poll_interval: 0.3 }, window.SIM_CONFIG || {});
  const app = document.getElementById('app');
  let view = 'startup';        // startup | landing | usehere | app
  let state = null;            // last /__sim__/state answer
  let pendingSend = null;      // {phone, text} from a /send?phone= page load
  let chatsVersion = -1;
  let openToken = 0;
  let currentPhone = null;     // "+DIGITS" of the open chat
  const watching = new Set();  // ids of bubbles queued while the phone is offline

  const ICONS = {
    'msg-time': '<svg viewBox="0 0 16 15" width="16" height="15"><path fill="currentColor" d="M9.75 7.713H8.244V5.359a.5.5 0 0 0-.5-.5H7.65a.5.5 0 0 0-.5.5v2.947a.5.5 0 0 0 .5.5h.094l.003-.001.003.002h2a.5.5 0 0 0 .5-.5v-.094a.5.5 0 0 0-.5-.5zm0-5.263h-3.5c-1.82 0-3.3 1.48-3.3 3.3v3.5c0 1.82 1.48 3.3 3.3 3.3h3.5c1.82 0 3.3-1.48 3.3-3.3v-3.5c0-1.82-1.48-3.3-3.3-3.3zm2 6.8a2 2 0 0 1-2 2h-3.5a2 2 0 0 1-2-2v-3.5a2 2 0 0 1 2-2h3.5a2 2 0 0 1 2 2v3.5z"/></svg>',
    'msg-check': '<svg viewBox="0 0 12 11" width="12" height="11"><path fill="currentColor" d="M11.1 2.3 10.4 1.8a.4.4 0 0 0-.5.1L4.3 8.9 1.8 6.5a.4.4 0 0 0-.5 0l-.6.6a.4.4 0 0 0 0 .5l3.2 3.1c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4z"/></svg>',
    'msg-dblcheck': '<svg viewBox="0 0 16 11" width="16" height="11"><path fill="currentColor" d="M11.1 2.3 10.4 1.8a.4.4 0 0 0-.5.1L4.3 8.9 1.8 6.5a.4.4 0 0 0-.5 0l-.6.6a.4.4 0 0 0 0 .5l3.2 3.1c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4zm4 0-.7-.5a.4.4 0 0 0-.5.1L8.3 8.9l-.8-.8-.9 1.1 1.4 1.4c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4z"/></svg>',
    'send': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M1.1 21.8 23 12 1.1 2.2 1.1 9.8 16.8 12 1.1 14.2z"/></svg>',
    'wds-ic-send-filled': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M3.4 20.4 20.9 12.9a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.1L3.7 11 13 12l-9.3 1-1.7 6.3a1 1 0 0 0 1.4 1.1z"/></svg>',
    'plus-rounded': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M11 13H5v-2h6V5h2v6h6v2h-6v6h-2z"/></svg>',
    'mic-outlined': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg>',
    'alert-phone': '<svg viewBox="0 0 48 48" width="40" height="40"><circle cx="24" cy="24" r="24" fill="#ffd279"/><rect x="17" y="11" width="14" height="26" rx="2" fill="#fff"/><rect x="23" y="31" width="2" height="2" fill="#ffd279"/></svg>',
    'document': '<svg viewBox="0 0 24 24" width="26" height="26"><path fill="currentColor" d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5z"/></svg>',
    'media': '<svg viewBox="0 0 24 24" width="22" height="22"><path fill="currentColor" d="M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5z"/></svg>',
    'x': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z"/></svg>',
  };
  const ACK_LABEL = { 'msg-time': ' Pending ', 'msg-check': ' Sent ', 'msg-dblcheck': ' Delivered ' };

  // ------------------------------------------------------------------ helpers

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'html') el.innerHTML = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
    return el;
  }
  function icon(name, extra) {
    return h('span', Object.assign({ 'data-icon': name, html: ICONS[name] || '' }, extra || {}));
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store' });
    return r.json();
  }
  async function postJSON(url, body) {
    const r = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}),
    });
    return r.json();
  }
  const pad = (n) => String(n).padStart(2, '0');
  function prePlain(d) {
    return `[${pad(d.getHours())}:${pad(d.getMinutes())}, ${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}] You: `;
  }
  const timeOfPre = (pre) => (/^\[(\d\d:\d\d)/.exec(pre || '') || [])[1] || '';
  function newId() {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    return '3EB0' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  }
  const digitsOf = (p) => String(p || '').replace(/\D/g, '');
  const dataId = (phone, id) => `true_${digitsOf(phone)}@c.us_${id}`;
  function fmtSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  /* The text of a contenteditable box as the user sees it, "\n" for line breaks.
   * Walks the DOM instead of using innerText, which counts Chrome's
   * <div><br></div> empty paragraphs (made by execCommand('insertText', "a\n\nb"))
   * as two line breaks. A <br> that is the last child of a block is only a
   * placeholder that keeps an empty line open. */
  const BLOCK = /^(DIV|P|LI|UL|OL|H[1-6]|BLOCKQUOTE|PRE)$/;
  function boxText(box) {
    let out = '';
    let pending = false;
    const flush = () => { if (pending) { out += '\n'; pending = false; } };
    const walk = (node) => {
      for (const c of node.childNodes) {
        if (c.nodeType === Node.TEXT_NODE) {
          if (c.data) { flush(); out += c.data; }
        } else if (c.nodeName === 'BR') {
          flush();
          if (c.nextSibling || !(c.parentNode === box || BLOCK.test(c.parentNode.nodeName))) out += '\n';
        } else if (c.nodeType === Node.ELEMENT_NODE) {
          const block = BLOCK.test(c.nodeName);
          if (block && out !== '') pending = true;
          walk(c);
          if (block) pending = true;
        }
      }
    };
    walk(box);
    return out.replace(/\u00a0/g, ' ');
  }
  function caretToEnd(box) {
    const r = document.createRange();
    r.selectNodeContents(box);
    r.collapse(false);
    const s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }
  function fillWithBreaks(el, text) {
    String(text).split('\n').forEach((line, i) => {
      if (i) el.append(document.createElement('br'));
      if (line) el.append(document.createTextNode(line));
    });
  }
  function setBoxText(box, text) {
    box.textContent = '';
    fillWithBreaks(box, text);
    if (text.endsWith('\n')) box.append(document.createElement('br'));
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }
  /* Shared key handling for the compose and caption boxes: Enter sends,
   * Shift+Enter inserts a line break. */
  function wireTextbox(box, onSend, onChange) {
    box.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.isComposing) return;
      e.preventDefault();
      if (e.shiftKey) {
        document.execCommand('insertLineBreak');
      } else {
        onSend();
      }
    });
    box.addEventListener('paste', (e) => {
      e.preventDefault();
      const t = (e.clipboardData || window.clipboardData).getData('text/plain');
      document.execCommand('insertText', false, t);
    });
    const update = () => {
      box.classList.toggle('empty', boxText(box).trim() === '');
      if (onChange) onChange();
    };
    box.addEventListener('input', update);
    new MutationObserver(update).observe(box, { childList: true, subtree: true, characterData: true });
    update();
  }

  // ------------------------------------------------------------------ boot

  const params = new URLSearchParams(location.search);
  if (location.pathname === '/send' && params.get('phone')) {
    pendingSend = { phone: params.get('phone'), text: params.get('text') || '' };
  }
  const progress = document.querySelector('#startup progress');
  const bootStarted = performance.now();
  const bootTimer = setInterval(() => {
    const f = CFG.boot_time > 0 ? (performance.now() - bootStarted) / (CFG.boot_time * 1000) : 1;
    if (progress) progress.value = Math.min(100, Math.round(f * 100));
  }, 100);
  setTimeout(finishBoot, Math.max(0, CFG.boot_time * 1000));

  async function finishBoot() {
    let s = null;
    for (;;) {
      try {
        s = await postJSON('/__sim__/app/qr/start');   // a page load gets a fresh QR code
        break;
      } catch (e) {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    clearInterval(bootTimer);
    if (location.pathname !== '/') history.replaceState(null, '', '/');
    apply(s);
    setTimeout(poll, pollMs());
  }
  function pollMs() {
    return 1000 * ((state && state.settings && state.settings.poll_interval) || CFG.poll_interval);
  }
  async function poll() {
    try {
      const q = watching.size ? '?watch=' + encodeURIComponent([...watching].join(',')) : '';
      apply(await getJSON('/__sim__/state' + q));
    } catch (e) { /* server gone for a moment: keep the page as it is */ }
    setTimeout(poll, pollMs());
  }

  function apply(s) {
    state = s;
    if (!s.logged_in) {
      if (view !== 'landing') renderLanding();
      updateQR(s.qr);
      return;
    }
    if (s.use_here) {
      if (view !== 'usehere') renderUseHere();
      return;
    }
    if (view !== 'app') {
      renderApp();
      if (pendingSend) {
        const p = pendingSend;
        pendingSend = null;
        openChat(p.phone, p.text, 'url');
      }
    }
    updateBanner(s.phone_connected);
    if (s.chats_version !== chatsVersion) refreshChats();
    for (const [id, v] of Object.entries(s.watched || {})) {
      if (v.status !== 'queued') {
        watching.delete(id);
        applyAck(id, v);
      }
    }
  }

  // ------------------------------------------------------------------ landing (QR)

  function renderLanding() {
    view = 'landing';
    currentPhone = null;
    watching.clear();
    app.textContent = '';
    const demo = state && state.demo;
    app.append(h('div', { class: 'landing', id: 'landing' },
      h('div', { class: 'landing-top' }, h('span', { class: 'brand', text: 'WhatsApp' })),
      h('div', { class: 'landing-card' },
        h('div', { class: 'landing-text' },
          h('h1', { text: 'Use WhatsApp on your computer' }),
          h('ol', {},
            h('li', { text: 'Open WhatsApp on your phone' }),
            h('li', { text: 'Tap Menu or Settings and select Linked Devices' }),
            h('li', { text: 'Tap on Link a device' }),
            h('li', { text: 'Point your phone to this screen to capture the QR code' })),
          h('p', { class: 'sim-note', text: demo
            ? 'Simulator (demo): press any key to log in, or wait a few seconds.'
            : 'Simulator: log in with POST /__sim__/login, or:' }),
          h('button', { class: 'sim-login', type: 'button', text: 'Simulate scanning the QR code (log in)',
            onclick: async () => apply(await postJSON('/__sim__/login')) })),
        h('div', { class: 'qr-box' },
          h('div', { class: 'qr', 'data-ref': '' },
            h('canvas', { 'aria-label': 'Scan me!', role: 'img', width: 264, height: 264 }))))));
  }

  function updateQR(qr) {
    const holder = document.querySelector('div[data-ref]');
    if (!holder || !qr) return;
    if (holder.getAttribute('data-ref') !== qr.ref) {
      holder.setAttribute('data-ref', qr.ref);
      drawQR(holder.querySelector('canvas'), qr.ref);
    }
    let btn = holder.querySelector('button');
    if (qr.expired && !btn) {
      holder.classList.add('expired');
      holder.append(h('button', {
        class: 'qr-reload', type: 'button', text: 'Click to reload QR code',
        onclick: async () => apply(await postJSON('/__sim__/app/qr/start')),
      }));
    } else if (!qr.expired && btn) {
      holder.classList.remove('expired');
      btn.remove();
    }
  }

  function drawQR(canvas, ref) {
    if (!canvas) return;
    const n = 33, cell = 8, ctx = canvas.getContext('2d');
    let seed = 2166136261;
    for (let i = 0; i < ref.length; i++) seed = Math.imul(seed ^ ref.charCodeAt(i), 16777619);
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#122e31';
    const finder = (x, y) => x < 8 && y < 8 || x >= n - 8 && y < 8 || x < 8 && y >= n - 8;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      if (!finder(x, y) && rnd() < 0.5) ctx.fillRect(x * cell, y * cell, cell, cell);
    }
    for (const [fx, fy] of [[0, 0], [n - 7, 0], [0, n - 7]]) {
      ctx.fillRect(fx * cell, fy * cell, 7 * cell, 7 * cell);
      ctx.fillStyle = '#fff';
      ctx.fillRect((fx + 1) * cell, (fy + 1) * cell, 5 * cell, 5 * cell);
      ctx.fillStyle = '#122e31';
      ctx.fillRect((fx + 2) * cell, (fy + 2) * cell, 3 * cell, 3 * cell);
    }
  }

  document.addEventListener('keydown', (e) => {
    if (view === 'landing' && state && state.demo && !e.ctrlKey && !e.metaKey) {
      postJSON('/__sim__/login').then(apply);
    }
  });

  // ------------------------------------------------------------------ "Use here"

  function renderUseHere() {
    view = 'usehere';
    currentPhone = null;
    watching.clear();
    app.textContent = '';
    app.append(h('div', { class: 'overlay' },
      h('div', { class: 'popup', role: 'dialog', 'data-animate-modal-popup': 'true' },
        h('div', { class: 'popup-body', text: 'WhatsApp is open in another window. Click "Use here" to use WhatsApp in this window.' }),
        h('div', { class: 'popup-buttons' },
          h('button', { class: 'btn-primary', type: 'button', text: 'Use here',
            onclick: async () => apply(await postJSON('/__sim__/app/use_here')) })))));
  }

  // ------------------------------------------------------------------ the app

  function renderApp() {
    view = 'app';
    currentPhone = null;
    chatsVersion = -1;
    watching.clear();
    app.textContent = '';
    const newChat = h('input', {
      id: 'new-chat', type: 'tel', autocomplete: 'off', 'aria-label': 'New chat',
      placeholder: 'New chat: type a phone number, then Enter',
    });
    newChat.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && newChat.value.trim()) {
        e.preventDefault();
        const v = newChat.value;
        newChat.value = '';
        openChat(v, '', 'in_app');
      }
    });
    app.append(h('div', { class: 'app-wrapper' },
      h('div', { class: 'app two' },
        h('div', { id: 'side' },
          h('header', { class: 'side-header' },
            h('div', { class: 'avatar me', text: 'Me' }),
            h('span', { class: 'side-title', text: 'Chats' })),
          h('div', { class: 'banner-slot' }),
          h('div', { class: 'new-chat' }, newChat),
          h('div', { id: 'pane-side', role: 'grid', 'aria-label': 'Chat list' },
            h('div', { class: 'chat-list', role: 'list' }))),
        h('div', { class: 'main-slot', id: 'main-slot' }, intro())),
      h('div', { class: 'toast-slot' }),
      h('div', { class: 'modal-slot' })));
  }

  function intro() {
    return h('div', { class: 'intro' },
      h('h2', { text: 'WhatsApp Web' }),
      h('p', { text: 'Local simulator. Pick a chat, type a number in "New chat", or click a wa.me link.' }));
  }

  function updateBanner(connected) {
    const slot = document.querySelector('.banner-slot');
    if (!slot) return;
    const banner = slot.querySelector('[data-testid="alert-phone"]');
    if (!connected && !banner) {
      slot.append(h('div', { class: 'alert-phone', 'data-testid': 'alert-phone', role: 'alert' },
        icon('alert-phone'),
        h('div', {},
          h('div', { class: 'alert-title', text: 'Phone not connected' }),
          h('div', { class: 'alert-sub', text: 'Make sure your phone has an active internet connection.' }))));
    } else if (connected && banner) {
      banner.remove();
    }
  }

  async function refreshChats() {
    let data;
    try { data = await getJSON('/__sim__/app/chats'); } catch (e) { return; }
    const list = document.querySelector('#pane-side .chat-list');
    if (!list) return;
    chatsVersion = data.version;
    list.textContent = '';
    for (const c of data.chats) {
      const d = new Date(c.last_at * 1000);
      list.append(h('div', {
        class: 'chat-item' + (c.phone === currentPhone ? ' active' : ''), role: 'listitem',
        'data-phone': c.phone, tabindex: '-1',
        onclick: () => openChat(c.phone, '', 'in_app'),
      },
        h('div', { class: 'avatar' }),
        h('div', { class: 'chat-info' },
          h('div', { class: 'chat-row' },
            h('span', { class: 'chat-name', title: c.phone, text: c.phone }),
            h('span', { class: 'chat-time', text: `${pad(d.getHours())}:${pad(d.getMinutes())}` })),
          h('div', { class: 'chat-last', text: c.last_text.split('\n')[0] }))));
    }
  }

  // ------------------------------------------------------------------ opening chats

  /* wa.me/DIGITS, api.whatsapp.com/send?phone=, or this app's /send?phone= */
  function parseChatLink(href) {
    let u;
    try { u = new URL(href, location.href); } catch (e) { return null; }
    const host = u.host.toLowerCase();
    let phone = null;
    if (host === 'wa.me' || host === 'www.wa.me') {
      phone = u.pathname.replace(/^\/+/, '').split('/')[0];
    } else if ((host === location.host || host === 'api.whatsapp.com' || host === 'web.whatsapp.com')
               && u.pathname === '/send') {
      phone = u.searchParams.get('phone');
    }
    if (phone === null) return null;
    return { phone, text: u.searchParams.get('text') || '' };
  }

  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a[href]') : null;
    if (!a) return;
    const link = parseChatLink(a.getAttribute('href'));
    if (!link) return;
    e.preventDefault();
    if (view === 'app') openChat(link.phone, link.text, 'in_app');
  }, true);

  function closeChat() {
    currentPhone = null;
    watching.clear();
    const slot = document.getElementById('main-slot');
    if (slot) slot.replaceChildren(intro());
    for (const el of document.querySelectorAll('#pane-side .chat-item.active')) el.classList.remove('active');
  }
  function closeModals() {
    const m = document.querySelector('.modal-slot');
    if (m) m.textContent = '';
  }

  async function openChat(phone, text, via) {
    const token = ++openToken;
    closeChat();
    closeModals();
    let r;
    try {
      r = await postJSON('/__sim__/app/open', { phone: String(phone), via });
    } catch (e) {
      r = { failed: true, error: 'Network error: could not open the chat.' };
    }
    if (token !== openToken || view !== 'app') return;
    if (r.invalid) showInvalidPopup();
    else if (r.failed || r.error) showToast(r.error || 'Could not open the chat.');
    else renderChat(r.phone, r.history, text);
  }

  function showInvalidPopup() {
    const slot = document.querySelector('.modal-slot');
    slot.replaceChildren(h('div', { class: 'overlay' },
      h('div', { class: 'popup', role: 'dialog', 'data-animate-modal-popup': 'true' },
        h('div', { class: 'popup-body', text: 'Phone number shared via url is invalid.' }),
        h('div', { class: 'popup-buttons' },
          h('button', { class: 'btn-primary', type: 'button', text: 'OK', onclick: closeModals })))));
  }

  function showToast(message) {
    const slot = document.querySelector('.toast-slot');
    if (!slot) return;
    const t = h('div', { class: 'toast', role: 'status', 'data-testid': 'toast', text: message });
    slot.replaceChildren(t);
    setTimeout(() => t.remove(), 4000);
  }

  // ------------------------------------------------------------------ the open chat

  function renderChat(phone, history, text) {
    currentPhone = phone;
    const slot = document.getElementById('main-slot');
    const rows = h('div', { class: 'messages', role: 'application' });
    const box = h('div', {
      class: 'compose-box empty', contenteditable: 'true', role: 'textbox', 'data-tab': '10',
      'aria-placeholder': 'Type a message', 'aria-label': 'Type a message', title: 'Type a message',
      spellcheck: 'true', 'aria-multiline': 'true', tabindex: '10',
    });
    const sendSlot = h('div', { class: 'send-slot' });
    const attach = h('div', { class: 'attach-wrap' },
      h('div', { class: 'attach-btn', role: 'button', title: 'Attach', 'aria-label': 'Attach', tabindex: '0',
        onclick: () => toggleAttachMenu(attach) },
      icon('plus-rounded')));
    const main = h('div', { id: 'main', 'data-phone': phone },
      h('header', { class: 'main-header' },
        h('div', { class: 'avatar' }),
        h('div', { class: 'main-title' },
          h('span', { dir: 'auto', title: phone, class: 'contact-name', text: phone }),
          h('div', { class: 'contact-sub', text: 'click here for contact info' }))),
      h('div', { class: 'conversation', tabindex: '-1' }, rows),
      h('footer', { class: 'compose' },
        h('div', { class: 'compose-row' },
          attach,
          h('div', { class: 'input-wrap' }, box),
          sendSlot)));
    for (const m of history) rows.append(bubble(m));
    slot.replaceChildren(main);

    const send = () => {
      const t = boxText(box).trim();
      if (!t) return;
      box.textContent = '';
      box.dispatchEvent(new Event('input', { bubbles: true }));
      sendMessage(phone, t, null);
    };
    let hasText = null;
    wireTextbox(box, send, () => {
      const now = boxText(box).trim() !== '';
      if (now === hasText) return;
      hasText = now;
      sendSlot.replaceChildren(now
        ? h('button', { class: 'send-btn', type: 'button', 'aria-label': 'Send', 'data-tab': '11',
          onmousedown: (e) => e.preventDefault(), onclick: send }, icon('send'))
        : h('button', { class: 'mic-btn', type: 'button', 'aria-label': 'Voice message', tabindex: '-1' },
          icon('mic-outlined')));
    });
    for (const m of history) scheduleAck(m);
    for (const el of document.querySelectorAll('#pane-side .chat-item')) {
      el.classList.toggle('active', el.getAttribute('data-phone') === phone);
    }
    if (text) setBoxText(box, text);
    box.focus();
    caretToEnd(box);
    scrollDown();
  }

  function scrollDown() {
    const c = document.querySelector('#main .conversation');
    if (c) c.scrollTop = c.scrollHeight;
  }

  /* m: {id, phone?, text, attachment, status, pre, localUrl?} */
  function bubble(m) {
    const phone = m.phone || currentPhone;
    const b = h('div', { class: 'bubble' });
    if (m.attachment) {
      const a = m.attachment;
      const isImage = m.localUrl && /^image\//.test(a.type || '');
      b.append(h('div', { class: 'attachment', 'data-attachment-name': a.name },
        isImage ? h('img', { src: m.localUrl, alt: a.name, class: 'thumb' }) : icon('document'),
        h('div', { class: 'att-info' },
          h('div', { class: 'att-name', text: a.name }),
          h('div', { class: 'att-size', text: fmtSize(a.size || 0) }))));
    }
    const inner = h('span');
    fillWithBreaks(inner, m.text || '');
    const ackIcon = m.status === 'accepted' && m.check_in === 0
      ? (m.dbl_in === 0 ? 'msg-dblcheck' : 'msg-check') : 'msg-time';
    b.append(
      h('div', { class: 'copyable-text', 'data-pre-plain-text': m.pre },
        h('span', { class: 'selectable-text copyable-text', dir: 'ltr' }, inner)),
      h('div', { class: 'meta' },
        h('span', { class: 'msg-clock', text: timeOfPre(m.pre) }),
        icon(ackIcon, { 'aria-label': ACK_LABEL[ackIcon], class: 'ack' })));
    return h('div', { role: 'row', 'data-id': dataId(phone, m.id) },
      h('div', { class: 'message-out focusable-list-item' }, b));
  }

  function rowOf(id) {
    return document.querySelector(`#main div[role="row"][data-id$="_${CSS.escape(id)}"]`);
  }
  function setAck(id, name) {
    const row = rowOf(id);
    const span = row && row.querySelector('span.ack');
    if (!span || span.getAttribute('data-icon') === name) return;
    if (name === 'msg-check' && span.getAttribute('data-icon') === 'msg-dblcheck') return;
    span.setAttribute('data-icon', name);
    span.setAttribute('aria-label', ACK_LABEL[name]);
    span.innerHTML = ICONS[name];
    span.classList.toggle('read', name === 'msg-dblcheck');
  }
  function scheduleAck(v) {
    if (v.status === 'queued') { watching.add(v.id); return; }
    if (v.status !== 'accepted') return;
    if (v.check_in === 0) setAck(v.id, 'msg-check');
    else setTimeout(() => setAck(v.id, 'msg-check'), v.check_in * 1000);
    if (v.dbl_in === 0) setAck(v.id, 'msg-dblcheck');
    else setTimeout(() => setAck(v.id, 'msg-dblcheck'), v.dbl_in * 1000);
  }
  /* The server's answer about one message: update its meta and schedule its ticks. */
  function applyAck(id, v) {
    const row = rowOf(id);
    if (row && v.pre) {
      const meta = row.querySelector('div.copyable-text');
      if (meta) meta.setAttribute('data-pre-plain-text', v.pre);
      const clock = row.querySelector('.msg-clock');
      if (clock) clock.textContent = timeOfPre(v.pre);
    }
    scheduleAck(v);
  }

  async function sendMessage(phone, text, file) {
    const id = newId();
    const rows = document.querySelector('#main .messages');
    const attachment = file ? { name: file.name, size: file.size, type: file.type } : null;
    const localUrl = file && /^image\//.test(file.type) ? URL.createObjectURL(file) : null;
    if (rows) rows.append(bubble({ id, phone, text, attachment, localUrl, status: 'sending', pre: prePlain(new Date()) }));
    scrollDown();
    let r;
    try {
      if (file) {
        const q = new URLSearchParams({ phone, id, name: file.name, caption: text, type: file.type || '' });
        const resp = await fetch('/__sim__/app/send_file?' + q, { method: 'POST', body: file });
        r = await resp.json();
      } else {
        r = await postJSON('/__sim__/app/send', { phone, id, text });
      }
    } catch (e) {
      r = { id, status: 'lost' };
    }
    if (r.status === 'lost') return;        // the click was lost: the clock stays
    if (r.id && r.id !== id) {
      const row = rowOf(id);
      if (row) row.setAttribute('data-id', dataId(phone, r.id));
    }
    applyAck(r.id || id, r);
  }

  // ------------------------------------------------------------------ attachments

  function toggleAttachMenu(wrap) {
    const open = wrap.querySelector('.attach-menu');
    if (open) { open.remove(); return; }
    const input = (accept) => {
      const i = h('input', { type: 'file', accept, style: 'display:none' });
      i.addEventListener('change', () => {
        const f = i.files && i.files[0];
        const menu = wrap.querySelector('.attach-menu');
        if (menu) menu.remove();
        if (f) showPreview(f);
      });
      return i;
    };
    wrap.append(h('div', { class: 'attach-menu', role: 'application' },
      h('ul', {},
        h('li', {}, h('label', { class: 'attach-item' }, icon('media'), h('span', { text: 'Photos & videos' }),
          input('image/*,video/mp4,video/3gpp,video/quicktime'))),
        h('li', {}, h('label', { class: 'attach-item' }, icon('document'), h('span', { text: 'Document' }),
          input('*'))))));
  }

  document.addEventListener('mousedown', (e) => {
    const menu = document.querySelector('.attach-menu');
    if (menu && !e.target.closest('.attach-wrap')) menu.remove();
  }, true);

  function showPreview(file) {
    const phone = currentPhone;
    const slot = document.getElementById('main-slot');
    if (!slot || !phone) return;
    const old = document.getElementById('media-preview');
    if (old) old.remove();
    const isImage = /^image\//.test(file.type);
    const caption = h('div', {
      class: 'caption-box compose-box empty', contenteditable: 'true', role: 'textbox',
      'aria-placeholder': 'Add a caption', 'aria-label': 'Add a caption', spellcheck: 'true', tabindex: '0',
    });
    const preview = h('div', { id: 'media-preview', class: 'media-preview' },
      h('header', {},
        h('div', { role: 'button', 'aria-label': 'Close', class: 'preview-close', onclick: () => preview.remove() }, icon('x')),
        h('span', { text: file.name })),
      h('div', { class: 'preview-body' },
        isImage ? h('img', { src: URL.createObjectURL(file), alt: file.name })
          : h('div', { class: 'doc-card' }, icon('document'),
            h('div', { class: 'att-name', text: file.name }),
            h('div', { class: 'att-size', text: fmtSize(file.size) }))),
      h('div', { class: 'caption-row' },
        h('div', { class: 'input-wrap' }, caption),
        h('div', { role: 'button', 'aria-label': 'Send', tabindex: '0', class: 'media-send',
          onmousedown: (e) => e.preventDefault(), onclick: () => send() },
        icon('wds-ic-send-filled'))));
    const send = () => {
      if (!preview.isConnected) return;
      const text = boxText(caption).trim();
      preview.remove();
      if (currentPhone === phone) sendMessage(phone, text, file);
    };
    wireTextbox(caption, send, null);
    slot.append(preview);
    caption.focus();
  }

  // ------------------------------------------------------------------ leaving the page

  window.addEventListener('beforeunload', (e) => {
    if (document.querySelector('span[data-icon="msg-time"]')) {
      e.preventDefault();
      e.returnValue = '';
      return '';
    }
    return undefined;
  });
})();
