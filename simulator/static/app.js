/* WhatsApp Web simulator: the single-page app.
 *
 * The server holds all state (login, chats, ledger, faults). This page boots
 * (a #startup screen for boot_time seconds), then polls /__sim__/app/state and
 * renders the QR landing, the "Use here" dialog or the app. Chats open inside
 * the app (wa.me and /send links, chat list, "New chat" field) without a reload.
 * The server knows this browser profile as one linked device by an id the page keeps
 * in IndexedDB (as WhatsApp Web keeps its keys there: written at once, so a killed
 * browser keeps its login) and sends with every call; the state it answers is this
 * device's login and the chats of the account it is linked to.
 *
 * Two DOM generations (docs/whatsapp-dom.md), chosen per page load:
 *  - "2024": the DOM this project was first written against (classes such as
 *    .message-out, data-testid attributes, plain-text bubbles).
 *  - "2026": what public 2025–26 evidence says WhatsApp Web serves now: no
 *    .message-out/.message-in (an outgoing row is the one with a status icon),
 *    bare-hash data-id, a Lexical compose box, div[role=button] send control with
 *    the wds-ic-send-filled icon, rich bubbles (emoji as <img>, links, *bold* etc.
 *    drawn as elements, long texts cut behind "Read more"), attachment bubbles
 *    without any file-name attribute, no data-testid, text-only banners.
 * Labels and bubble times follow the UI language (the browser's own by default).
 *
 * Builds (CFG.mutation, from the server's plan for a `mutate` seed): the page is drawn with
 * other icon names, obfuscated classes, no test ids, other attributes, wrapped or unwrapped
 * rows, labels in other attributes, buttons as divs and back (docs/simulator.md). h() applies
 * the plan to every element it makes; the app finds its own elements through JS references
 * or through Q(), which maps its selectors to the build's names. No hook of the page's own
 * is left in a build's DOM.
 */
