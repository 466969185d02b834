"""What the worker knows of WhatsApp Web's page: the UI languages (words and date order)
and the default selectors, ordered fallbacks per key (docs/whatsapp-dom.md).

Imports nothing: the settings read it to validate `[selectors]` and `[labels.LANG]`, the
worker and the doctor to read the page.
"""

from __future__ import annotations

from typing import Any

# UI languages the worker knows: the date order of bubble times and the words WhatsApp
# Web shows, which selectors name as {Label} (English text in braces). Translations
# other than English are best effort; every key also has a structural fallback.
# `[labels.LANG]` in config.toml adds or corrects words (also for other languages).
LANGUAGES: dict[str, dict[str, Any]] = {
    "en-US": {"date_order": "MDY", "labels": {}},
    "en-GB": {"date_order": "DMY", "labels": {}},
    "pt-BR": {
        "date_order": "DMY",
        "labels": {
            "You": "Você",
            "Send": "Enviar",
            "Type a message": "Digite uma mensagem",
            "Attach": "Anexar",
            "Add a caption": "Adicione uma legenda",
            "Use here": "Usar aqui",
            "OK": "OK",
            "invalid": "inválido",
            "Trying to reach phone": "Tentando conectar ao celular",
            "Phone not connected": "Celular não conectado",
            "Read more": "Ler mais",
            "Click to reload QR code": "Clique para recarregar o código QR",
            "end-to-end encrypted": "ponta a ponta",
            "open the chat": "abrir a conversa",
            "Computer not connected": "Computador não conectado",
            "unread": "não lida",
            "Chat list": "Lista de conversas",
            "Pending": "Pendente",
            "Sent": "Enviada",
            "Delivered": "Entregue",
            "Read": "Lida",
            "Not sent": "Não enviada",
            "You can't message new people": "não pode enviar mensagens para novas pessoas",
            "Your account is restricted": "Sua conta está restrita",
            "not allowed to use WhatsApp": "não tem permissão para usar o WhatsApp",
            "banned from using WhatsApp": "está banido do WhatsApp",
            "messages to people who haven't replied": "mensagens para pessoas que não responderam",
        },
    },
    "de-DE": {
        "date_order": "DMY",
        "labels": {
            "You": "Du",
            "Send": "Senden",
            "Type a message": "Nachricht eingeben",
            "Attach": "Anhängen",
            "Add a caption": "Bildunterschrift hinzufügen",
            "Use here": "Hier verwenden",
            "OK": "OK",
            "invalid": "ungültig",
            "Trying to reach phone": "Verbindung zum Telefon wird hergestellt",
            "Phone not connected": "Telefon nicht verbunden",
            "Read more": "Weiterlesen",
            "Click to reload QR code": "Klicke, um den QR-Code neu zu laden",
            "end-to-end encrypted": "Ende-zu-Ende",
            "open the chat": "Chat konnte nicht",
            "Computer not connected": "Computer nicht verbunden",
            "unread": "ungelesen",
            "Chat list": "Chatliste",
            "Pending": "Ausstehend",
            "Sent": "Gesendet",
            "Delivered": "Zugestellt",
            "Read": "Gelesen",
            "Not sent": "Nicht gesendet",
            "You can't message new people": "keine Nachrichten an neue Personen",
            "Your account is restricted": "Dein Konto ist eingeschränkt",
            "not allowed to use WhatsApp": "darf WhatsApp nicht verwenden",
            "banned from using WhatsApp": "für WhatsApp gesperrt",
            "messages to people who haven't replied": "die nicht geantwortet haben",
        },
    },
    "es-ES": {
        "date_order": "DMY",
        "labels": {
            "You": "Tú",
            "Send": "Enviar",
            "Type a message": "Escribe un mensaje",
            "Attach": "Adjuntar",
            "Add a caption": "Añade un comentario",
            "Use here": "Usar aquí",
            "OK": "OK",
            "invalid": "no es válido",
            "Trying to reach phone": "Intentando conectar con el teléfono",
            "Phone not connected": "Teléfono no conectado",
            "Read more": "Leer más",
            "Click to reload QR code": "Haz clic para volver a cargar el código QR",
            "end-to-end encrypted": "extremo a extremo",
            "open the chat": "abrir el chat",
            "Computer not connected": "Computadora no conectada",
            "unread": "no leído",
            "Chat list": "Lista de chats",
            "Pending": "Pendiente",
            "Sent": "Enviado",
            "Delivered": "Entregado",
            "Read": "Leído",
            "Not sent": "No enviado",
            "You can't message new people": "enviar mensajes a personas nuevas",
            "Your account is restricted": "Tu cuenta está restringida",
            "not allowed to use WhatsApp": "no tiene permiso para usar WhatsApp",
            "banned from using WhatsApp": "bloqueado para usar WhatsApp",
            "messages to people who haven't replied": "mensajes a personas que no han respondido",
        },
    },
    "fr-FR": {
        "date_order": "DMY",
        "labels": {
            "You": "Vous",
            "Send": "Envoyer",
            "Type a message": "Entrez un message",
            "Attach": "Joindre",
            "Add a caption": "Ajouter une légende",
            "Use here": "Utiliser ici",
            "OK": "OK",
            "invalid": "n'est pas valide",
            "Trying to reach phone": "Tentative de connexion au téléphone",
            "Phone not connected": "Téléphone non connecté",
            "Read more": "Lire la suite",
            "Click to reload QR code": "Cliquez pour recharger le code QR",
            "end-to-end encrypted": "de bout en bout",
            "open the chat": "ouvrir la discussion",
            "Computer not connected": "Ordinateur non connecté",
            "unread": "non lu",
            "Chat list": "Liste des discussions",
            "Pending": "En attente",
            "Sent": "Envoyé",
            "Delivered": "Distribué",
            "Read": "Lu",
            "Not sent": "Non envoyé",
            "You can't message new people": "envoyer de messages à de nouvelles personnes",
            "Your account is restricted": "Votre compte est restreint",
            "not allowed to use WhatsApp": "n'est pas autorisé à utiliser WhatsApp",
            "banned from using WhatsApp": "banni de WhatsApp",
            "messages to people who haven't replied": "à des personnes qui n'ont pas répondu",
        },
    },
}
LABELS = (
    "You",
    "Send",
    "Type a message",
    "Attach",
    "Add a caption",
    "Use here",
    "OK",
    "invalid",
    "Trying to reach phone",
    "Phone not connected",
    "Read more",
    "Click to reload QR code",
    "end-to-end encrypted",
    "open the chat",
    "Computer not connected",
    "unread",
    "Chat list",
    "Pending",
    "Sent",
    "Delivered",
    "Read",
    "Not sent",
    "You can't message new people",
    "Your account is restricted",
    "not allowed to use WhatsApp",
    "banned from using WhatsApp",
    "messages to people who haven't replied",
)
# The labels a message's status element carries (" Pending ", " Sent "...), in their order:
# the clock first, then the ticks. Our own rows are the only ones that carry one.
STATUS_WORDS = ("Pending", "Sent", "Delivered", "Read")

