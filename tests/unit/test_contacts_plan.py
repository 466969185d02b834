"""plan_import: the per-row report and the messages."""

from __future__ import annotations

import json

import openpyxl
import pytest

from contacts import ContactsError, plan_import

CSV = (
    "First Name,Last Name,Mobile,City\n"  # row 1
    "Asha,Rao,+91 98765 43210,Pune\n"  # 2 queued
    "Ravi,,098765 43211,Goa\n"  # 3 queued
    ",,,\n"  # 4 blank
    "Bob,X,12345,Delhi\n"  # 5 invalid
    "Asha,Again,0091-98765-43210,Pune\n"  # 6 duplicate of 2
    "Opt,Out,9876543212,Pune\n"  # 7 opted out
    "No,Phone,,Pune\n"  # 8 invalid (no number)
    "Zoë,Ü,+91 98765 43213,Mumbai\n"  # 9 queued
)


def plan_of(tmp_path, text=CSV, template="{Hi|Hello} {name} from {city} ✓", **kw):
    p = tmp_path / "c.csv"
    p.write_text(text, encoding="utf-8")
    kw.setdefault("region", "IN")
    return plan_import(p, template, **kw)


def test_every_row_is_accounted_for(tmp_path):
    plan = plan_of(tmp_path, optouts=frozenset({"+919876543212"}), seed=1)
    assert plan.total_rows == 8
    assert [m["row"] for m in plan.messages] == [2, 3, 9]
    assert [(p.row, p.raw) for p in plan.invalid] == [(5, "12345"), (8, "")]
    assert plan.invalid[0].reason == "too short"
    assert plan.invalid[1].reason == "no phone number"
    assert [(p.row, p.reason) for p in plan.duplicates] == [(6, "duplicate of row 2")]
    assert [(p.row, p.reason, p.phone) for p in plan.opted_out] == [(7, "opted out", "+919876543212")]
    assert plan.duplicates[0].phone == "+919876543210"
    assert plan.invalid[0].phone == ""
    assert [p.row for p in plan.blank] == [4]
    s = plan.summary()
    assert s == {"total_rows": 8, "queued": 3, "invalid": 2, "duplicates": 1, "opted_out": 1, "blank": 1}
    assert s["queued"] + s["invalid"] + s["duplicates"] + s["opted_out"] + s["blank"] == s["total_rows"]


def test_messages_content(tmp_path):
    plan = plan_of(tmp_path, seed=1)
    m = plan.messages[0]
    assert m["phone"] == "+919876543210"
    assert m["name"] == "Asha Rao"
    assert m["columns"] == {"First Name": "Asha", "Last Name": "Rao", "Mobile": "+91 98765 43210", "City": "Pune"}
    assert m["text"] in ("Hi Asha Rao from Pune ✓", "Hello Asha Rao from Pune ✓")
    assert plan.messages[1]["name"] == "Ravi"
    assert plan.messages[-1]["text"].endswith("Zoë Ü from Mumbai ✓")
    assert plan.phone_column == "Mobile" and plan.format == "csv"
    assert plan.columns == ["First Name", "Last Name", "Mobile", "City"]


def test_seed_makes_spintax_reproducible(tmp_path):
    a = [m["text"] for m in plan_of(tmp_path, seed=5).messages]
    b = [m["text"] for m in plan_of(tmp_path, seed=5).messages]
    assert a == b


def test_optouts_not_in_e164_are_normalised(tmp_path):
    plan = plan_of(tmp_path, optouts={"098765 43212"})
    assert [p.row for p in plan.opted_out] == [7]


def test_opted_out_number_twice_is_opted_out_twice(tmp_path):
    text = "Name,Phone\nA,+14155550100\nB,(415) 555-0100\n"
    plan = plan_of(tmp_path, text, "hi", region="US", optouts={"+14155550100"})
    assert [p.row for p in plan.opted_out] == [2, 3]
    assert plan.duplicates == []


def test_unknown_placeholder_fails_before_anything(tmp_path):
    with pytest.raises(ContactsError) as e:
        plan_of(tmp_path, template="Hi {Company}")
    msg = str(e.value)
    assert "{Company}" in msg and "'City'" in msg and "c.csv" in msg


def test_phone_placeholder_is_e164_and_name_is_display_name(tmp_path):
    plan = plan_of(tmp_path, template="{name}|{phone}|{first_name}")
    assert plan.messages[0]["text"] == "Asha Rao|+919876543210|Asha"


def test_name_placeholder_falls_back_to_first_last_when_name_cell_empty(tmp_path):
    text = "Name,Given Name,Family Name,Phone\nAsha Rao,Asha,Rao,+14155550100\n,Ravi,K,+14155550101\n"
    plan = plan_of(tmp_path, text, "Hi {name}", region="US")
    assert [m["text"] for m in plan.messages] == ["Hi Asha Rao", "Hi Ravi K"]


