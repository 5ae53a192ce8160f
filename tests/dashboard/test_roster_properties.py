"""Property-based tests of the roster import, the parser of the BKPSDM files dinas upload.

Whatever a file holds, reading it refuses the whole file with a message (RosterFileError) or
yields rows, and parsing refuses single rows by their line number: nothing else escapes to
the page as a server error. A valid generated roster imports and reads back unchanged.
"""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from promkm_qr.accounts import roster, roster_file
from promkm_qr.extensions import db
from promkm_qr.models import User
from promkm_qr.reference import QUOTA_RULES
from tests.support.spreadsheets import csv_bytes, xlsx_bytes

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Each field under one of the names BKPSDM exports use, in any case, padded.
FIELD_NAMES = {
    field: sorted(name for name, f in roster_file.HEADERS.items() if f == field)
    for field in ("nip", "name", "opd", "position", "golongan", "tpp")
}


@st.composite
def header_name(draw, field: str) -> str:
    name = draw(st.sampled_from(FIELD_NAMES[field]))
    name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    pad = st.sampled_from(["", " ", "  ", "\t"])
    return draw(pad) + name + draw(pad)


@st.composite
def header(draw) -> list[str]:
    """The required columns and any of the optional ones, in any order, maybe extra ones."""
    fields = ["nip", "name", "opd", "position"]
    fields += [f for f in ("golongan", "tpp") if draw(st.booleans())]
    names = [draw(header_name(f)) for f in fields]
    names += draw(st.lists(st.sampled_from(["No", "Keterangan", ""]), max_size=2))
    return draw(st.permutations(names))


CELL = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9 .]{0,22}", fullmatch=True),
    st.sampled_from(["Pelaksana", "Eselon IV", "III/a", "4.500.000", "Rp1.000.000,-", "-"]),
)


@st.composite
def nip(draw) -> str:
    """A valid PNS NIP: birth date, appointment after the 18th birthday, gender, serial."""
    born = draw(st.dates(date(1960, 1, 1), date(2000, 12, 31)))
    year = draw(st.integers(born.year + 19, 2024))
    month = draw(st.integers(1, 12))
    gender = draw(st.sampled_from("12"))
    serial = draw(st.integers(1, 999))
    return f"{born:%Y%m%d}{year}{month:02d}{gender}{serial:03d}"


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'. ABCDEFGHIJ", min_size=1, max_size=40)


def _tidy(text: str) -> str:
    return " ".join(text.split()) or "X"


@st.composite
def valid_row(draw) -> dict:
    return {
        "nip": draw(nip()),
        "name": _tidy(draw(WORDS)),
        "opd": _tidy(draw(WORDS)),
        "position": draw(st.sampled_from([p for p, _ in QUOTA_RULES])),
        "golongan": draw(st.sampled_from(["", "II/c", "III/a", "IV/b"])),
        "tpp": draw(st.one_of(st.none(), st.integers(0, 50_000_000))),
    }


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(["r.csv", "r.xlsx", "r.txt"]))
def test_any_bytes_are_read_or_refused_with_a_message(app, data, name):
    try:
        table = roster_file.read_table(name, data)
    except roster_file.RosterFileError as exc:
        assert str(exc)
    else:
        assert all(isinstance(cell, str) for row in table for cell in row)


@SETTINGS
@given(head=header(), body=st.lists(st.lists(CELL, max_size=8), max_size=6))
def test_any_cells_are_refused_row_by_row_with_their_line(app, head, body):
    table = [head, *body]
    rows, errors = roster_file.parse_roster(table)
    lines = [row.line for row in rows] + [line for line, _message in errors]
    assert len(lines) == len(set(lines))  # each line is either taken or refused, once
    assert all(2 <= line <= len(table) for line in lines)
    assert all(message for _line, message in errors)
    # Only blank lines are neither taken nor refused.
    skipped = set(range(2, len(table) + 1)) - set(lines)
    columns = {i for i, h in enumerate(head) if h.strip().lower() in roster_file.HEADERS}
    for line in skipped:
        cells = table[line - 1]
        assert not any(cells[i].strip() for i in columns if i < len(cells))


def test_a_nul_in_a_cell_refuses_that_row(app):
    table = [["NIP", "Nama", "OPD", "Kelas Jabatan"]]
    table += [["198609262015051001", "Sri\x00", "Dinas Kesehatan", "Pelaksana"]]
    rows, errors = roster_file.parse_roster(table)
    assert rows == [] and [line for line, _message in errors] == [2]


@SETTINGS
@given(cells=st.lists(st.text(max_size=12), max_size=6))
def test_a_header_without_the_required_columns_refuses_the_file(app, cells):
    names = {c.strip().lower() for c in cells}
    required = {n for n, f in roster_file.HEADERS.items() if f in roster_file.REQUIRED}
    if {roster_file.HEADERS[n] for n in names & required} >= set(roster_file.REQUIRED):
        return  # a complete header by chance
    with pytest.raises(roster_file.RosterFileError):
        roster_file.parse_roster([cells, ["198609262015051001", "A", "B", "Pelaksana"]])


def _file(people: list[dict], kind: str) -> tuple[bytes, str]:
    """A roster file of the people, as BKPSDM would export it."""
    head = ["NIP", "Nama", "Unit Kerja", "Kelas Jabatan", "Golongan", "TPP"]
    rows = [
        [p["nip"], p["name"], p["opd"], p["position"], p["golongan"], _blank(p["tpp"])]
        for p in people
    ]
    if kind == "xlsx":
        return xlsx_bytes([head, *rows]), "roster.xlsx"
    return csv_bytes([head, *[[str(c) for c in row] for row in rows]], kind[-1]), "roster.csv"


PEOPLE = st.lists(valid_row(), min_size=1, max_size=5, unique_by=lambda r: r["nip"])
KINDS = st.sampled_from(["csv,", "csv;", "xlsx"])


@SETTINGS
@given(people=PEOPLE, kind=KINDS)
def test_a_valid_roster_parses_to_its_values(app, people, kind):
    data, name = _file(people, kind)
    rows, errors = roster_file.parse_roster(roster_file.read_table(name, data))
    assert errors == []
    assert [(r.line, r.nip, r.name, r.opd, r.position, r.golongan, r.tpp) for r in rows] == [
        (n, p["nip"], p["name"], p["opd"], p["position"], p["golongan"] or None, p["tpp"])
        for n, p in enumerate(people, start=2)
    ]


# Fewer examples: every new account gets a scrypt-hashed activation code.
@settings(SETTINGS, max_examples=15)
@given(
    people=st.lists(valid_row(), min_size=1, max_size=3, unique_by=lambda r: r["nip"]), kind=KINDS
)
def test_a_valid_roster_imports_and_reads_back_unchanged(app, people, kind):
    data, name = _file(people, kind)
    try:
        result = roster.import_roster(name, data)
        assert result.errors == []
        assert result.created + result.updated == len(people)
        db.session.flush()
        for p in people:
            user = db.session.scalar(select(User).where(User.nip == p["nip"]))
            profile = user.asn
            assert (user.name, profile.opd.name, profile.position_class) == (
                p["name"],
                _first_opd_name(people, p["opd"]),
                p["position"],
            )
            assert profile.golongan == (p["golongan"] or None)
            assert profile.tpp_amount == p["tpp"]
            assert profile.on_roster and user.active
    finally:
        db.session.rollback()


def _blank(value):
    return "" if value is None else value


def _first_opd_name(people: list[dict], opd: str) -> str:
    """OPD names differing only in case are one OPD, named as first written."""
    return next(p["opd"] for p in people if p["opd"].lower() == opd.lower())
