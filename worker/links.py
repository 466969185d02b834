"""The link of a message text that WhatsApp Web previews: its first http(s) or www. link."""

from __future__ import annotations

import re

_LINK = re.compile(r"(?:https?://|\bwww\.)([^\s/?#:@]+)", re.IGNORECASE)


def link_host(text: str | None) -> str | None:
    """The host of the text's first link, lower case, without "www." (the preview shows the
    site's host); None without a link."""
    m = _LINK.search(text or "")
    if m is None:
        return None
    host = m.group(1).lower().rstrip(".,;:!?)]}'\"")
    host = host.removeprefix("www.")
    return host if "." in host else None