'use strict';
(function () {
  const CFG = Object.assign({ boot_time: 3, poll_interval: 0.3, dom: '2024', lang: 'auto' }, window.SIM_CONFIG || {});
  const NEW = CFG.dom === '2026';

  // ------------------------------------------------------------------ builds (mutation)

  const M = CFG.mutation || null;          // the build's plan (null: the page as written)
  const BUILD = CFG.mutate || null;        // its seed: a change on the server reloads the page
  let reloadingForBuild = false;
  const KEPT_IDS = new Set(M ? M.kept_ids : []);
  // Controls a build may draw as <button> or as div[role=button] (their layout does not change).
  const SWAPPABLE = ['send-btn', 'mic-btn', 'read-more-button', 'attach-btn', 'preview-close', 'media-send',
    'btn-primary', 'qr-reload', 'ban-btn'];
  /* 32-bit FNV-1a of the UTF-8 bytes: the server derives the same names (simulator/mutate.py). */
  function fnv(text) {
    let x = 2166136261;
    for (const b of new TextEncoder().encode(text)) x = Math.imul(x ^ b, 16777619) >>> 0;
    return x >>> 0;
  }
  const token = (kind, name) => 'x' + fnv(`${M.seed}:${kind}:${name}`).toString(36);
  const CLASSES_ON = !!(M && M.operators.includes('classes'));
  /** The build's name of one of the page's classes (the name itself without a build). */
  const C = (name) => (CLASSES_ON ? (M.classes[name] || token('c', name)) : name);
  const idName = (name) => (CLASSES_ON && !KEPT_IDS.has(name) ? (M.ids[name] || token('i', name)) : name);
  const iconName = (name) => (M && M.icons[name]) || name;
  const cx = (...names) => names.filter(Boolean).join(' ');
  /** A selector of the page's own (.class, #id) in the build's names. */
  const mapSel = (sel) => (CLASSES_ON
    ? sel.replace(/([.#])(-?[_a-zA-Z][\w-]*)/g, (m, p, n) => p + (p === '.' ? C(n) : idName(n))) : sel);
  const Q = (sel, root) => (root || document).querySelector(mapSel(sel));
  const QA = (sel, root) => (root || document).querySelectorAll(mapSel(sel));
  const byId = (name) => document.getElementById(idName(name));
  const labelAttrs = () => (M && M.labels ? (M.labels.attr === 'both' ? ['aria-label', 'title'] : [M.labels.attr])
    : ['aria-label']);
  /** One attribute as the build writes it: [[name, value], ...] (none: dropped). */
  function mapAttr(k, v) {
    if (!M) return [[k, v]];
    const A = M.attributes;
    switch (k) {
      case 'class': return [[k, String(v).split(/\s+/).filter(Boolean).map(C).join(' ')]];
      case 'id': return [[k, idName(v)]];
      case 'data-icon': return [[k, iconName(v)]];
      case 'data-testid': return M.testids === 'drop' ? [] : [[k, v]];
      case 'data-phone': return [];   // the page's own hook: a build keeps JS references instead
      case 'data-tab': return [[k, A ? (A['data-tab'][v] || v) : v]];
      case 'data-id': return [[A ? A['data-id'] : k, v]];
      case 'data-lexical-editor':
      case 'data-animate-modal-popup':
        if (!A) return [[k, v]];
        return A[k] === 'drop' ? [] : [[A[k], v]];
      case 'aria-label': return labelAttrs().map((a) => [a, v]);
      case 'aria-placeholder': return [[M.labels ? M.labels.placeholder : k, v]];
      default: return [[k, v]];
    }
  }
  const setA = (el, k, v) => { for (const [a, b] of mapAttr(k, v)) el.setAttribute(a, b); };
  /* The element h() makes, as the build draws it: {tag, attrs, hooks (classes to add)}.
   * `_role` overrides the role (null: none) after the row hook is decided by the original one;
   * `_hooks` are the build's own classes (already obfuscated). */
  function buildSpec(tag, attrs) {
    const hooks = [...(attrs._hooks || [])];
    const cls = String(attrs.class || '').split(/\s+/);
    if (tag === 'div' && attrs.role === 'row') hooks.push(M.hooks.row);
    if ('data-icon' in attrs) hooks.push(M.hooks.icon);
    let role = '_role' in attrs ? attrs._role : attrs.role;
    const out = {};
    const swap = M.tags && M.tags.buttons && SWAPPABLE.some((c) => cls.includes(c));
    let toDiv = false;
    if (swap && tag === 'div' && attrs.role === 'button') {
      tag = 'button';
      role = null;
      out.type = 'button';
      hooks.push(M.hooks.div_button);
    } else if (swap && tag === 'button') {
      tag = 'div';
      toDiv = true;
      role = 'button';
      hooks.push(M.hooks.button_div);
      if (!('tabindex' in attrs)) out.tabindex = '0';
    }
    if (tag === 'span' && 'data-icon' in attrs && M.tags && M.tags.icons === 'div') {
      tag = 'div';
      hooks.push(M.hooks.inline);
    }
    for (const [k, v] of Object.entries(attrs)) {
      if (k[0] === '_' || k === 'role' || (k === 'type' && toDiv)) continue;
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text' || k === 'html' || k.startsWith('on')) { out[k] = v; continue; }
      for (const [a, b] of mapAttr(k, v === true ? '' : v)) out[a] = b;
    }
    if (role) out.role = role;
    return { tag, attrs: out, hooks };
  }

  // ------------------------------------------------------------------ languages

  const STRINGS = {
    'en-US': {
      you: 'You', send: 'Send', type: 'Type a message', attach: 'Attach', caption: 'Add a caption',
      useHere: 'Use here', useHereBody: 'WhatsApp is open in another window. Click "Use here" to use WhatsApp in this window.',
      ok: 'OK', invalid: 'Phone number shared via url is invalid.', reach: 'Trying to reach phone',
      reachSub: 'Make sure your phone has an active internet connection.', readMore: 'Read more',
      reload: 'Click to reload QR code', scan: 'Scan this QR code to link a device!',
      e2e: 'Messages and calls are end-to-end encrypted. Only people in this chat can read, listen to, or share them.',
      chatError: "Couldn't open the chat. Check your connection and try again.",
      photos: 'Photos & videos', document: 'Document', sticker: 'New sticker', voice: 'Voice message',
      close: 'Close', search: 'Search input textbox', chats: 'Chats',
      offline: 'Computer not connected', offlineSub: 'Make sure your computer has an active Internet connection.',
      unread: (n) => `${n} unread message${n === 1 ? '' : 's'}`, chatList: 'Chat list',
      youSelf: 'You', ack: { pending: ' Pending ', sent: ' Sent ', delivered: ' Delivered ', read: ' Read ', failed: ' Not sent ' },
      // Account limits (docs/whatsapp-dom.md, "Account limits"). The 2024 page keeps these English words.
      newChats: "You can't message new people right now.",
      newChatsIn: (n) => `You can message them again in ${n} hour${n === 1 ? '' : 's'}.`,
      newChatsLater: 'You can message them again later.',
      restricted: 'Your account is restricted.',
      restrictedUntil: (t, day) => `You can't send messages until ${day ? day + ', ' : ''}${t}.`,
      banned: 'This account is not allowed to use WhatsApp',
      bannedBody: 'Your phone number is banned from using WhatsApp. Contact support for help.',
      contactSupport: 'Contact support', learnMore: 'Learn more',   // "Contact support": the 2024 button (English)
      unanswered: (n, cap) => `You've sent ${n} of ${cap} messages to people who haven't replied this month`,
    },
    'en-GB': {},
    'pt-BR': {
      you: 'Você', send: 'Enviar', type: 'Digite uma mensagem', attach: 'Anexar', caption: 'Adicione uma legenda',
      useHere: 'Usar aqui', useHereBody: 'O WhatsApp está aberto em outra janela. Clique em "Usar aqui" para usar o WhatsApp nesta janela.',
      ok: 'OK', invalid: 'O número de telefone compartilhado por url é inválido.', reach: 'Tentando conectar ao celular',
      reachSub: 'Verifique se o seu celular tem uma conexão ativa com a internet.', readMore: 'Ler mais',
      reload: 'Clique para recarregar o código QR', scan: 'Escaneie este código QR para conectar um aparelho!',
      e2e: 'As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta. Somente as pessoas desta conversa podem ler, ouvir ou compartilhá-las.',
      chatError: 'Não foi possível abrir a conversa. Verifique sua conexão e tente novamente.',
      photos: 'Fotos e vídeos', document: 'Documento', sticker: 'Nova figurinha', voice: 'Mensagem de voz',
      unread: (n) => `${n} mensage${n === 1 ? 'm não lida' : 'ns não lidas'}`, chatList: 'Lista de conversas',
      close: 'Fechar', search: 'Caixa de texto de pesquisa', chats: 'Conversas',
      offline: 'Computador não conectado', offlineSub: 'Verifique se o seu computador tem uma conexão ativa com a internet.',
      youSelf: 'Você', ack: { pending: ' Pendente ', sent: ' Enviada ', delivered: ' Entregue ', read: ' Lida ', failed: ' Não enviada ' },
      newChats: 'Você não pode enviar mensagens para novas pessoas no momento.',
      newChatsIn: (n) => `Você poderá enviar mensagens para elas novamente em ${n} hora${n === 1 ? '' : 's'}.`,
      newChatsLater: 'Você poderá enviar mensagens para elas novamente mais tarde.',
      restricted: 'Sua conta está restrita.',
      restrictedUntil: (t, day) => `Você não pode enviar mensagens até ${day ? day + ', ' : ''}${t}.`,
      banned: 'Esta conta não tem permissão para usar o WhatsApp',
      bannedBody: 'Seu número de telefone está banido do WhatsApp. Entre em contato com o suporte para obter ajuda.',
      learnMore: 'Saiba mais',
      unanswered: (n, cap) => `Você enviou ${n} de ${cap} mensagens para pessoas que não responderam este mês`,
    },
    'de-DE': {
      you: 'Du', send: 'Senden', type: 'Nachricht eingeben', attach: 'Anhängen', caption: 'Bildunterschrift hinzufügen',
      useHere: 'Hier verwenden', useHereBody: 'WhatsApp ist in einem anderen Fenster geöffnet. Klicke auf „Hier verwenden“, um WhatsApp in diesem Fenster zu verwenden.',
      ok: 'OK', invalid: 'Die über die URL geteilte Telefonnummer ist ungültig.', reach: 'Verbindung zum Telefon wird hergestellt',
      reachSub: 'Stelle sicher, dass dein Telefon mit dem Internet verbunden ist.', readMore: 'Weiterlesen',
      reload: 'Klicke, um den QR-Code neu zu laden', scan: 'Scanne diesen QR-Code, um ein Gerät zu verknüpfen!',
      e2e: 'Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Nur Personen in diesem Chat können sie lesen, anhören oder teilen.',
      chatError: 'Chat konnte nicht geöffnet werden. Überprüfe deine Verbindung und versuche es erneut.',
      photos: 'Fotos & Videos', document: 'Dokument', sticker: 'Neuer Sticker', voice: 'Sprachnachricht',
      unread: (n) => `${n} ungelesene Nachricht${n === 1 ? '' : 'en'}`, chatList: 'Chatliste',
      close: 'Schließen', search: 'Suchfeld', chats: 'Chats',
      offline: 'Computer nicht verbunden', offlineSub: 'Stelle sicher, dass dein Computer mit dem Internet verbunden ist.',
      youSelf: 'Du', ack: { pending: ' Ausstehend ', sent: ' Gesendet ', delivered: ' Zugestellt ', read: ' Gelesen ', failed: ' Nicht gesendet ' },
      newChats: 'Du kannst gerade keine Nachrichten an neue Personen senden.',
      newChatsIn: (n) => `Du kannst ihnen in ${n} Stunde${n === 1 ? '' : 'n'} wieder schreiben.`,
      newChatsLater: 'Du kannst ihnen später wieder schreiben.',
      restricted: 'Dein Konto ist eingeschränkt.',
      restrictedUntil: (t, day) => `Du kannst bis ${day ? day + ', ' : ''}${t} keine Nachrichten senden.`,
      banned: 'Dieses Konto darf WhatsApp nicht verwenden',
      bannedBody: 'Deine Telefonnummer ist für WhatsApp gesperrt. Wende dich an den Support, um Hilfe zu erhalten.',
      learnMore: 'Mehr erfahren',
      unanswered: (n, cap) => `Du hast diesen Monat ${n} von ${cap} Nachrichten an Personen gesendet, die nicht geantwortet haben`,
    },
    'es-ES': {
      you: 'Tú', send: 'Enviar', type: 'Escribe un mensaje', attach: 'Adjuntar', caption: 'Añade un comentario',
      useHere: 'Usar aquí', useHereBody: 'WhatsApp está abierto en otra ventana. Haz clic en "Usar aquí" para usar WhatsApp en esta ventana.',
      ok: 'OK', invalid: 'El número de teléfono compartido a través de la URL no es válido.', reach: 'Intentando conectar con el teléfono',
      reachSub: 'Asegúrate de que tu teléfono tenga una conexión a internet activa.', readMore: 'Leer más',
      reload: 'Haz clic para volver a cargar el código QR', scan: '¡Escanea este código QR para vincular un dispositivo!',
      e2e: 'Los mensajes y las llamadas están cifrados de extremo a extremo. Solo las personas en este chat pueden leerlos, escucharlos o compartirlos.',
      chatError: 'No se pudo abrir el chat. Comprueba tu conexión e inténtalo de nuevo.',
      photos: 'Fotos y videos', document: 'Documento', sticker: 'Nuevo sticker', voice: 'Mensaje de voz',
      unread: (n) => `${n} mensaje${n === 1 ? ' no leído' : 's no leídos'}`, chatList: 'Lista de chats',
      close: 'Cerrar', search: 'Cuadro de texto de búsqueda', chats: 'Chats',
      offline: 'Computadora no conectada', offlineSub: 'Asegúrate de que tu computadora tenga una conexión a internet activa.',
      youSelf: 'Tú', ack: { pending: ' Pendiente ', sent: ' Enviado ', delivered: ' Entregado ', read: ' Leído ', failed: ' No enviado ' },
      newChats: 'No puedes enviar mensajes a personas nuevas en este momento.',
      newChatsIn: (n) => `Podrás volver a enviarles mensajes en ${n} hora${n === 1 ? '' : 's'}.`,
      newChatsLater: 'Podrás volver a enviarles mensajes más tarde.',
      restricted: 'Tu cuenta está restringida.',
      restrictedUntil: (t, day) => `No puedes enviar mensajes hasta ${day ? 'el ' + day + ', a ' : ''}las ${t}.`,
      banned: 'Esta cuenta no tiene permiso para usar WhatsApp',
      bannedBody: 'Tu número de teléfono está bloqueado para usar WhatsApp. Ponte en contacto con el servicio de asistencia para obtener ayuda.',
      learnMore: 'Más información',
      unanswered: (n, cap) => `Has enviado ${n} de ${cap} mensajes a personas que no han respondido este mes`,
    },
    'fr-FR': {
      you: 'Vous', send: 'Envoyer', type: 'Entrez un message', attach: 'Joindre', caption: 'Ajouter une légende',
      useHere: 'Utiliser ici', useHereBody: 'WhatsApp est ouvert dans une autre fenêtre. Cliquez sur « Utiliser ici » pour utiliser WhatsApp dans cette fenêtre.',
      ok: 'OK', invalid: "Le numéro de téléphone partagé via l'URL n'est pas valide.", reach: 'Tentative de connexion au téléphone',
      reachSub: "Assurez-vous que votre téléphone dispose d'une connexion Internet active.", readMore: 'Lire la suite',
      reload: 'Cliquez pour recharger le code QR', scan: 'Scannez ce code QR pour associer un appareil !',
      e2e: 'Les messages et les appels sont chiffrés de bout en bout. Seules les personnes qui participent à cette discussion peuvent les lire, les écouter ou les partager.',
      chatError: "Impossible d'ouvrir la discussion. Vérifiez votre connexion et réessayez.",
      photos: 'Photos et vidéos', document: 'Document', sticker: 'Nouveau sticker', voice: 'Message vocal',
      unread: (n) => `${n} message${n === 1 ? ' non lu' : 's non lus'}`, chatList: 'Liste des discussions',
      close: 'Fermer', search: 'Zone de texte de recherche', chats: 'Discussions',
      offline: 'Ordinateur non connecté', offlineSub: "Assurez-vous que votre ordinateur dispose d'une connexion Internet active.",
      youSelf: 'Vous', ack: { pending: ' En attente ', sent: ' Envoyé ', delivered: ' Distribué ', read: ' Lu ', failed: ' Non envoyé ' },
      newChats: 'Vous ne pouvez pas envoyer de messages à de nouvelles personnes pour le moment.',
      newChatsIn: (n) => `Vous pourrez de nouveau leur écrire dans ${n} heure${n === 1 ? '' : 's'}.`,
      newChatsLater: 'Vous pourrez de nouveau leur écrire plus tard.',
      restricted: 'Votre compte est restreint.',
      restrictedUntil: (t, day) => `Vous ne pouvez pas envoyer de messages jusqu'${day ? 'au ' + day + ' à' : 'à'} ${t}.`,
      banned: "Ce compte n'est pas autorisé à utiliser WhatsApp",
      bannedBody: "Votre numéro de téléphone est banni de WhatsApp. Contactez l'assistance pour obtenir de l'aide.",
      learnMore: 'En savoir plus',
      unanswered: (n, cap) => `Vous avez envoyé ${n} messages sur ${cap} à des personnes qui n'ont pas répondu ce mois-ci`,
    },
  };
  function pickLang(wanted) {
    const candidates = wanted && wanted !== 'auto' ? [wanted] : (navigator.languages || [navigator.language || 'en-US']);
    for (const c of candidates) {
      if (STRINGS[c]) return c;
      const prefix = String(c).split('-')[0];
      const hit = Object.keys(STRINGS).find((k) => k.startsWith(prefix + '-'));
      if (hit) return hit;
    }
    return 'en-US';
  }
  const LANG = pickLang(CFG.lang);
  const T = Object.assign({}, STRINGS['en-US'], STRINGS[LANG]);
  document.documentElement.lang = LANG;

  const pad = (n) => String(n).padStart(2, '0');
  /* Bubble times as WhatsApp Web writes them in each language. en-US is 12-hour; the
   * 2026 generation puts a narrow no-break space before AM/PM, as Chrome's ICU does. */
  function fmtTime(d) {
    const hh = d.getHours(), mm = pad(d.getMinutes());
    if (LANG === 'en-US') return `${hh % 12 || 12}:${mm}${NEW ? '\u202f' : ' '}${hh < 12 ? 'AM' : 'PM'}`;
    if (LANG === 'es-ES') return `${hh}:${mm}`;
    return `${pad(hh)}:${mm}`;
  }
  function fmtDate(d) {
    const D = d.getDate(), M = d.getMonth() + 1, Y = d.getFullYear();
    if (LANG === 'en-US') return `${M}/${D}/${Y}`;
    if (LANG === 'de-DE') return `${pad(D)}.${pad(M)}.${Y}`;
    if (LANG === 'es-ES') return `${D}/${M}/${Y}`;
    return `${pad(D)}/${pad(M)}/${Y}`;
  }
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const prePlain = (at, who) => {
    const d = new Date(at * 1000);
    // The "words" date style (a fault): "Nov 30, 2026", which no numeric pattern reads.
    const date = state && state.settings && state.settings.date_style === 'words'
      ? `${MONTHS[d.getMonth()]} ${d.getDate()}, ${d.getFullYear()}` : fmtDate(d);
    return `[${fmtTime(d)}, ${date}] ${who}: `;
  };

  // ------------------------------------------------------------------ state

  const app = document.getElementById('app');
  let view = 'startup';        // startup | landing | usehere | app
  let state = null;            // last /__sim__/app/state answer (this device)
  let pendingSend = null;      // {phone, text} from a /send?phone= page load
  let chatsVersion = -1;
  let shownAccount = null;     // own number of the account the app is drawn for
  let openToken = 0;
  let currentPhone = null;     // "+DIGITS" of the open chat
  let chat = null;             // the open chat: {phone, name, history (all known), shown (count)}
  let chatItems = new Map();   // phone -> its row in the chat list
  let chatNodes = new Map();   // phone -> {node: the row with its wrappers, key: what it shows}
  const watching = new Set();  // ids of bubbles queued while the phone is offline
  const outbox = [];           // sends that got no answer (this computer offline): sent again later
  let failedPolls = 0;

  const ICONS = {
    'msg-time': '<svg viewBox="0 0 16 15" width="16" height="15"><path fill="currentColor" d="M9.75 7.713H8.244V5.359a.5.5 0 0 0-.5-.5H7.65a.5.5 0 0 0-.5.5v2.947a.5.5 0 0 0 .5.5h.094l.003-.001.003.002h2a.5.5 0 0 0 .5-.5v-.094a.5.5 0 0 0-.5-.5zm0-5.263h-3.5c-1.82 0-3.3 1.48-3.3 3.3v3.5c0 1.82 1.48 3.3 3.3 3.3h3.5c1.82 0 3.3-1.48 3.3-3.3v-3.5c0-1.82-1.48-3.3-3.3-3.3zm2 6.8a2 2 0 0 1-2 2h-3.5a2 2 0 0 1-2-2v-3.5a2 2 0 0 1 2-2h3.5a2 2 0 0 1 2 2v3.5z"/></svg>',
    'msg-check': '<svg viewBox="0 0 12 11" width="12" height="11"><path fill="currentColor" d="M11.1 2.3 10.4 1.8a.4.4 0 0 0-.5.1L4.3 8.9 1.8 6.5a.4.4 0 0 0-.5 0l-.6.6a.4.4 0 0 0 0 .5l3.2 3.1c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4z"/></svg>',
    'msg-dblcheck': '<svg viewBox="0 0 16 11" width="16" height="11"><path fill="currentColor" d="M11.1 2.3 10.4 1.8a.4.4 0 0 0-.5.1L4.3 8.9 1.8 6.5a.4.4 0 0 0-.5 0l-.6.6a.4.4 0 0 0 0 .5l3.2 3.1c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4zm4 0-.7-.5a.4.4 0 0 0-.5.1L8.3 8.9l-.8-.8-.9 1.1 1.4 1.4c.2.2.4.1.5 0l6.7-8a.4.4 0 0 0 0-.4z"/></svg>',
    'send': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M1.1 21.8 23 12 1.1 2.2 1.1 9.8 16.8 12 1.1 14.2z"/></svg>',
    'wds-ic-send-filled': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M3.4 20.4 20.9 12.9a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.1L3.7 11 13 12l-9.3 1-1.7 6.3a1 1 0 0 0 1.4 1.1z"/></svg>',
    'plus-rounded': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M11 13H5v-2h6V5h2v6h6v2h-6v6h-2z"/></svg>',
    'mic-outlined': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z"/></svg>',
    'alert-computer': '<svg viewBox="0 0 48 48" width="40" height="40"><circle cx="24" cy="24" r="24" fill="#ffd279"/><rect x="12" y="14" width="24" height="16" rx="2" fill="#fff"/><rect x="20" y="32" width="8" height="2" fill="#fff"/></svg>',
    'alert-phone': '<svg viewBox="0 0 48 48" width="40" height="40"><circle cx="24" cy="24" r="24" fill="#ffd279"/><rect x="17" y="11" width="14" height="26" rx="2" fill="#fff"/><rect x="23" y="31" width="2" height="2" fill="#ffd279"/></svg>',
    'document': '<svg viewBox="0 0 24 24" width="26" height="26"><path fill="currentColor" d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5z"/></svg>',
    'media': '<svg viewBox="0 0 24 24" width="22" height="22"><path fill="currentColor" d="M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5z"/></svg>',
    'x': '<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z"/></svg>',
    'msg-error': '<svg viewBox="0 0 16 16" width="16" height="16"><circle cx="8" cy="8" r="7" fill="currentColor"/><rect x="7.2" y="3.6" width="1.6" height="5.8" rx=".8" fill="#fff"/><circle cx="8" cy="11.6" r=".95" fill="#fff"/></svg>',
    'alert-limit': '<svg viewBox="0 0 48 48" width="40" height="40"><circle cx="24" cy="24" r="24" fill="#f15c6d"/><rect x="22" y="11" width="4" height="17" rx="2" fill="#fff"/><circle cx="24" cy="35" r="2.6" fill="#fff"/></svg>',
    'lock-small': '<svg viewBox="0 0 10 12" width="10" height="12"><path fill="currentColor" d="M5 1a3 3 0 0 0-3 3v1H1v6h8V5H8V4a3 3 0 0 0-3-3zm0 1.2A1.8 1.8 0 0 1 6.8 4v1H3.2V4A1.8 1.8 0 0 1 5 2.2z"/></svg>',
  };
  // A message's status: its icon and its label (2026: in the page's language; 2024: English).
  // "failed": the failure mark (WhatsApp refused the message: account limits, or the fail_* faults).
  const ACK_ICON = { pending: 'msg-time', sent: 'msg-check', delivered: 'msg-dblcheck', read: 'msg-dblcheck', failed: 'msg-error' };
  const ACK_RANK = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 9 };
  const ackLabel = (st) => (NEW ? T.ack : STRINGS['en-US'].ack)[st];
  // A 1x1 transparent GIF: the real page draws emoji from a sprite; only the alt matters here.
  const EMOJI_SRC = 'data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==';

  // ------------------------------------------------------------------ helpers

  function h(tag, attrs, ...children) {
    let hooks = null;
    if (M) ({ tag, attrs, hooks } = buildSpec(tag, attrs || {}));
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false || k[0] === '_') continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'html') el.innerHTML = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    if (hooks) for (const c of hooks) el.classList.add(c);
    for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
    return el;
  }
  function icon(name, extra) {
    return h('span', Object.assign({ 'data-icon': name, html: ICONS[name] || '' }, extra || {}));
  }
  // ------------------------------------------------------------------ this device's id (IndexedDB)
  let deviceId = null;
  function idb(mode, fn) {
    return new Promise((resolve) => {
      let req;
      try { req = indexedDB.open('wa-sim', 1); } catch (e) { resolve(null); return; }
      req.onupgradeneeded = () => req.result.createObjectStore('kv');
      req.onerror = () => resolve(null);
      req.onsuccess = () => {
        const db = req.result;
        const tx = db.transaction('kv', mode);
        const out = fn(tx.objectStore('kv'));
        tx.oncomplete = () => { db.close(); resolve(out && 'result' in out ? out.result : null); };
        tx.onerror = () => { db.close(); resolve(null); };
      };
    });
  }
  function keepSelfContact(id, pushname) {
    const write = (db) => {
      try {
        const tx = db.transaction('contact', 'readwrite');
        tx.objectStore('contact').put({ id, pushname, isMe: true });
        tx.oncomplete = () => db.close();
        tx.onerror = () => db.close();
      } catch (e) { db.close(); }
    };
    const open = (version) => {
      let req;
      try { req = version ? indexedDB.open('model-storage', version) : indexedDB.open('model-storage'); } catch (e) { return; }
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains('contact')) req.result.createObjectStore('contact', { keyPath: 'id' });
      };
      req.onsuccess = () => {
        const db = req.result;
        if (db.objectStoreNames.contains('contact')) { write(db); return; }
        const next = db.version + 1;
        db.close();
        open(next);
      };
    };
    open(null);
  }
  const loadDevice = async () => { deviceId = (await idb('readonly', (st) => st.get('device'))) || null; };
  function keepDevice(id) {
    if (id && id !== deviceId) {
      deviceId = id;
      idb('readwrite', (st) => { st.put(id, 'device'); });
    }
  }
  const withDevice = (headers) => Object.assign(headers || {}, deviceId ? { 'X-WA-Sim-Device': deviceId } : {});

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store', headers: withDevice() });
    return r.json();
  }
  async function postJSON(url, body) {
    const r = await fetch(url, {
      method: 'POST', headers: withDevice({ 'Content-Type': 'application/json' }), body: JSON.stringify(body || {}),
    });
    return r.json();
  }
  const timeOf = (at) => fmtTime(new Date(at * 1000));
  function newId() {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    return '3EB0' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  }
  const digitsOf = (p) => String(p || '').replace(/\D/g, '');
  const dataId = (phone, id, incoming) => `${incoming ? 'false' : 'true'}_${digitsOf(phone)}@c.us_${id}`;
  function fmtSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }
  const enterSends = () => !(state && state.settings && state.settings.enter_sends === false);

  // Emoji are whole grapheme clusters (ZWJ sequences, skin tones, flags).
  const SEGMENTER = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const EMOJI_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
  function emojiImg(g) {
    return h('img', { class: 'emoji', alt: g, 'data-plain-text': g, draggable: 'false', src: EMOJI_SRC });
  }
  /* Text as the 2026 page draws it: emoji as <img>, the rest as text nodes. */
  function emojiNodes(text) {
    const out = [];
    let run = '';
    for (const { segment } of SEGMENTER.segment(text)) {
      if (EMOJI_RE.test(segment)) {
        if (run) { out.push(document.createTextNode(run)); run = ''; }
        out.push(emojiImg(segment));
      } else {
        run += segment;
      }
    }
    if (run) out.push(document.createTextNode(run));
    return out;
  }
  const URL_RE = /(https?:\/\/[^\s<]+[^\s<.,;:!?)\]'"]|www\.[^\s<]+[^\s<.,;:!?)\]'"])/g;
  function linkNodes(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(URL_RE)) {
      if (m.index > last) out.push(...emojiNodes(text.slice(last, m.index)));
      const href = m[0].startsWith('www.') ? 'http://' + m[0] : m[0];
      out.push(h('a', { href, title: href, target: '_blank', rel: 'noopener noreferrer', class: 'link' }, m[0]));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(...emojiNodes(text.slice(last)));
    return out;
  }
  /* WhatsApp's formatting: *bold*, _italic_, ~strike~, ```mono```; the markers are consumed. */
  const FORMATS = [['```', 'code'], ['*', 'strong'], ['_', 'em'], ['~', 'del']];
  const reEsc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const FORMAT_RES = FORMATS.map(([mk, tag]) => [mk, tag, new RegExp(
    `(^|[\\s.,;:!?(\\[{"'])${reEsc(mk)}(?=\\S)([^\\n]*?\\S)${reEsc(mk)}(?=$|[\\s.,;:!?)\\]}"'])`, 'u')]);
  function formatNodes(text) {
    let best = null;
    for (const [mk, tag, re] of FORMAT_RES) {
      const m = re.exec(text);
      if (m && (best === null || m.index + m[1].length < best.start)) best = { m, mk, tag, start: m.index + m[1].length };
    }
    if (!best) return linkNodes(text);
    const { m, mk, tag, start } = best;
    const end = start + mk.length * 2 + m[2].length;
    const inner = tag === 'code' ? [document.createTextNode(m[2])] : formatNodes(m[2]);
    return [...linkNodes(text.slice(0, start)), h(tag, { class: 'fmt' }, inner), ...formatNodes(text.slice(end))];
  }
  /* WhatsApp's line formats (2024): "- " or "* " bulleted, "1. " numbered, "> " quoted lines
   * are drawn as list items and quotes, their marks gone (a block ends its line by itself). */
  const LINE_FORMATS = [[/^[-*] +/, 'ul'], [/^\d{1,2}\. +/, 'ol'], [/^> +/, 'blockquote']];
  function fillRich(el, text) {
    let group = null, groupTag = null;
    String(text).split('\n').forEach((line, i) => {
      const format = LINE_FORMATS.find(([re]) => re.test(line));
      if (format) {
        const [re, tag] = format;
        if (!group || groupTag !== tag) { group = h(tag); groupTag = tag; el.append(group); }
        group.append(h(tag === 'blockquote' ? 'div' : 'li', {}, ...formatNodes(line.replace(re, ''))));
        return;
      }
      if (group) group = null;
      else if (i) el.append(document.createElement('br'));
      if (line) el.append(...formatNodes(line));
    });
  }
  function fillWithBreaks(el, text) {
    String(text).split('\n').forEach((line, i) => {
      if (i) el.append(document.createElement('br'));
      if (line) el.append(document.createTextNode(line));
    });
  }

  /* The text of a contenteditable box as the user sees it, "\n" for line breaks, an
   * emoji image as its character. Walks the DOM instead of using innerText, which
   * counts Chrome's <div><br></div> empty paragraphs as two line breaks. A <br> that
   * is the last child of a block is only a placeholder that keeps an empty line open. */
  const BLOCK = /^(DIV|P|LI|UL|OL|H[1-6]|BLOCKQUOTE|PRE)$/;
  function boxText(box) {
    let out = '';
    let pending = false;
    const flush = () => { if (pending) { out += '\n'; pending = false; } };
    const walk = (node) => {
      for (const c of node.childNodes) {
        if (c.nodeType === Node.TEXT_NODE) {
          if (c.data) { flush(); out += c.data; }
        } else if (c.nodeName === 'IMG') {
          const alt = c.getAttribute('data-plain-text') || c.getAttribute('alt') || '';
          if (alt) { flush(); out += alt; }
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

  /* WhatsApp Web turns some emoticons into emoji as they are typed, in every box, with a
   * space or the edge of the text on both sides ("<3" into a red heart since at least
   * 2019, ":-)" into a smile since 2017; ":D" stays). What was typed is not what is sent. */
  const EMOTICONS = {
    ':-)': '\u{1F642}', ':)': '\u{1F642}', ':-(': '\u{1F641}', ';-)': '\u{1F609}', ':-P': '\u{1F61B}',
    ':-p': '\u{1F61B}', ':-*': '\u{1F618}', '<3': '\u2764\uFE0F', '(y)': '\u{1F44D}', '(Y)': '\u{1F44D}',
    '(n)': '\u{1F44E}', '(N)': '\u{1F44E}',
  };
  const EMOTICON_RE = new RegExp('(^|\\s)(' + Object.keys(EMOTICONS)
    .map((e) => e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') + ')(?=\\s|$)', 'g');
  const emojify = (t) => t.replace(EMOTICON_RE, (m, before, e) => before + EMOTICONS[e]);

  /* A text box. 2024: a plain contenteditable. 2026: a Lexical-like editor that owns
   * its DOM: every change is read back and drawn again as <p> with text spans, emoji
   * images and <br> (so a script that pokes at the DOM sees what the real editor draws).
   * Enter sends (unless "Enter is send" is off), Shift+Enter makes a new line. */
  function textBox(attrs, onSend, onChange) {
    const box = h('div', Object.assign({ contenteditable: 'true', role: 'textbox', spellcheck: 'true' },
      NEW ? { 'data-lexical-editor': 'true', 'aria-multiline': 'true' } : {}, attrs));
    let model = '';
    const changed = () => {
      box.classList.toggle(C('empty'), model.trim() === '');
      if (onChange) onChange();
    };
    const render = () => {
      if (!NEW) return;
      const p = h('p', { class: 'selectable-text copyable-text', dir: 'ltr' });
      String(model).split('\n').forEach((line, i) => {
        if (i) p.append(h('br'));
        if (line) {
          for (const n of emojiNodes(line)) {
            p.append(n.nodeType === Node.TEXT_NODE
              ? h('span', { class: 'selectable-text copyable-text', 'data-lexical-text': 'true' }, n) : n);
          }
        }
      });
      if (model === '' || model.endsWith('\n')) p.append(h('br'));
      box.replaceChildren(p);
      if (document.activeElement === box) caretToEnd(box);
    };
    const api = {
      box,
      text: () => (NEW ? model : boxText(box)),
      set(t) {
        model = t;
        if (NEW) render();
        else { box.textContent = ''; fillWithBreaks(box, t); if (t.endsWith('\n')) box.append(h('br')); }
        changed();
      },
      clear() { api.set(''); },
    };
    box.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.isComposing) return;
      e.preventDefault();
      if (e.shiftKey || !enterSends()) {
        if (NEW) { model += '\n'; render(); changed(); } else document.execCommand('insertLineBreak');
      } else {
        onSend();
      }
    });
    box.addEventListener('paste', (e) => {
      e.preventDefault();
      const t = (e.clipboardData || window.clipboardData).getData('text/plain');
      document.execCommand('insertText', false, t);
    });
    box.addEventListener('input', () => {
      if (NEW) {
        model = emojify(boxText(box));
        render();
      } else {
        const typed = boxText(box);
        if (emojify(typed) !== typed) {
          api.set(emojify(typed));
          if (document.activeElement === box) caretToEnd(box);
          return;
        }
      }
      changed();
    });
    if (!NEW) new MutationObserver(changed).observe(box, { childList: true, subtree: true, characterData: true });
    api.set('');
    return api;
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
    await loadDevice();
    for (;;) {
      try {
        s = await postJSON('/__sim__/app/qr/start', { lang: LANG });   // a page load gets a fresh QR code
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
      const s = await getJSON('/__sim__/app/state' + q);
      failedPolls = 0;
      updateOffline(false);
      apply(s);
      flushOutbox();
    } catch (e) {
      // No answer: after two in a row the page says the computer is offline, as WhatsApp does.
      failedPolls += 1;
      if (failedPolls >= 2) updateOffline(true);
    }
    setTimeout(poll, pollMs());
  }

  function updateOffline(offline) {
    const slot = Q('.banner-slot');
    if (!slot) return;
    const banner = Q('.alert-computer', slot);
    if (offline && !banner) {
      slot.prepend(NEW
        ? h('div', { class: 'alert-computer' },
          h('div', {}, h('div', { class: 'alert-title', text: T.offline }), h('div', { class: 'alert-sub', text: T.offlineSub })))
        : h('div', { class: 'alert-computer', 'data-testid': 'alert-computer', role: 'alert' },
          icon('alert-computer'),
          h('div', {},
            h('div', { class: 'alert-title', text: 'Computer not connected' }),
            h('div', { class: 'alert-sub', text: 'Make sure your computer has an active Internet connection.' }))));
    } else if (!offline && banner) {
      banner.remove();
    }
  }

  /* Sends that got no answer go again, with the same id (the server knows a repeat). */
  async function flushOutbox() {
    while (outbox.length) {
      const job = outbox[0];
      let r;
      try {
        r = await postSend(job);
      } catch (e) {
        return;
      }
      outbox.shift();
      if (r.status !== 'lost') applyAck(r.id || job.id, r);
    }
  }

  /* The server serves another build (mutate changed): reload into it, as WhatsApp Web does
   * after an update, without asking "Leave site?". */
  function buildChanged(s) {
    const want = (s && s.settings && s.settings.mutate) || null;
    if (want === BUILD) return false;
    if (!reloadingForBuild) {
      reloadingForBuild = true;
      location.reload();
    }
    return true;
  }

  function apply(s) {
    if (buildChanged(s)) return;
    state = s;
    if (s.device) keepDevice(s.device);
    if (!s.logged_in) {
      if (view !== 'landing') renderLanding();
      updateQR(s.qr);
      return;
    }
    if (s.limits && s.limits.banned) {
      if (view !== 'banned') renderBanned();
      return;
    }
    if (s.use_here) {
      if (view !== 'usehere') renderUseHere();
      return;
    }
    // A device re-linked to another account (e.g. the legacy login took it over) redraws.
    if (view !== 'app' || s.own_number !== shownAccount) {
      renderApp();
      if (pendingSend) {
        const p = pendingSend;
        pendingSend = null;
        openChat(p.phone, p.text, 'url');
      }
    }
    updateBanner(s.phone_connected);
    updateLimitBanners(s.limits);
    updateFooter();
    if (s.chats_version !== chatsVersion) {
      refreshChats();
      refreshOpenChat();
    }
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
    chat = null;
    watching.clear();
    app.textContent = '';
    const demo = state && state.demo;
    const canvas = h('canvas', { 'aria-label': NEW ? T.scan : 'Scan me!', role: 'img', width: 264, height: 264 });
    // 2024: div[data-ref] around the canvas. 2026: the canvas's parent carries data-ref
    // but is no div, and the reload button sits beside it.
    const qr = NEW
      ? h('div', { class: 'qr-frame' }, h('span', { class: 'qr', 'data-ref': '' }, canvas))
      : h('div', { class: 'qr', 'data-ref': '' }, canvas);
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
            : 'Simulator: scan this code with POST /__sim__/scan {"ref", "number"}, or:' }),
          h('button', { class: 'sim-login', type: 'button', text: 'Simulate scanning the QR code (log in)',
            onclick: async () => apply(await postJSON('/__sim__/app/scan')) })),
        h('div', { class: 'qr-box' }, qr))));
  }

  function updateQR(qr) {
    const holder = document.querySelector('[data-ref]');
    if (!holder || !qr) return;
    if (holder.getAttribute('data-ref') !== qr.ref) {
      holder.setAttribute('data-ref', qr.ref);
      drawQR(holder.querySelector('canvas'), qr.ref);
    }
    const frame = NEW ? holder.parentNode : holder;
    const btn = Q('.qr-reload', frame);
    if (qr.expired && !btn) {
      holder.classList.add(C('expired'));
      const reload = async () => apply(await postJSON('/__sim__/app/qr/start'));
      frame.append(NEW
        ? h('button', { class: 'qr-reload', type: 'button', 'aria-label': T.reload, onclick: reload },
          h('div', { text: T.reload }))
        : h('button', { class: 'qr-reload', type: 'button', text: 'Click to reload QR code', onclick: reload }));
    } else if (!qr.expired && btn) {
      holder.classList.remove(C('expired'));
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
      postJSON('/__sim__/app/scan').then(apply);
    } else if (view === 'app' && e.key === 'Escape' && !Q('.modal-slot > *')) {
      const preview = byId('media-preview');
      if (preview) preview.remove();
      else closeChat();
    }
  });

  // ------------------------------------------------------------------ dialogs

  /* 2024: the popup itself is the dialog. 2026: div[role=dialog] > div[data-animate-modal-popup]
   * and the button's label is wrapped in divs. */
  function dialog(body, buttonText, onclick) {
    const label = NEW ? h('div', {}, h('div', { text: buttonText })) : buttonText;
    const button = h('button', { class: 'btn-primary', type: 'button', onclick }, label);
    const popup = h('div', Object.assign({ class: 'popup', 'data-animate-modal-popup': 'true' }, NEW ? {} : { role: 'dialog' }),
      h('div', { class: 'popup-body', text: body }),
      h('div', { class: 'popup-buttons' }, button));
    return h('div', { class: 'overlay' }, NEW ? h('div', { role: 'dialog', class: 'dialog' }, popup) : popup);
  }

  function renderUseHere() {
    view = 'usehere';
    currentPhone = null;
    chat = null;
    watching.clear();
    app.textContent = '';
    app.append(dialog(NEW ? T.useHereBody : 'WhatsApp is open in another window. Click "Use here" to use WhatsApp in this window.',
      NEW ? T.useHere : 'Use here', async () => apply(await postJSON('/__sim__/app/use_here'))));
  }

  // ------------------------------------------------------------------ the app

  function renderApp() {
    view = 'app';
    shownAccount = state ? state.own_number : null;
    // WhatsApp Web keeps the account's own id in localStorage ("last-wid-md").
    try {
      if (shownAccount) localStorage.setItem('last-wid-md', JSON.stringify(`${digitsOf(shownAccount)}:12@c.us`));
    } catch (e) { /* storage off: no own number */ }
    // ... and the contacts it knows, itself among them with its profile name ("pushname"),
    // in IndexedDB "model-storage", store "contact" (as automation tools read it).
    if (shownAccount && state && state.own_name) keepSelfContact(`${digitsOf(shownAccount)}@c.us`, state.own_name);
    currentPhone = null;
    chat = null;
    chatsVersion = -1;
    watching.clear();
    msgRefs = new Map();
    chatItems = new Map();
    chatNodes = new Map();
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
    // 2026: the chat search is itself a contenteditable textbox (a trap for loose selectors).
    const search = NEW
      ? h('div', { class: 'search' }, h('div', { contenteditable: 'true', role: 'textbox', 'data-tab': '3',
        'data-lexical-editor': 'true', 'aria-label': T.search, class: 'search-box' }))
      : null;
    app.append(h('div', { class: 'app-wrapper' },
      h('div', { class: 'app two' },
        h('div', { id: 'side' },
          h('header', { class: 'side-header' },
            h('div', { class: 'avatar me', text: 'Me' }),
            h('span', { class: 'side-title', text: NEW ? T.chats : 'Chats' })),
          h('div', { class: 'banner-slot' }),
          search,
          h('div', { class: 'new-chat' }, newChat),
          h('div', { id: 'pane-side', role: 'grid', 'aria-label': NEW ? T.chatList : 'Chat list' },
            h('div', { class: 'chat-list', role: NEW ? 'rowgroup' : 'list' }))),
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
    const slot = Q('.banner-slot');
    if (!slot) return;
    const banner = Q('.alert-phone', slot);
    if (!connected && !banner) {
      // 2024: a test id and an icon. 2026: text only.
      slot.append(NEW
        ? h('div', { class: 'alert-phone' },
          h('div', {}, h('div', { class: 'alert-title', text: T.reach }), h('div', { class: 'alert-sub', text: T.reachSub })))
        : h('div', { class: 'alert-phone', 'data-testid': 'alert-phone', role: 'alert' },
          icon('alert-phone'),
          h('div', {},
            h('div', { class: 'alert-title', text: 'Phone not connected' }),
            h('div', { class: 'alert-sub', text: 'Make sure your phone has an active internet connection.' }))));
    } else if (connected && banner) {
      banner.remove();
    }
  }

  /* The chat list, redrawn row by row as React redraws WhatsApp's: a row whose contents
   * changed is drawn anew, the others stay (and keep what a script put on them); rows move
   * into the order the server gives. Rebuilding every row at each message made the page's
   * own work grow with the number of chats (bench/README.md, "The simulator's chat list"). */
  async function refreshChats() {
    let data;
    try { data = await getJSON('/__sim__/app/chats'); } catch (e) { return; }
    const list = Q('#pane-side .chat-list');
    if (!list) return;
    chatsVersion = data.version;
    const R = M && M.rows;
    // Builds: the chat rows' role changed or dropped, extra divs around them.
    const chatRole = R ? { _role: { option: 'option', none: null, swap: NEW ? 'listitem' : 'row' }[R.chat_role] } : {};
    const items = new Map();
    const nodes = new Map();
    const order = [];
    for (const c of data.chats) {
      const d = new Date(c.last_at * 1000);
      const title = c.self ? selfTitle(c.name) : (c.name || c.phone);
      const preview = c.last_text.split('\n')[0];
      const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      const key = JSON.stringify([title, preview, time, c.unread, c.phone === currentPhone]);
      const had = chatNodes.get(c.phone);
      if (had && had.key === key && had.node.parentNode === list) {
        items.set(c.phone, chatItems.get(c.phone));
        nodes.set(c.phone, had);
        order.push(had.node);
        continue;
      }
      // The unread count: a badge whose label says it in words (2026: inside a gridcell).
      const badge = c.unread
        ? h('span', { class: 'unread-badge', 'aria-label': T.unread(c.unread), text: String(c.unread) })
        : null;
      const last = h('div', { class: 'chat-last' }, h('span', { dir: 'ltr', title: preview, text: preview }),
        badge && !NEW ? badge : null,
        badge && NEW ? h('div', { role: 'gridcell', class: 'badge-cell' }, badge) : null);
      const item = h('div', Object.assign({
        class: cx('chat-item', c.phone === currentPhone && 'active', c.unread && 'unread'),
        role: NEW ? 'row' : 'listitem', 'data-phone': c.phone, tabindex: '-1',
        onclick: () => openChat(c.phone, '', 'in_app'),
      }, chatRole),
        h('div', { class: 'avatar' }),
        h('div', { class: 'chat-info' },
          h('div', { class: 'chat-row' },
            h('span', { class: 'chat-name', dir: 'auto', title, text: title }),
            h('span', { class: 'chat-time', text: time })),
          last));
      let node = item;
      for (let i = 0; R && i < R.chat_outer; i++) node = h('div', {}, node);
      items.set(c.phone, item);
      nodes.set(c.phone, { node, key });
      order.push(node);
    }
    // Into the server's order: a chat with a new message moves up with one move.
    const kept = new Set(order);
    for (const old of Array.from(list.children)) if (!kept.has(old)) old.remove();
    order.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    chatItems = items;
    chatNodes = nodes;
  }

  /* New messages of the open chat (a contact's reply) appear without reopening it. */
  async function refreshOpenChat() {
    if (!chat) return;
    const phone = chat.phone;
    let data;
    try { data = await postJSON('/__sim__/app/history', { phone }); } catch (e) { return; }
    if (!chat || chat.phone !== phone) return;
    const rows = Q('#main .messages');
    for (const m of data.history) {
      if (chat.history.some((x) => x.id === m.id)) continue;
      chat.history.push(m);
      chat.shown += 1;
      if (rows) rows.append(m.incoming ? incomingBubble(m) : bubble(m));
      if (!m.incoming) scheduleAck(m);
    }
    updateFooter();   // a reply gives the chat a history
    scrollDown();
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
    if (!link) {
      if (a.closest('#main')) e.preventDefault();   // links in bubbles never leave the simulator
      return;
    }
    e.preventDefault();
    if (view === 'app') openChat(link.phone, link.text, 'in_app');
  }, true);

  function closeChat() {
    currentPhone = null;
    chat = null;
    watching.clear();
    const slot = byId('main-slot');
    if (slot) slot.replaceChildren(intro());
    for (const el of QA('#pane-side .chat-item.active')) el.classList.remove(C('active'));
  }
  function closeModals() {
    const m = Q('.modal-slot');
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
    else if (r.failed || r.error) showToast(NEW ? T.chatError : (r.error || 'Could not open the chat.'));
    else {
      if (r.limits && state) state.limits = r.limits;
      renderChat(r.phone, r.name, r.history, text, r.self);
    }
  }

  function showInvalidPopup() {
    const slot = Q('.modal-slot');
    slot.replaceChildren(dialog(NEW ? T.invalid : 'Phone number shared via url is invalid.', NEW ? T.ok : 'OK', closeModals));
  }

  function showToast(message) {
    const slot = Q('.toast-slot');
    if (!slot) return;
    const t = NEW
      ? h('div', { class: 'toast', role: 'status' }, h('span', { text: message }))
      : h('div', { class: 'toast', role: 'status', 'data-testid': 'toast', text: message });
    slot.replaceChildren(t);
    setTimeout(() => t.remove(), 4000);
  }

  // ------------------------------------------------------------------ the open chat

  function renderChat(phone, name, history, text, self) {
    currentPhone = phone;
    msgRefs = new Map();
    const page = (state && state.settings && state.settings.history_page) || 30;
    chat = { phone, name, self: !!self, history: history.slice(), shown: Math.min(history.length, page) };
    const slot = byId('main-slot');
    const rows = h('div', { class: 'messages', role: 'application' });
    const sendSlot = h('div', { class: 'send-slot' });
    let hasText = null;
    let compose = null;
    const updateSendSlot = () => {
      const now = compose !== null && compose.text().trim() !== '';
      if (now === hasText) return;
      hasText = now;
      sendSlot.replaceChildren(now ? sendControl(() => send()) : micControl());
    };
    // What is typed (GET /__sim__/typing): each change of the box's text, with its length, since the
    // chat opened or since the last send; it goes with the next send. Only this box, only while open.
    let typed = [];
    let lastTyped = '';
    const noteTyping = () => {
      if (compose === null) return;
      const now = compose.text();
      if (now === lastTyped) return;
      lastTyped = now;
      typed.push({ at: Date.now() / 1000, length: Array.from(now).length });
      if (typed.length > 2000) typed.shift();
    };
    // A link in the box gets its preview above the box a moment later (link_preview_delay),
    // as WhatsApp Web fetches it; the send carries it only if it shows by then.
    let previewHost = null, previewTimer = null, previewPanel = null;
    const dropPreview = () => {
      clearTimeout(previewTimer);
      if (previewPanel) previewPanel.remove();
      previewHost = previewTimer = previewPanel = null;
    };
    const notePreview = () => {
      const host = compose === null ? null : linkHost(compose.text());
      if (host === previewHost) return;
      dropPreview();
      const delay = state && state.settings ? state.settings.link_preview_delay : null;
      if (host === null || delay === null || delay === undefined) return;
      previewHost = host;
      previewTimer = setTimeout(() => {
        previewPanel = linkPreview(host, 'link-preview-panel');
        footer.insertBefore(previewPanel, composeRow);
      }, delay * 1000);
    };
    compose = textBox({
      class: 'compose-box', 'data-tab': '10', 'aria-placeholder': NEW ? T.type : 'Type a message',
      'aria-label': NEW ? T.type : 'Type a message', title: NEW ? null : 'Type a message', tabindex: '10',
    }, () => send(), () => { updateSendSlot(); noteTyping(); notePreview(); });
    updateSendSlot();
    const box = compose.box;
    const attach = h('div', { class: 'attach-wrap' },
      NEW
        ? h('button', { class: 'attach-btn', type: 'button', title: T.attach, 'aria-label': T.attach,
          onclick: () => toggleAttachMenu(attach) }, icon('plus-rounded'))
        : h('div', { class: 'attach-btn', role: 'button', title: 'Attach', 'aria-label': 'Attach', tabindex: '0',
          onclick: () => toggleAttachMenu(attach) }, icon('plus-rounded')));
    // 2026: a sticker file input lives in the footer all the time, before the attach menu's.
    const sticker = NEW ? fileInput('image/webp', 'sticker', null) : null;
    const title = self ? selfTitle(name) : (name || phone);
    const composeRow = h('div', { class: 'compose-row' },
      attach, sticker,
      h('div', { class: 'input-wrap' + (NEW ? ' lexical-rich-text-input' : '') }, box),
      sendSlot);
    const footer = h('footer', { class: 'compose' }, composeRow);
    chat.footer = footer;
    chat.composeRow = composeRow;
    const main = h('div', { id: 'main', 'data-phone': phone },
      h('header', { class: 'main-header' },
        h('div', { class: 'avatar' }),
        h('div', { class: 'main-title' },
          h('span', { dir: 'auto', title, class: 'contact-name', text: title }),
          h('div', { class: 'contact-sub', text: 'click here for contact info' }))),
      h('div', { class: 'conversation', tabindex: '-1', onscroll: (e) => maybeLoadEarlier(e.target) }, rows),
      footer);
    slot.replaceChildren(main);
    drawHistory(rows);

    function send() {
      const t = compose.text().trim();
      if (!t) return;
      const events = typed;
      const withPreview = previewPanel !== null;
      typed = [];
      lastTyped = '';   // the box emptied by the send is no typing
      compose.clear();
      dropPreview();
      sendMessage(phone, t, null, undefined, events, withPreview);
    }
    for (const m of history) if (!m.incoming) scheduleAck(m);
    for (const [p, el] of chatItems) el.classList.toggle(C('active'), p === phone);
    if (text) compose.set(text);
    updateFooter();
    if (box.isConnected) {
      box.focus();
      caretToEnd(box);
    }
    scrollDown();
  }

  // ------------------------------------------------------------------ account limits

  /* The words of the limits: the page's language (2026), English (2024). */
  const limitWords = () => (NEW ? T : STRINGS['en-US']);
  /* A time to come in the page's clock format; its date too when it is not today. */
  function untilText(at, W) {
    const d = new Date(at * 1000);
    const day = d.toDateString() === new Date().toDateString() ? null : fmtDate(d);
    return W.restrictedUntil(fmtTime(d), day);
  }
  const hoursLeft = (until) => Math.max(1, Math.ceil((until - Date.now() / 1000) / 3600));
  /* Does the open chat hold anything but refused sends (a chat with history: never "new")? */
  const chatHasHistory = () => chat.history.some((m) => m.incoming || m.status !== 'failed');

  /* What replaces the open chat's compose bar, or null: the restriction (every chat), or the
   * new-chat limit (chats without history; never "Message yourself"). */
  function chatBlock() {
    const L = state && state.limits;
    if (!chat || !L) return null;
    const W = limitWords();
    if (L.restricted_until) return { kind: 'restricted', text: `${W.restricted} ${untilText(L.restricted_until, W)}` };
    if (L.new_chats && !chat.self && !chatHasHistory()) {
      const u = L.new_chats.until;
      return { kind: 'new-chats', text: `${W.newChats} ${u ? W.newChatsIn(hoursLeft(u)) : W.newChatsLater}` };
    }
    return null;
  }
  /* 2024: role=status, a test id and an icon. 2026: text only. In #main footer, instead of the
   * compose bar: no compose box, no send control, no attach. */
  function blockedNotice(block) {
    const text = h('span', { class: 'blocked-text', dir: 'auto', text: block.text });
    return NEW
      ? h('div', { class: 'compose-blocked' }, text)
      : h('div', { class: 'compose-blocked', role: 'status',
        'data-testid': block.kind === 'restricted' ? 'restricted-notice' : 'new-chat-limit' }, icon('alert-limit'), text);
  }
  function updateFooter() {
    if (!chat || !chat.footer) return;
    const block = chatBlock();
    const key = block ? `${block.kind}|${block.text}` : '';
    if (key === (chat.blockKey || '')) return;
    chat.blockKey = key;
    const attachMenu = Q('.attach-menu', chat.composeRow);
    if (attachMenu) attachMenu.remove();
    chat.footer.replaceChildren(block ? blockedNotice(block) : chat.composeRow);
  }

  /* Banners in the chat list: the restriction, the unanswered-messages counter. 2024: role=alert,
   * a test id and an icon; 2026: text only. */
  function updateLimitBanners(L) {
    const slot = Q('.banner-slot');
    if (!slot) return;
    const W = limitWords();
    setBanner(slot, 'alert-restricted', L && L.restricted_until ? [W.restricted, untilText(L.restricted_until, W)] : null);
    setBanner(slot, 'alert-unanswered', L && L.unanswered ? [W.unanswered(L.unanswered.count, L.unanswered.cap)] : null);
  }
  const bannerKeys = new WeakMap();
  function setBanner(slot, cls, lines) {
    const old = Q('.' + cls, slot);
    const key = lines ? lines.join('\n') : '';
    if (old && bannerKeys.get(old) === key) return;
    if (!lines) { if (old) old.remove(); return; }
    const body = h('div', {}, h('div', { class: 'alert-title', text: lines[0] }),
      lines[1] ? h('div', { class: 'alert-sub', text: lines[1] }) : null);
    const el = NEW ? h('div', { class: cls }, body)
      : h('div', { class: cls, 'data-testid': cls, role: 'alert' }, icon('alert-limit'), body);
    bannerKeys.set(el, key);
    if (old) old.replaceWith(el);
    else slot.append(el);
  }

  /* Banned: this screen instead of the app (no #side, no chat list, no QR code). Its button
   * leads nowhere (the simulator never leaves 127.0.0.1). */
  function renderBanned() {
    view = 'banned';
    currentPhone = null;
    chat = null;
    watching.clear();
    app.textContent = '';
    const W = limitWords();
    const button = NEW
      ? h('div', { class: 'ban-btn', role: 'button', tabindex: '0', text: W.learnMore })
      : h('button', { class: 'ban-btn', type: 'button', text: W.contactSupport });
    app.append(h('div', Object.assign({ class: 'ban-screen' }, NEW ? {} : { 'data-testid': 'account-banned' }),
      h('div', { class: 'ban-card' },
        NEW ? null : icon('alert-limit'),
        h('h1', { class: 'ban-title', text: W.banned }),
        h('p', { class: 'ban-body', text: W.bannedBody }),
        button)));
  }

  function sendControl(onclick) {
    return NEW
      ? h('div', { class: 'send-btn', role: 'button', tabindex: '0', 'aria-label': T.send,
        onmousedown: (e) => e.preventDefault(), onclick }, icon('wds-ic-send-filled'))
      : h('button', { class: 'send-btn', type: 'button', 'aria-label': 'Send', 'data-tab': '11',
        onmousedown: (e) => e.preventDefault(), onclick }, icon('send'));
  }
  function micControl() {
    return h('button', { class: 'mic-btn', type: 'button', 'aria-label': NEW ? T.voice : 'Voice message', tabindex: '-1' },
      icon('mic-outlined'));
  }

  /* The last `shown` messages of the chat; the end-to-end notice once the whole history is shown. */
  function drawHistory(rows) {
    const start = chat.history.length - chat.shown;
    const nodes = [];
    if (start === 0) {
      nodes.push(makeRow({ role: 'row', class: 'system-row' },
        h('div', { class: 'e2e' }, icon('lock-small'), h('span', { text: NEW ? T.e2e : STRINGS['en-US'].e2e })), 'sys').node);
    }
    for (const m of chat.history.slice(start)) nodes.push(m.incoming ? incomingBubble(m) : bubble(m));
    rows.replaceChildren(...nodes);
  }

  /* Scrolled to the top: the next older page arrives a moment later, as on the real page. */
  function maybeLoadEarlier(scroller) {
    if (!chat || scroller.scrollTop > 0 || chat.shown >= chat.history.length || chat.loading) return;
    chat.loading = true;
    const phone = chat.phone;
    setTimeout(() => {
      if (!chat || chat.phone !== phone) return;
      const page = (state && state.settings && state.settings.history_page) || 30;
      const before = scroller.scrollHeight;
      chat.shown = Math.min(chat.history.length, chat.shown + page);
      chat.loading = false;
      drawHistory(Q('.messages', scroller));
      for (const m of chat.history.slice(chat.history.length - chat.shown)) if (!m.incoming) scheduleAck(m);
      scroller.scrollTop = scroller.scrollHeight - before;
    }, 150);
  }

  function scrollDown() {
    const c = Q('#main .conversation');
    if (c) c.scrollTop = c.scrollHeight;
  }

  /* The text part of a bubble. 2026: rich, and cut behind "Read more" when long. */
  function bubbleText(text, outgoing) {
    // A fault: our own texts drawn as pictures, so no script can read them back.
    if (outgoing && state && state.settings && state.settings.text_style === 'image') {
      const c = h('canvas', { width: 240, height: 18, class: 'text-picture' });
      const g = c.getContext('2d');
      g.font = '13px sans-serif';
      g.fillText(String(text).split('\n')[0], 0, 13);
      return c;
    }
    const inner = h('span');
    const holder = h('span', { class: 'selectable-text copyable-text', dir: 'ltr' }, inner);
    if (!NEW) {
      fillWithBreaks(inner, text);
      return holder;
    }
    const limit = (state && state.settings && state.settings.read_more_chars) || 1000;
    let shown = text.length > limit ? cutAt(text, limit) : text.length;
    const draw = () => {
      inner.replaceChildren();
      fillRich(inner, text.slice(0, shown));
      const old = holder.parentNode && Q('.read-more-button', holder.parentNode);
      if (old) old.remove();
      if (shown < text.length) {
        const more = h('div', { role: 'button', class: 'read-more-button', tabindex: '0', text: T.readMore,
          onclick: () => { shown = Math.min(text.length, cutAt(text, shown + 3 * limit)); draw(); } });
        if (holder.parentNode) holder.after(more);
        else queueMicrotask(() => holder.after(more));
      }
    };
    draw();
    return holder;
  }
  const cutAt = (text, n) => {
    if (n >= text.length) return text.length;
    const space = text.lastIndexOf(' ', n);
    return space > n * 0.8 ? space : n;
  };

  /* Who our own bubbles name in data-pre-plain-text: the word for "You", or (sender_style
   * "name"; "auto": a pt-BR page of the 2026 generation) the account's own profile name. */
  function ownSender() {
    const st = (state && state.settings) || {};
    const style = st.sender_style && st.sender_style !== 'auto' ? st.sender_style
      : (NEW && LANG === 'pt-BR' ? 'name' : 'you');
    if (style === 'name' && state && state.own_name) return state.own_name;
    return NEW ? T.you : 'You';
  }
  /* The chat with the account's own number ("Message yourself"): its name, then "(You)". */
  const selfTitle = (name) => `${name || (state && state.own_name) || ''} (${NEW ? T.youSelf : 'You'})`;

  /* A message's status icon with its label: on the icon (as written), or where the build
   * puts it (a wrapping div, or the icon's svg). {node, iconEl, labelEl, svg, status} */
  function ackNode(st) {
    const where = M && M.labels ? M.labels.status : 'span';
    const cls = cx('ack', st === 'read' && 'read', st === 'failed' && 'failed');
    if (where === 'span') {
      const el = icon(ACK_ICON[st], { 'aria-label': ackLabel(st), class: cls });
      return { node: el, iconEl: el, labelEl: el, svg: false, status: st };
    }
    const el = icon(ACK_ICON[st], { class: cls });
    if (where === 'wrapper') {
      const w = h('div', { 'aria-label': ackLabel(st), _hooks: [M.hooks.flex] }, el);
      return { node: w, iconEl: el, labelEl: w, svg: false, status: st };
    }
    const a = { node: el, iconEl: el, labelEl: null, svg: true, status: st };
    labelSvg(a);
    return a;
  }
  function labelSvg(a) {
    const svg = a.iconEl.querySelector('svg');
    if (svg) svg.setAttribute('aria-label', ackLabel(a.status));
  }
  function setAckNode(a, st) {
    a.status = st;
    setA(a.iconEl, 'data-icon', ACK_ICON[st]);
    if (!a.svg) setA(a.labelEl, 'aria-label', ackLabel(st));
    a.iconEl.innerHTML = ICONS[ACK_ICON[st]];
    if (a.svg) labelSvg(a);
    a.iconEl.classList.toggle(C('read'), st === 'delivered' || st === 'read');
    a.iconEl.classList.toggle(C('failed'), st === 'failed');
  }

  /* A message row. Builds: the row wrapped in extra divs, its role changed or dropped, or no
   * row at all (its content sits in the message list, with the row's attributes).
   * kind: out | in | sys. {node: what goes into the list, row: what carries the row's attributes} */
  function makeRow(attrs, content, kind) {
    const R = M && M.rows;
    if (!R) {
      const row = h('div', attrs, content);
      return { node: row, row };
    }
    let row;
    if (R.row === 'unwrap') {
      for (const [k, v] of Object.entries(attrs)) if (k !== 'role' && k !== 'class' && v != null) setA(content, k, v);
      content.classList.add(M.hooks['align_' + kind]);
      row = content;
    } else {
      row = h('div', Object.assign({}, attrs, { _role: { keep: 'row', listitem: 'listitem', none: null }[R.row] }), content);
    }
    // Divs around an unwrapped bubble lay it out as the message list does (a column).
    let node = row;
    for (let i = 0; i < R.outer; i++) node = h('div', R.row === 'unwrap' ? { _hooks: [M.hooks.column] } : {}, node);
    return { node, row };
  }
  /* Builds: extra divs around a bubble, inside its row. */
  function wrapBubble(b) {
    let node = b;
    for (let i = 0; M && M.rows && i < M.rows.inner; i++) node = h('div', {}, node);
    return node;
  }

  /* The page's references to its outgoing bubbles: id -> {idEl, meta, clock, ack}. */
  let msgRefs = new Map();

  /* An outgoing message. m: {id, phone?, text, attachment, status, at, localUrl?} */
  function bubble(m) {
    const phone = m.phone || currentPhone;
    const st = m.status === 'failed' ? 'failed' : m.status === 'accepted' && m.check_in === 0
      ? (m.dbl_in === 0 ? (m.read_in === 0 ? 'read' : 'delivered') : 'sent') : 'pending';
    const ack = ackNode(st);
    const at = m.at || Date.now() / 1000;
    const clock = h('span', { class: 'msg-clock', text: timeOf(at) });
    if (!NEW) {
      const b = h('div', { class: 'bubble' });
      if (m.attachment) b.append(attachmentCard2024(m));
      if (m.link_preview && linkHost(m.text)) b.append(linkPreview(linkHost(m.text), 'link-card'));
      const meta = h('div', { class: 'copyable-text', 'data-pre-plain-text': prePlain(at, ownSender()) },
        bubbleText(m.text || '', true));
      b.append(meta, h('div', { class: 'meta' }, clock, ack.node));
      const { node, row } = makeRow({ role: 'row', 'data-id': dataId(phone, m.id, false) },
        h('div', { class: 'message-out focusable-list-item' }, wrapBubble(b)), 'out');
      msgRefs.set(m.id, { idEl: row, meta, clock, ack });
      return node;
    }
    const b = h('div', { class: 'bubble out' });
    if (m.attachment) b.append(attachmentCard2026(m));
    if (m.link_preview && linkHost(m.text)) b.append(linkPreview(linkHost(m.text), 'link-card'));
    // Media without a caption has no copyable text: only the meta's time (no date).
    const meta = m.text
      ? h('div', { class: 'copyable-text', 'data-pre-plain-text': prePlain(at, ownSender()) }, bubbleText(m.text, true))
      : null;
    if (meta) b.append(meta);
    b.append(h('div', { class: 'meta' }, clock, ack.node));
    const holder = h('div', { 'data-id': m.id, tabindex: '-1', class: 'msg' }, wrapBubble(b));
    msgRefs.set(m.id, { idEl: holder, meta, clock, ack });
    return makeRow({ role: 'row' }, holder, 'out').node;
  }

  /* A contact's message: no status icon (2026: nothing else tells it apart). */
  function incomingBubble(m) {
    const who = (chat && chat.name) || m.phone || currentPhone;
    const body = h('div', { class: 'copyable-text', 'data-pre-plain-text': prePlain(m.at, who) }, bubbleText(m.text || ''));
    const meta = h('div', { class: 'meta' }, h('span', { class: 'msg-clock', text: timeOf(m.at) }));
    if (!NEW) {
      return makeRow({ role: 'row', class: 'in', 'data-id': dataId(m.phone || currentPhone, m.id, true) },
        h('div', { class: 'message-in focusable-list-item' }, wrapBubble(h('div', { class: 'bubble in' }, body, meta))),
        'in').node;
    }
    return makeRow({ role: 'row', class: 'in' }, h('div', { 'data-id': m.id, tabindex: '-1', class: 'msg' },
      wrapBubble(h('div', { class: 'bubble in' }, body, meta))), 'in').node;
  }

  function attachmentCard2024(m) {
    const a = m.attachment;
    const isImage = m.localUrl && /^image\//.test(a.type || '');
    return h('div', { class: 'attachment', 'data-attachment-name': a.name },
      isImage ? h('img', { src: m.localUrl, alt: a.name, class: 'thumb' }) : icon('document'),
      h('div', { class: 'att-info' },
        h('div', { class: 'att-name', text: a.name }),
        h('div', { class: 'att-size', text: fmtSize(a.size || 0) })));
  }
  /* 2026: an image or video is media (no name anywhere); a document shows its name as text. */
  function attachmentCard2026(m) {
    const a = m.attachment;
    if (a.kind === 'media' || (!a.kind && /^(image|video)\//.test(a.type || ''))) {
      return h('div', { class: 'media', role: 'button' },
        h('img', { src: m.localUrl || EMOJI_SRC, alt: '', class: 'thumb', draggable: 'false' }));
    }
    return h('div', { class: 'doc', role: 'button' }, icon('document'),
      h('div', { class: 'att-info' },
        h('span', { class: 'doc-name', dir: 'auto', text: a.name }),
        h('div', { class: 'att-size', text: fmtSize(a.size || 0) })));
  }

  /* A bubble's status moves on (sent, delivered, read), never back. */
  function setAck(id, st) {
    const ref = msgRefs.get(id);
    if (!ref || ACK_RANK[st] <= ACK_RANK[ref.ack.status]) return;
    setAckNode(ref.ack, st);
  }
  function scheduleAck(v) {
    if (v.status === 'queued') { watching.add(v.id); return; }
    if (v.status === 'failed') { setAck(v.id, 'failed'); return; }   // refused: the failure mark
    if (v.status !== 'accepted') return;
    const later = (secs, st) => {
      if (secs === 0) setAck(v.id, st);
      else setTimeout(() => setAck(v.id, st), secs * 1000);
    };
    later(v.check_in, 'sent');
    later(v.dbl_in, 'delivered');
    if (v.read_in !== null && v.read_in !== undefined) later(v.read_in, 'read');
  }
  /* The server's answer about one message: update its time and schedule its ticks. */
  function applyAck(id, v) {
    const ref = msgRefs.get(id);
    if (ref && v.at) {
      if (ref.meta) ref.meta.setAttribute('data-pre-plain-text', prePlain(v.at, ownSender()));
      ref.clock.textContent = timeOf(v.at);
    }
    if (chat) {
      const known = chat.history.find((x) => x.id === id);
      if (known) Object.assign(known, v);
    }
    scheduleAck(v);
  }

  /* The host of the first link of a text (what WhatsApp previews), without "www."; null without one. */
  function linkHost(text) {
    const m = /(?:https?:\/\/|\bwww\.)([^\s/?#:]+)/i.exec(text || '');
    return m ? m[1].toLowerCase().replace(/^www\./, '').replace(/[.,;!)]+$/, '') : null;
  }
  /* A link's preview: its site's name and host (the box's panel, or the card of a bubble). */
  function linkPreview(host, cls) {
    return h('div', { class: cls },
      h('div', { class: 'link-preview-title', text: host.split('.').slice(-2, -1)[0] || host }),
      h('div', { class: 'link-preview-host', text: host }));
  }

  async function postSend(job) {
    if (job.file) {
      const f = job.file;
      const q = new URLSearchParams({ phone: job.phone, id: job.id, name: f.name, caption: job.text,
        type: f.type || '', kind: job.kind || '' });
      const resp = await fetch('/__sim__/app/send_file?' + q, { method: 'POST', body: f, headers: withDevice() });
      return resp.json();
    }
    return postJSON('/__sim__/app/send',
      { phone: job.phone, id: job.id, text: job.text, typing: job.typing, link_preview: !!job.link_preview });
  }

  /* typing: the compose box's changes before this send ([{at, length}]; GET /__sim__/typing). */
  async function sendMessage(phone, text, file, kind, typing, withPreview) {
    const id = newId();
    const link_preview = !file && !!withPreview;
    const rows = Q('#main .messages');
    const attachment = file ? { name: file.name, size: file.size, type: file.type, kind } : null;
    const localUrl = file && /^image\//.test(file.type) ? URL.createObjectURL(file) : null;
    const local = { id, phone, text, attachment, localUrl, link_preview, status: 'sending', at: Date.now() / 1000 };
    if (chat && chat.phone === phone) { chat.history.push(local); chat.shown += 1; }
    if (rows) rows.append(bubble(local));
    scrollDown();
    let r;
    try {
      r = await postSend({ phone, id, text, file, kind, typing, link_preview });
    } catch (e) {
      outbox.push({ phone, id, text, file, kind, typing, link_preview });   // offline: the clock stays, it goes later
      return;
    }
    if (r.status === 'lost') return;        // the click was lost: the clock stays
    if (r.id && r.id !== id) {
      local.id = r.id;
      const ref = msgRefs.get(id);
      if (ref) {
        setA(ref.idEl, 'data-id', NEW ? r.id : dataId(phone, r.id, false));
        msgRefs.delete(id);
        msgRefs.set(r.id, ref);
      }
    }
    applyAck(r.id || id, r);
    updateFooter();   // a refused first message leaves the chat without history
  }

  // ------------------------------------------------------------------ attachments

  function fileInput(accept, kind, onDone) {
    const i = h('input', { type: 'file', accept, style: 'display:none' });
    i.addEventListener('change', () => {
      const f = i.files && i.files[0];
      if (onDone) onDone();
      if (f) showPreview(f, kind);
      i.value = '';
    });
    return i;
  }

  function toggleAttachMenu(wrap) {
    const open = Q('.attach-menu', wrap);
    if (open) { open.remove(); return; }
    const done = () => { const menu = Q('.attach-menu', wrap); if (menu) menu.remove(); };
    const item = (iconName, label, accept, kind) => h('li', { role: 'button', tabindex: '0' },
      h('label', { class: 'attach-item' }, icon(iconName), h('span', { text: label }), fileInput(accept, kind, done)));
    wrap.append(h('div', { class: 'attach-menu', role: 'application' },
      h('ul', {},
        NEW
          ? [item('document', T.document, '*', 'document'), item('media', T.photos, 'image/*', 'media')]
          : [item('media', 'Photos & videos', 'image/*,video/mp4,video/3gpp,video/quicktime', 'media'),
            item('document', 'Document', '*', 'document')])));
  }

  document.addEventListener('mousedown', (e) => {
    const menu = Q('.attach-menu');
    if (menu && !e.target.closest(mapSel('.attach-wrap'))) menu.remove();
  }, true);

  function showPreview(file, kind) {
    const phone = currentPhone;
    const slot = byId('main-slot');
    if (!slot || !phone) return;
    const old = byId('media-preview');
    if (old) old.remove();
    const isImage = /^image\//.test(file.type);
    const caption = textBox({
      class: 'caption-box compose-box', 'aria-placeholder': NEW ? T.caption : 'Add a caption',
      'aria-label': NEW ? T.caption : 'Add a caption', tabindex: '0',
    }, () => send(), null);
    const footer = Q('#main footer');
    const preview = h('div', { id: 'media-preview', class: 'media-preview' },
      h('header', {},
        h('div', { role: 'button', 'aria-label': NEW ? T.close : 'Close', class: 'preview-close', onclick: () => close() }, icon('x')),
        h('span', { text: file.name })),
      h('div', { class: 'preview-body' },
        isImage ? h('img', { src: URL.createObjectURL(file), alt: file.name })
          : h('div', { class: 'doc-card' }, icon('document'),
            h('div', { class: 'att-name', text: file.name }),
            h('div', { class: 'att-size', text: fmtSize(file.size) }))),
      h('div', { class: 'caption-row' },
        h('div', { class: 'input-wrap' + (NEW ? ' lexical-rich-text-input' : '') }, caption.box),
        h('div', { role: 'button', 'aria-label': NEW ? T.send : 'Send', tabindex: '0', class: 'media-send',
          onmousedown: (e) => e.preventDefault(), onclick: () => send() },
        icon('wds-ic-send-filled'))));
    // 2026: the preview covers the chat; its footer (and its send control) is hidden meanwhile.
    if (NEW && footer) footer.style.display = 'none';
    const close = () => { preview.remove(); if (footer) footer.style.display = ''; };
    const send = () => {
      if (!preview.isConnected) return;
      const text = caption.text().trim();
      close();
      if (currentPhone === phone) sendMessage(phone, text, file, kind);
    };
    slot.append(preview);
    caption.box.focus();
  }

  // ------------------------------------------------------------------ leaving the page

  window.addEventListener('beforeunload', (e) => {
    if (reloadingForBuild) return undefined;   // a new build: WhatsApp reloads without asking
    if (document.querySelector(M ? `[data-icon="${iconName('msg-time')}"]` : 'span[data-icon="msg-time"]')) {
      e.preventDefault();
      e.returnValue = '';
      return '';
    }
    return undefined;
  });
})();
