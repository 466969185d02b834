"""Reading contact files: formats, encodings, delimiters, column choice, errors."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from contacts import ContactsError, read_contacts


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# -- CSV: delimiters and encodings ---------------------------------------------------------


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_csv_delimiter_sniffed(tmp_path, delim):
    rows = [["Name", "Phone", "City"], ["Ann Lee", "+1 415 555 0100", "SF"], ["Bob", "+1 415 555 0101", "LA"]]
    p = write(tmp_path / "c.csv", "\n".join(delim.join(r) for r in rows) + "\n")
    t = read_contacts(p)
    assert t.format == "csv"
    assert t.delimiter == delim
    assert t.columns == ["Name", "Phone", "City"]
    assert t.rows[0] == {"Name": "Ann Lee", "Phone": "+1 415 555 0100", "City": "SF"}
    assert t.row_numbers == [2, 3]
    assert t.phone_column == "Phone"
    assert t.name_of(t.rows[1]) == "Bob"


def test_semicolon_file_with_commas_in_names(tmp_path):
    p = write(tmp_path / "c.csv", "Name;Phone\nSmith, John;+44 7911 123456\nDoe, Jane;+44 7911 123457\n")
    t = read_contacts(p)
    assert t.delimiter == ";"
    assert t.rows[0]["Name"] == "Smith, John"


def test_utf8_bom(tmp_path):
    p = write(tmp_path / "c.csv", "\ufeffName,Phone\nZoë,+33 6 12 34 56 78\n")
    t = read_contacts(p)
    assert t.columns == ["Name", "Phone"]  # BOM not glued to the first column name
    assert t.encoding == "utf-8-sig"
    assert t.rows[0]["Name"] == "Zoë"


def test_utf16_excel_unicode_text(tmp_path):
    # Excel "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF
    text = "Name\tMobile\r\nJosé\t+91 98765 43210\r\n李雷\t+86 138 0013 8000\r\n"
    p = tmp_path / "c.txt"
    p.write_bytes(text.encode("utf-16"))
    assert p.read_bytes()[:2] == b"\xff\xfe"
    t = read_contacts(p)
    assert t.delimiter == "\t"
    assert t.encoding == "utf-16"
    assert [r["Name"] for r in t.rows] == ["José", "李雷"]
    assert t.phone_column == "Mobile"


def test_utf16_without_bom(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes("Name,Phone\nJosé,+34 612 345 678\n".encode("utf-16-le"))
    t = read_contacts(p)
    assert t.rows[0]["Name"] == "José"


def test_cp1252_accents(tmp_path):
    text = "Name;Phone;Note\nJosé Muñoz;+34 612 345 678;café €5\nFrançois;+33 6 12 34 56 78;Noël\n"
    p = write(tmp_path / "c.csv", text, "cp1252")
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")
    t = read_contacts(p)
    assert t.encoding == "cp1252"
    assert [r["Name"] for r in t.rows] == ["José Muñoz", "François"]
    assert t.rows[0]["Note"] == "café €5"


def test_crlf_quotes_and_multiline_field(tmp_path):
    text = 'Name,Phone,Note\r\n"Lee, Ann",+1 415 555 0100,"two\r\nlines"\r\nBob,+1 415 555 0101,x\r\n'
    t = read_contacts(write(tmp_path / "c.csv", text))
    assert t.rows[0]["Note"] == "two\r\nlines"
    # row numbers count records (what a spreadsheet shows), not physical lines
    assert t.row_numbers == [2, 3]


def test_short_and_long_rows_blank_rows_and_duplicate_headers(tmp_path):
    text = "Name,Phone,Phone,\nAnn,+1 415 555 0100\n,,,\n\nBob,+1 415 555 0101,x,y,extra\n"
    t = read_contacts(write(tmp_path / "c.csv", text))
    assert t.columns == ["Name", "Phone", "Phone (2)", "Column 4"]
    assert t.rows[0] == {"Name": "Ann", "Phone": "+1 415 555 0100", "Phone (2)": "", "Column 4": ""}
    # blank rows are kept (the plan reports them), with their row numbers
    assert t.row_numbers == [2, 3, 4, 5]
    assert not any(t.rows[1].values()) and not any(t.rows[2].values())


def test_headerless_single_column(tmp_path):
    t = read_contacts(write(tmp_path / "n.csv", "+1 415 555 0100\n+1 415 555 0101\n"))
    assert not t.has_header
    assert t.columns == ["Column 1"]
    assert t.phone_column == "Column 1"
    assert t.row_numbers == [1, 2]


def test_headerless_with_names(tmp_path):
    # no header: the first row is a contact, not column names, and is not lost
    t = read_contacts(write(tmp_path / "n.csv", "John,+1 415 555 0100\nAmy,+1 415 555 0101\n"))
    assert not t.has_header
    assert t.columns == ["Column 1", "Column 2"]
    assert t.phone_column == "Column 2"
    assert [r["Column 1"] for r in t.rows] == ["John", "Amy"]
    assert t.row_numbers == [1, 2]


def test_excel_sep_hint_line(tmp_path):
    t = read_contacts(write(tmp_path / "c.csv", "sep=;\r\nName;Phone\r\nA, B;+14155550100\r\n"))
    assert t.delimiter == ";"
    assert t.columns == ["Name", "Phone"]
    assert t.rows[0]["Name"] == "A, B"
    assert t.row_numbers == [2]


def test_header_row_after_empty_lines(tmp_path):
    t = read_contacts(write(tmp_path / "c.csv", "\n\nName,Phone\nAnn,+14155550100\n"))
    assert t.columns == ["Name", "Phone"]
    assert t.row_numbers == [4]


# -- XLSX ------------------------------------------------------------------------------------


def make_xlsx(path, rows, title="Contacts"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_floats_ints_and_text(tmp_path):
    p = make_xlsx(
        tmp_path / "c.xlsx",
        [
            ["Name", "WhatsApp", "Score", "Joined"],
            ["Asha", 919876543210.0, 1.5, None],
            ["Ravi", 919876543211, 2.0, None],
            ["Meera", "+91 98765 43212", None, "x"],
        ],
    )
    t = read_contacts(p)
    assert t.format == "xlsx"
    assert t.sheet == "Contacts"
    assert [r["WhatsApp"] for r in t.rows] == ["919876543210", "919876543211", "+91 98765 43212"]
    assert "E" not in t.rows[0]["WhatsApp"]
    assert t.rows[0]["Score"] == "1.5"
    assert t.rows[1]["Score"] == "2"
    assert t.rows[0]["Joined"] == ""
    assert t.phone_column == "WhatsApp"
    assert t.row_numbers == [2, 3, 4]


def test_xlsx_skips_empty_first_sheet_and_trailing_empty_rows(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Empty"
    ws = wb.create_sheet("Data")
    ws.append(["Name", "Phone"])
    ws.append(["Ann", "+14155550100"])
    ws.cell(row=50, column=1).value = None  # touch a far cell
    ws.cell(row=50, column=1).number_format = "0"
    wb.save(tmp_path / "c.xlsx")
    t = read_contacts(tmp_path / "c.xlsx")
    assert t.sheet == "Data"
    assert t.row_numbers == [2]


def test_xlsx_broken_zip(tmp_path):
    good = make_xlsx(tmp_path / "good.xlsx", [["Name", "Phone"], ["A", "+14155550100"]])
    data = good.read_bytes()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(data[: len(data) // 2])  # truncated: zip directory missing
    with pytest.raises(ContactsError) as e:
        read_contacts(bad)
    assert "bad.xlsx" in str(e.value) and "Excel" in str(e.value)
    assert "\n" not in str(e.value)


def test_zip_that_is_not_a_workbook(tmp_path):
    p = tmp_path / "c.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ContactsError, match=r"c.xlsx.*Excel"):
        read_contacts(p)


def test_xlsx_extension_but_text(tmp_path):
    with pytest.raises(ContactsError, match=r"not a valid .xlsx"):
        read_contacts(write(tmp_path / "c.xlsx", "Name,Phone\nA,1\n"))


def test_xlsx_renamed_csv_is_read_as_xlsx(tmp_path):
    p = make_xlsx(tmp_path / "c.xlsx", [["Name", "Phone"], ["A", "+14155550100"]])
    q = tmp_path / "c.csv"
    q.write_bytes(p.read_bytes())
    assert read_contacts(q).format == "xlsx"


# -- vCard -------------------------------------------------------------------------------------

VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Asha Rao\r\nN:Rao;Asha;;;\r\n"
    "TEL;TYPE=CELL:+91 98765 43210\r\nTEL;TYPE=WORK,VOICE:+91 22 2345 6789\r\n"
    "item1.TEL;type=pref:+91-98765-43211\r\nitem1.X-ABLabel:WhatsApp\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jos=C3=A9 Garc=C3=\r\n=ADa\r\n"
    "TEL;CELL;PREF:+34612345678\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Lee;Ann;;Dr.;\r\nTEL;VALUE=uri;TYPE=cell:tel:+1-415-555-0100\r\n"
    "NOTE:a folded\r\n  note\r\nORG:Acme\\, Inc.\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Number\r\nEMAIL:x@y.z\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Long\r\n Folded Name\r\nTEL:+44 7911 1234\r\n 56\r\nEND:VCARD\r\n"
)


def test_vcf_cards_tels_folding_qp(tmp_path):
    t = read_contacts(write(tmp_path / "c.vcf", VCF))
    assert t.format == "vcf"
    assert t.phone_column == "Phone"
    got = [(n, r["Name"], r["Phone"], r["Type"]) for n, r in zip(t.row_numbers, t.rows)]
    assert got == [
        (1, "Asha Rao", "+91 98765 43210", "cell"),
        (1, "Asha Rao", "+91 22 2345 6789", "work"),
        (1, "Asha Rao", "+91-98765-43211", ""),
        (2, "José García", "+34612345678", "cell"),
        (3, "Dr. Ann Lee", "+1-415-555-0100", "cell"),
        (4, "No Number", "", ""),
        (5, "LongFolded Name", "+44 7911 123456", ""),
    ]
    assert t.rows[4]["Organization"] == "Acme, Inc."
    assert t.rows[5]["Email"] == "x@y.z"
    assert t.name_of(t.rows[0]) == "Asha Rao"


def test_vcf_extension_without_cards(tmp_path):
    with pytest.raises(ContactsError, match="not a vCard"):
        read_contacts(write(tmp_path / "c.vcf", "Name,Phone\nA,1\n"))


# -- Google / Outlook / column choice -------------------------------------------------------------

GOOGLE_OLD = [
    "Name",
    "Given Name",
    "Additional Name",
    "Family Name",
    "Nickname",
    "Birthday",
    "Notes",
    "Group Membership",
    "E-mail 1 - Type",
    "E-mail 1 - Value",
    "Phone 1 - Type",
    "Phone 1 - Value",
    "Phone 2 - Type",
    "Phone 2 - Value",
]
GOOGLE_NEW = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Phonetic First Name",
    "Nickname",
    "File As",
    "Organization Name",
    "Organization Title",
    "Birthday",
    "Notes",
    "Labels",
    "E-mail 1 - Label",
    "E-mail 1 - Value",
    "Phone 1 - Label",
    "Phone 1 - Value",
    "Phone 2 - Label",
    "Phone 2 - Value",
]
OUTLOOK = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Title",
    "Suffix",
    "Nickname",
    "E-mail Address",
    "E-mail 2 Address",
    "Business Phone",
    "Business Phone 2",
    "Business Fax",
    "Home Phone",
    "Home Phone 2",
    "Home Fax",
    "Mobile Phone",
    "Other Phone",
    "Pager",
    "Primary Phone",
    "Company",
    "Job Title",
    "Notes",
    "Birthday",
]


def csv_of(tmp_path, header, rows, name="c.csv"):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return write(tmp_path / name, buf.getvalue())


def test_google_old_export(tmp_path):
    p = csv_of(
        tmp_path,
        GOOGLE_OLD,
        [
            {
                "Name": "Asha Rao",
                "Given Name": "Asha",
                "Family Name": "Rao",
                "Phone 1 - Type": "Mobile",
                "Phone 1 - Value": "+91 98765 43210",
                "Phone 2 - Type": "Work",
                "Phone 2 - Value": "+91 22 2345 6789",
            },
            {
                "Name": "",
                "Given Name": "Ravi",
                "Family Name": "K",
                "Phone 1 - Type": "Mobile",
                "Phone 1 - Value": "+91 98765 43211",
            },
        ],
    )
    t = read_contacts(p)
    assert t.phone_column == "Phone 1 - Value"
    assert t.name_columns == ["Name"]
    assert t.name_of(t.rows[0]) == "Asha Rao"
    assert t.name_of(t.rows[1]) == "Ravi K"  # falls back to Given + Family


def test_google_new_export(tmp_path):
    p = csv_of(
        tmp_path,
        GOOGLE_NEW,
        [
            {
                "First Name": "Asha",
                "Middle Name": "M",
                "Last Name": "Rao",
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": "+91 98765 43210",
                "Organization Name": "Acme",
            },
        ],
    )
    t = read_contacts(p)
    assert t.phone_column == "Phone 1 - Value"
    assert t.name_columns == ["First Name", "Middle Name", "Last Name"]
    assert t.name_of(t.rows[0]) == "Asha M Rao"


def test_outlook_export_prefers_filled_mobile(tmp_path):
    p = csv_of(
        tmp_path,
        OUTLOOK,
        [
            {
                "First Name": "Ann",
                "Last Name": "Lee",
                "Business Phone": "+1 415 555 0199",
                "Mobile Phone": "+1 415 555 0100",
                "Business Fax": "+1 415 555 0999",
            },
            {"First Name": "Bob", "Mobile Phone": "(415) 555-0101"},
        ],
    )
    t = read_contacts(p)
    assert t.phone_column == "Mobile Phone"
    assert t.name_of(t.rows[0]) == "Ann Lee"


def test_outlook_export_with_empty_mobile_column(tmp_path):
    p = csv_of(
        tmp_path,
        OUTLOOK,
        [
            {"First Name": "Ann", "Primary Phone": "+1 415 555 0100", "Business Fax": "+1 415 555 0999"},
            {"First Name": "Bob", "Primary Phone": "+1 415 555 0101", "Home Phone": "+1 415 555 0111"},
        ],
    )
    assert read_contacts(p).phone_column == "Primary Phone"


def test_phone_column_by_content(tmp_path):
    p = write(tmp_path / "c.csv", "Who,Zip,Digits,Note\nAnn,94110,+1 415 555 0100,hi\nBob,94111,415-555-0101,yo\n")
    assert read_contacts(p).phone_column == "Digits"


def test_mobile_beats_phone_by_name(tmp_path):
    p = write(tmp_path / "c.csv", "Phone,Mobile No\n+14155550100,+14155550101\n")
    assert read_contacts(p).phone_column == "Mobile No"


def test_phone_column_override_case_insensitive(tmp_path):
    p = write(tmp_path / "c.csv", "Name,Mobile,Office Phone\nA,+14155550100,+14155550101\n")
    assert read_contacts(p, phone_column="office phone").phone_column == "Office Phone"


def test_phone_column_override_missing(tmp_path):
    p = write(tmp_path / "c.csv", "Name,Mobile\nA,+14155550100\n")
    with pytest.raises(ContactsError) as e:
        read_contacts(p, phone_column="Telefon")
    msg = str(e.value)
    assert "c.csv" in msg and "'Telefon'" in msg and "'Name'" in msg and "'Mobile'" in msg


def test_no_phone_column(tmp_path):
    p = write(tmp_path / "c.csv", "Name,Email\nAnn,a@b.c\nBob,b@c.d\n")
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    msg = str(e.value)
    assert "c.csv" in msg and "no phone column" in msg
    assert "'Name', 'Email'" in msg and "--phone-column" in msg


def test_phone_named_column_with_garbage_is_still_chosen(tmp_path):
    p = write(tmp_path / "c.csv", "Name,Phone\nAnn,n/a\nBob,ask later\n")
    assert read_contacts(p).phone_column == "Phone"


# -- errors ----------------------------------------------------------------------------------------


def assert_one_line(err, filename):
    msg = str(err.value)
    assert filename in msg
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_missing_file(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(tmp_path / "nope.csv")
    assert "not found" in assert_one_line(e, "nope.csv")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert "empty (0 bytes)" in assert_one_line(e, "empty.csv")


def test_header_only(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(write(tmp_path / "h.csv", "Name,Phone\n"))
    assert "no data rows" in assert_one_line(e, "h.csv")


def test_header_and_blank_lines_only(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(write(tmp_path / "h.csv", "Name,Phone\n,\n\n"))
    assert "no data rows" in assert_one_line(e, "h.csv")


def test_only_whitespace(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(write(tmp_path / "w.csv", "\n\n  \n"))
    assert_one_line(e, "w.csv")


def test_png_renamed_csv(tmp_path):
    p = tmp_path / "photo.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert "not a contact file" in assert_one_line(e, "photo.csv")


def test_pdf(tmp_path):
    p = tmp_path / "list.pdf"
    p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert "PDF" in assert_one_line(e, "list.pdf")


def test_random_binary(tmp_path):
    import random

    rng = random.Random(3)
    p = tmp_path / "blob.csv"
    p.write_bytes(bytes(rng.randrange(256) for _ in range(5000)))
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert_one_line(e, "blob.csv")


def test_old_xls(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert ".xlsx" in assert_one_line(e, "old.xls")


def test_unknown_extension(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(write(tmp_path / "c.json", '{"a": 1}'))
    assert "unknown file type" in assert_one_line(e, "c.json")


def test_unreadable_encoding(tmp_path):
    # names made of random high bytes: invalid UTF-8, invalid cp1252, no encoding fits
    import random

    rng = random.Random(0)
    body = b"".join(bytes(rng.randrange(0x80, 0x100) for _ in range(12)) + b",+14155550100\n" for _ in range(40))
    p = tmp_path / "enc.csv"
    p.write_bytes(b"Name,Phone\n" + body)
    with pytest.raises(ContactsError) as e:
        read_contacts(p)
    assert "encoding" in assert_one_line(e, "enc.csv")


def test_directory(tmp_path):
    with pytest.raises(ContactsError) as e:
        read_contacts(tmp_path)
    assert "directory" in str(e.value)
