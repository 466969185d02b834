"""config.toml: defaults, validation, error messages that name the key and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import settings
from settings import ConfigError
from tests.support.paths import ROOT
from worker import knowledge


def test_shipped_config_equals_the_built_in_defaults() -> None:
    shipped = settings.load(ROOT / "config.toml")
    defaults = settings.parse("", ROOT / "config.toml")
    for section in ("paths", "browser", "sending", "worker", "supervisor"):
        assert getattr(shipped, section) == getattr(defaults, section), section
    assert shipped.selectors == defaults.selectors


def test_original_design_defaults() -> None:
    cfg = settings.load(ROOT / "config.toml")
    assert (cfg.sending.delay_min, cfg.sending.delay_max) == (4.0, 8.0)
    assert cfg.sending.long_pause_every == 10
    assert (cfg.sending.long_pause_min, cfg.sending.long_pause_max) == (20.0, 40.0)
    assert cfg.sending.max_attempts == 3
    assert "HeadlessChrome" not in cfg.browser.user_agent


def test_every_setting_has_a_comment() -> None:
    lines = (ROOT / "config.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith(("#", "[", '"')) and not lines[i - 1].startswith("[selectors"):
            section_comment = any(lines[j].startswith("#") for j in range(max(0, i - 3), i))
            in_selectors = any(ln.startswith("[selectors]") for ln in lines[:i])
            assert section_comment or in_selectors, f"config.toml line {i + 1} has no comment: {line}"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[paths]\ndatabase = "x/y.db"\n')
    cfg = settings.load(p)
    assert cfg.paths.database == (tmp_path / "x/y.db").resolve()
    assert cfg.paths.run_dir == (tmp_path / "run").resolve()


@pytest.mark.parametrize(
    "body, needle",
    [
        ('[sending]\ndelay_min = "fast"\n', "sending.delay_min: must be a number"),
        ("[sending]\ndelay_mni = 3\n", "sending.delay_mni: unknown key"),
        ("[sendign]\n", "[sendign]: unknown section"),
        ("[sending]\ndelay_min = 9\ndelay_max = 3\n", "sending.delay_max: must be at least delay_min"),
        ("[sending]\nmax_attempts = 0\n", "sending.max_attempts: must be greater than 0"),
        ("[sending]\nmax_attempts = 2.5\n", "sending.max_attempts: must be a whole number"),
        ('[sending]\nwindow_start = "25:00"\n', "sending.window_start: must be a time"),
        ('[sending]\ndefault_region = "XX"\n', "sending.default_region: unknown region"),
        ('[browser]\nheadless = "yes"\n', "browser.headless: must be true or false"),
        ('[browser]\nnavigation = "teleport"\n', "browser.navigation: must be"),
        ('[browser]\nuser_agent = "Mozilla HeadlessChrome/1"\n', "browser.user_agent"),
        ("[worker]\nheartbeat_interval = 30\n", "worker.heartbeat_interval"),
        ('[selectors]\ncompose = ["x"]\n', "selectors.compose: unknown selector key"),
        ("[selectors]\ncompose_box = []\n", "selectors.compose_box: must be a non-empty list"),
        ("[sending\n", "not valid TOML"),
        ('[browser]\nlanguage = "portuguese"\n', "browser.language: must be a language tag"),
        ("[sending]\nauto_requeue_limit = -1\n", "sending.auto_requeue_limit: must not be negative"),
        ("[sending]\nattention_after = 0\n", "sending.attention_after: must be at least 1"),
        (
            "[selectors]\nsend_button = [\"button[aria-label='{Sned}']\"]\n",
            "selectors.send_button: unknown word {Sned}",
        ),
        ("[labels]\npt-BR = 3\n", "labels.pt-BR: must be a table"),
    ],
)
def test_bad_values_name_the_key_and_line(tmp_path: Path, body: str, needle: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("# comment\n" + body)
    with pytest.raises(ConfigError) as info:
        settings.load(p)
    msg = str(info.value)
    assert needle in msg
    assert str(p) in msg
    assert "\n" not in msg
    if "unknown section" not in needle and "TOML" not in needle:
        assert ", line " in msg


def test_line_number_points_at_the_key(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[paths]\n\n[sending]\n# x\ndelay_min = -1\n")
    with pytest.raises(ConfigError, match=r"line 5: sending\.delay_min"):
        settings.load(p)


def test_environment_variable_chooses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "env.toml"
    p.write_text("[sending]\ndaily_cap = 7\n")
    monkeypatch.setenv(settings.ENV_VAR, str(p))
    assert settings.load().sending.daily_cap == 7
    assert settings.load(ROOT / "config.toml").sending.daily_cap == 200  # --config wins


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        settings.load(tmp_path / "nope.toml")


def test_config_is_frozen() -> None:
    cfg = settings.parse("")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.sending.delay_min = 1  # type: ignore[misc]


def test_words_fill_selectors_in_the_browser_language_with_english_after() -> None:
    cfg = settings.parse(
        '[browser]\nlanguage = "pt-BR"\n[selectors]\nsend_button = ["b[aria-label=\'{Send}\']", "span"]\n'
    )
    assert cfg.resolved_selectors()["send_button"] == ("b[aria-label='Enviar']", "b[aria-label='Send']", "span")
    assert cfg.date_order() == "DMY" and cfg.words()["You"] == "Você"
    en = settings.parse("")
    assert en.resolved_selectors()["send_button"][0] == "#main footer button[aria-label='Send']"
    assert en.date_order() == "MDY"
    # No {Word} survives in any language.
    for lang in knowledge.LANGUAGES:
        c = settings.parse(f'[browser]\nlanguage = "{lang}"\n')
        assert not any("{" in sel for sels in c.resolved_selectors().values() for sel in sels), lang


def test_labels_add_a_language_and_new_words(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(
        '[browser]\nlanguage = "fr-FR"\n[labels.fr-FR]\n"Send" = "Envoyer"\n"Nouveau" = "Nouveau"\n'
        "[selectors]\nsend_button = [\"b[aria-label='{Send}']\", \"i[title='{Nouveau}']\"]\n"
    )
    cfg = settings.load(p)
    assert cfg.resolved_selectors()["send_button"] == (
        "b[aria-label='Envoyer']",
        "b[aria-label='Send']",
        "i[title='Nouveau']",
    )
    assert cfg.date_order() == "DMY"
