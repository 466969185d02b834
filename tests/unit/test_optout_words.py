"""The opt-out word list: the whole reply decides, in any form (case, accents, punctuation,
emoji, repetition), in six languages; a reply that only contains such a word is unclear."""

from __future__ import annotations

import pytest

from worker.optout_words import OPTOUT, UNCLEAR, Classifier, normalize


@pytest.mark.parametrize(
    "text, flag",
    [
        ("stop", OPTOUT),
        ("Stop!", OPTOUT),
        ("PARAR 🙏", OPTOUT),
        ("STOP STOP", OPTOUT),
        ("  Baja. ", OPTOUT),
        ("Darme de baja", OPTOUT),
        ("Arrêt", OPTOUT),
        ("Abmelden", OPTOUT),
        ("रुको", OPTOUT),
        ("band karo 🙏", OPTOUT),
        ("UNSUBSCRIBE", OPTOUT),
        ("Sair", OPTOUT),
        ("stop sending me offers pls", UNCLEAR),
        ("pls stop", UNCLEAR),
        ("Thanks!", None),
        ("Quero saber mais", None),
        ("👍", None),
        ("stopwatch", None),
    ],
)
def test_the_whole_reply_decides_in_any_form(text: str, flag: str | None) -> None:
    assert Classifier().classify(text) == flag


def test_normalize_keeps_indic_vowel_signs_and_drops_latin_accents() -> None:
    assert normalize("Désabonner!!") == "desabonner"
    assert normalize("बंद करो") == "बंद करो"
    assert Classifier(["cancel"]).classify("CANCEL") == OPTOUT and Classifier(["cancel"]).classify("stop") is None