_ICON_OUT = (
    "span[data-icon='msg-time'], span[data-icon='msg-check'], span[data-icon='msg-dblcheck'], "
    "span[data-icon='msg-error']"
)
# WhatsApp's failure mark is labelled " Not sent " in the page's language ({Not sent}); other
# labels automation projects saw on it (compared whole, in any language of the page).
NOT_SENT_LABELS = ("Message not sent", "Failed to send", "Não foi enviada")

# Ordered fallbacks that hold on every DOM generation of docs/whatsapp-dom.md (2024 and
# 2026). Structure first (ids, roles, data-icon names, data-tab), words last: words
# change with the UI language and with WhatsApp's copywriting.
DEFAULT_SELECTORS: dict[str, tuple[str, ...]] = {
    "booting": ("#startup", "progress"),
    "qr_code": ("div[data-ref]", "[data-ref]:has(> canvas)", "xpath://canvas/parent::*[@data-ref]"),
    "qr_reload": (
        "div[data-ref] button",
        "xpath://button[contains(., '{Click to reload QR code}')]",
        "xpath://*[@data-ref]/parent::*//button",
    ),
    "logged_in": ("#pane-side", "#side"),
    "phone_disconnected": (
        "div[data-testid='alert-phone']",
        "span[data-icon='alert-phone']",
        "xpath://*[@id='side']//*[contains(text(), '{Trying to reach phone}')]",
        "xpath://*[@id='side']//*[contains(text(), '{Phone not connected}')]",
    ),
    "offline_banner": (
        "div[data-testid='alert-computer']",
        "span[data-icon='alert-computer']",
        "xpath://*[@id='side']//*[contains(text(), '{Computer not connected}')]",
    ),
    "use_here_button": (
        "xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='{Use here}']",
        "xpath://div[@role='dialog']//button[normalize-space()='{Use here}']",
    ),
    "chat_open": ("#main header span[title]", "#main header"),
    "chat_error": (
        "div[data-testid='toast']",
        "xpath://*[@role='status' or @role='alert'][contains(., '{open the chat}')]",
        "xpath://*[not(ancestor::*[@id='main'])][text()[contains(., '{open the chat}')]]",
    ),
    "compose_box": (
        "#main footer div[contenteditable='true'][role='textbox'][data-tab='10']",
        "#main footer div[contenteditable='true'][data-lexical-editor='true']",
        "#main footer div[contenteditable='true'][aria-placeholder='{Type a message}']",
        "#main footer div[contenteditable='true']",
    ),
    "send_button": (
        "#main footer button[aria-label='{Send}']",
        "#main footer div[role='button'][aria-label='{Send}']",
        "#main footer span[data-icon='wds-ic-send-filled']",
        "#main footer span[data-icon='send']",
    ),
    "invalid_popup": (
        "xpath://div[@data-animate-modal-popup='true'][contains(., '{invalid}')]",
        "xpath://div[@role='dialog'][contains(., '{invalid}')]",
    ),
    "popup_ok": (
        "xpath://div[@data-animate-modal-popup='true']//button[normalize-space()='{OK}']",
        "xpath://div[@role='dialog']//button[normalize-space()='{OK}']",
        "xpath://div[@data-animate-modal-popup='true']//*[@role='button'][normalize-space()='{OK}']",
    ),
    "message_row": ("#main div[role='row']",),
    "outgoing_message": ("#main div.message-out", f"#main div[role='row']:has({_ICON_OUT})"),
    "message_text": ("span.selectable-text > span", "span.selectable-text"),
    "message_meta": ("div.copyable-text[data-pre-plain-text]", "[data-pre-plain-text]"),
    "msg_pending": ("span[data-icon='msg-time']",),
    "msg_ack": ("span[data-icon='msg-check']", "span[data-icon='msg-dblcheck']"),
    "read_more": ("div[role='button'].read-more-button", "xpath:.//*[@role='button'][normalize-space()='{Read more}']"),
    "message_list": ("#main div[role='application']", "#main [data-tab='8']"),
    "chat_start": (
        "#main span[data-icon='lock-small']",
        "xpath://*[@id='main']//*[not(ancestor-or-self::*[@data-pre-plain-text])]"
        "[contains(text(), '{end-to-end encrypted}')]",
    ),
    "attach_button": (
        "#main footer button[aria-label='{Attach}']",
        "span[data-icon='plus-rounded']",
        "span[data-icon='plus']",
        "span[data-icon='attach-menu-plus']",
        "#main footer div[role='button'][title='{Attach}']",
    ),
    # Exact accept values: a looser `[accept^='image']` also matches the sticker input.
    "media_input": (
        "input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']",
        "input[type='file'][accept='image/*']",
    ),
    "document_input": ("input[type='file'][accept='*']",),
    "caption_box": (
        "div[contenteditable='true'][role='textbox'][aria-placeholder='{Add a caption}']",
        "div[contenteditable='true'][aria-label='{Add a caption}']",
        "div[contenteditable='true'][aria-label*='caption']",
    ),
    "media_send": ("span[data-icon='wds-ic-send-filled']", "div[role='button'][aria-label='{Send}']"),
    # The chat list: a chat's row (2024: list items; 2026: grid rows), its unread badge
    # (the count, labelled "3 unread messages" in the UI language), and in a row, the
    # chat's name and last-message preview are `span[title]`s, in that order.
    "chat_list_item": (
        "#pane-side div[role='listitem']",
        "#pane-side div[role='row']",
        "div[aria-label='{Chat list}'] div[role='row']",
    ),
    "unread_badge": ("span[aria-label*='{unread}']", "[data-testid='icon-unread-count']"),
    "incoming_message": ("#main div.message-in",),
}
