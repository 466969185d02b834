"""Is a contact's reply an opt-out? The whole reply must be one of the opt-out words
(case, accents, punctuation, emoji and spacing ignored): "Stop!", "PARAR 🙏" and "stop"
all opt out. A reply that holds such a word among others ("stop sending me offers pls")
is unclear: flagged for a person, never acted on. No project imports."""

from __future__ import annotations

import re
import unicodedata

# Defaults of `[replies] optout_words` (config.toml lists them): English, Portuguese,
# Spanish, Hindi/Hinglish, German, French.
DEFAULT_WORDS = (
    # English
    "stop",
    "stop all",
    "unsubscribe",
    "opt out",
    "optout",
    "cancel",
    "end",
    "quit",
    "remove me",
    # Portuguese
    "parar",
    "pare",
    "sair",
    "cancelar",
    "descadastrar",
    "nao quero",
    # Spanish
    "baja",
    "darme de baja",
    "alto",
    "no mas",
    "cancelar suscripcion",
    # Hindi / Hinglish
    "रुको",
    "बंद करो",
    "बंद",
    "band karo",
    "band",
    "ruko",
    "mat bhejo",
    # German
    "stopp",
    "abmelden",
    "abbestellen",
    # French
    "arret",
    "arreter",
    "desabonner",
    "desinscrire",
)

OPTOUT = "optout"
UNCLEAR = "unclear"


def normalize(text: str) -> str:
    """Lower case, no accents (also in the word list), letters and digits of any script
    kept, everything else (punctuation, emoji, symbols) a space, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    out = []
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Mn" and not _keeps_marks(ch):
            continue
        out.append(ch if cat[0] in "LNM" else " ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _keeps_marks(ch: str) -> bool:
    # A Latin accent is dropped; the vowel signs of Indic scripts are part of the word.
    return not ("\u0300" <= ch <= "\u036f")


class Classifier:
    """Tells an opt-out reply (the whole reply is an opt-out word) from an unclear one (it
    holds one among other words) and an ordinary one."""

    def __init__(self, words: tuple[str, ...] | list[str] = DEFAULT_WORDS) -> None:
        self.words = frozenset(w for w in (normalize(x) for x in words) if w)
        self._single = frozenset(w for w in self.words if " " not in w)

    def classify(self, text: str | None) -> str | None:
        """OPTOUT, UNCLEAR or None (an ordinary reply)."""
        norm = normalize(text or "")
        if not norm:
            return None
        tokens = norm.split(" ")
        if norm in self.words or (len(set(tokens)) == 1 and tokens[0] in self._single):  # "STOP STOP"
            return OPTOUT
        if any(t in self._single for t in tokens) or any(f" {w} " in f" {norm} " for w in self.words if " " in w):
            return UNCLEAR
        return None