def test_empty_rendered_message_is_an_invalid_row(tmp_path):
    text = "Name,Phone,Msg\nA,+14155550100,hello\nB,+14155550101,\n"
    plan = plan_of(tmp_path, text, "{Msg}", region="US")
    assert [m["text"] for m in plan.messages] == ["hello"]
    assert [(p.row, "empty" in p.reason) for p in plan.invalid] == [(3, True)]


def test_bad_region(tmp_path):
    with pytest.raises(ContactsError, match="region"):
        plan_of(tmp_path, region="ZZZ")


def test_progress_called_and_ends_at_total(tmp_path):
    rows = "".join(f"P{i},+1415555{i:04d}\n" for i in range(3000))
    calls = []
    plan = plan_of(
        tmp_path, "Name,Phone\n" + rows, "hi {name}", region="US", progress=lambda d, t: calls.append((d, t))
    )
    assert len(plan.messages) == 3000
    assert calls[0] == (0, 3000) and calls[-1] == (3000, 3000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_big_file_is_planned_the_same_every_time(tmp_path):
    rows = "".join(f"P{i},+91 9{i:09d}\n" for i in range(25000)) + "Dup,+91 9000000007\n"
    a = plan_of(tmp_path, "Name,Phone\n" + rows, "{Hi|Yo} {name}", seed=3)
    b = plan_of(tmp_path, "Name,Phone\n" + rows, "{Hi|Yo} {name}", seed=3)
    assert a.messages == b.messages and len(a.messages) == 25000
    assert a.duplicates[0].reason == "duplicate of row 9"


def test_vcf_rows_are_cards(tmp_path):
    p = tmp_path / "c.vcf"
    p.write_text(
        "BEGIN:VCARD\nFN:Asha\nTEL;TYPE=CELL:+91 98765 43210\nTEL;TYPE=HOME:+91 98765 43210\n"
        "TEL:+91 123\nEND:VCARD\nBEGIN:VCARD\nFN:NoTel\nEND:VCARD\n",
        encoding="utf-8",
    )
    plan = plan_import(p, "Hi {name} ({type})", region="IN")
    assert [(m["row"], m["text"]) for m in plan.messages] == [(1, "Hi Asha (cell)")]
    assert [(d.row, d.reason) for d in plan.duplicates] == [(1, "duplicate of card 1")]
    assert [(d.row, d.reason) for d in plan.invalid] == [(1, "too short"), (2, "no phone number")]


def test_xlsx_end_to_end(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Phone"])
    ws.append(["Asha", 919876543210.0])
    ws.append(["Ravi", 9876543211])
    ws.append([None, None])
    ws.append(["Old", "9.19877E+11"])
    wb.save(tmp_path / "c.xlsx")
    plan = plan_import(tmp_path / "c.xlsx", "Hi {name}", region="IN")
    assert [m["phone"] for m in plan.messages] == ["+919876543210", "+919876543211"]
    assert [p.row for p in plan.blank] == [4]
    assert plan.invalid[0].row == 5 and "scientific" in plan.invalid[0].reason


def test_google_multi_value_cell_expands(tmp_path):
    text = "Name,Phone 1 - Type,Phone 1 - Value\nAsha,Mobile ::: Work,+91 98765 43210 ::: +91 98765 43211\n"
    plan = plan_of(tmp_path, text, "Hi {name}")
    assert [(m["row"], m["phone"]) for m in plan.messages] == [(2, "+919876543210"), (2, "+919876543211")]


def test_several_numbers_in_one_cell(tmp_path):
    text = (
        'Name,Phone\nA,9876543210 / 9876543211\nB,"9876543212, 9876543213"\nC,"9876543214\n9876543215"\nD,0221/123456\n'
    )
    plan = plan_of(tmp_path, text, "Hi {name}")
    assert [(m["row"], m["phone"]) for m in plan.messages] == [
        (2, "+919876543210"),
        (2, "+919876543211"),
        (3, "+919876543212"),
        (3, "+919876543213"),
        (4, "+919876543214"),
        (4, "+919876543215"),
    ]
    assert [(p.row, p.raw) for p in plan.invalid] == [(5, "0221/123456")]  # one number, not split
    assert plan.total_rows == 7


def test_to_dict_is_json(tmp_path):
    plan = plan_of(tmp_path, seed=1)
    d = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    assert d["summary"]["queued"] == 4  # no opt-outs given: row 7 is queued too
    assert d["invalid"][0] == {"row": 5, "raw": "12345", "reason": "too short", "name": "Bob X", "phone": ""}
    assert d["phone_column"] == "Mobile" and d["format"] == "csv" and len(d["messages"]) == 4
    assert "messages" not in plan.to_dict(messages=False)
