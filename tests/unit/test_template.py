"""Template parsing and rendering: placeholders, spintax, escapes, safety."""

from __future__ import annotations

import random

import pytest

from contacts import ContactsError, Template


def test_placeholders_case_insensitive_with_spaces():
    t = Template("Hi {First Name}, your code is {CODE} ({first_name})")
    assert t.placeholders == ["First Name", "CODE"]
    out = t.render({"first name": "Asha", "Code": "X1"}, random.Random(0))
    assert out == "Hi Asha, your code is X1 (Asha)"


def test_escaped_braces():
    t = Template("{{literal}} and {{{name}}} and }} {{")
    assert t.placeholders == ["name"]
    assert t.render({"name": "Bo"}) == "{literal} and {Bo} and } {"


def test_spintax_seeded_and_covers_all_options():
    t = Template("{Hi|Hello|Hey} {name}")
    a = [t.render({"name": "A"}, random.Random(s)) for s in range(60)]
    b = [t.render({"name": "A"}, random.Random(s)) for s in range(60)]
    assert a == b
    assert set(a) == {"Hi A", "Hello A", "Hey A"}


def test_nested_spintax_with_placeholders_and_empty_option():
    t = Template("{Hi {name}|{Good morning|Good day}{|!}}")
    assert t.has_spintax and t.placeholders == ["name"]
    seen = {t.render({"name": "Zoë"}, random.Random(s)) for s in range(300)}
    assert seen == {"Hi Zoë", "Good morning", "Good day", "Good morning!", "Good day!"}


def test_emoji_and_multiline_survive():
    text = "Namaste {name} 🙏🏽\nLine two — ✓\n\n{Bye|Ciao} 👋"
    t = Template(text)
    out = t.render({"name": "Ravi"}, random.Random(1))
    assert out.startswith("Namaste Ravi 🙏🏽\nLine two — ✓\n\n")
    assert out.endswith(" 👋")


@pytest.mark.parametrize(
    "text", ["{0.__class__}", "{name.__init__}", "{name[0]}", "{name!r}", "{name:>10}", "{name.upper()}"]
)
def test_format_syntax_is_rejected_not_evaluated(text):
    with pytest.raises(ContactsError) as e:
        Template(text)
    assert "not a placeholder name" in str(e.value)


def test_odd_names_are_just_missing_columns():
    t = Template("{__import__('os')}")
    with pytest.raises(ContactsError, match="no such column"):
        t.check(["Name", "Phone"])


def test_no_str_format_anywhere():
    import inspect

    import contacts.template as mod

    src = inspect.getsource(mod)
    assert ".format(" not in src and "format_map" not in src


def test_value_with_braces_is_not_re_expanded():
    t = Template("Hi {name}")
    assert t.render({"name": "{phone} {0.__class__}"}) == "Hi {phone} {0.__class__}"


@pytest.mark.parametrize(
    "text,what",
    [
        ("Hi {name", "never closed"),
        ("Hi name}", "without its '{'"),
        ("Hi {}", "empty placeholder"),
        ("Hi {  }", "empty placeholder"),
        ("{Hi {name}}", "spintax needs '|'"),
        ("", "empty"),
        ("   \n ", "empty"),
    ],
)
def test_syntax_errors(text, what):
    with pytest.raises(ContactsError) as e:
        Template(text)
    assert what in str(e.value)
    assert "\n" not in str(e.value)


def test_error_position():
    with pytest.raises(ContactsError, match="line 2, column 4"):
        Template("ok\nab {name")


def test_check_names_missing_placeholder_and_columns():
    t = Template("Hi {name}, {Company} {phone}")
    with pytest.raises(ContactsError) as e:
        t.check(["Name", "Mobile"])
    msg = str(e.value)
    assert "{Company}" in msg and "'Name'" in msg and "'Mobile'" in msg


def test_check_name_and_phone_specials():
    t = Template("{name} {phone} {city}")
    m = t.check(["First Name", "Phone", "City"])
    assert m["name"] == "\0name"  # no column called name: the display name
    assert m["phone"] == "\0phone"  # always E.164
    assert m["city"] == "City"
    assert Template("{name}").check(["Name"])["name"] == "Name"


def test_bind_renders_rows_fast_path():
    t = Template("Dear {name} ({phone}), {city}")
    fn = t.bind(["First Name", "City"])
    assert fn({"First Name": "A", "City": "Pune"}, "A B", "+91987", random.Random(0)) == "Dear A B (+91987), Pune"


def test_render_missing_value_is_an_error():
    with pytest.raises(ContactsError, match=r"\{city\}"):
        Template("{city}").render({"name": "x"})


def test_flat_and_nested_renderers_choose_alike():
    import contacts.template as tm

    t = Template("{Hi|Hello|Hey} {x}, {a|b}{|!}")
    m = t.check(["x"])
    fast = t.bind_mapping(m)
    for seed in range(30):
        out: list[str] = []
        tm._emit(tm._bind(t._nodes, m), {"x": "X"}, "", "", random.Random(seed).random, out)
        assert fast({"x": "X"}, "", "", random.Random(seed)) == "".join(out)
