"""Property-based tests of the stall import, the parser of the spreadsheets dinas upload.

Whatever a file holds, it is refused as a whole with a message (ImportRefused) or imported
row by row: every non-blank row is created, updated, unchanged or refused with its line
number, and the job never fails. A valid generated row imports and reads back unchanged.
"""

import csv
import io
import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Category, Job, Kelurahan, Stall
from promkm_qr.stalls import spreadsheet
from promkm_qr.storage import get_storage
from promkm_qr.tasks.stalls import import_stalls
from tests.support.spreadsheets import csv_bytes, xlsx_bytes

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Running a whole import job per example costs more: fewer examples.
JOB_SETTINGS = settings(SETTINGS, max_examples=40)
FIELDS = list(spreadsheet.COLUMNS)

MOBILE_PREFIXES = ("11", "12", "13", "21", "22", "31", "38", "52", "57", "77", "81", "95", "99")


@st.composite
def header_name(draw, field: str) -> str:
    """One of the field's names as people write it: any case, any separator, padded."""
    name = draw(st.sampled_from(spreadsheet.COLUMNS[field]))
    name = name.replace("_", draw(st.sampled_from([" ", "_", "-", ". ", "  "])))
    name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    pad = st.sampled_from(["", " ", "\t"])
    return draw(pad) + name + draw(pad)


@st.composite
def header(draw, fields=None) -> tuple[list[str], list[str]]:
    """(header cells, the field of each cell or "" for a column nobody knows)."""
    chosen = fields or (
        list(spreadsheet.REQUIRED)
        + [f for f in FIELDS if f not in spreadsheet.REQUIRED and draw(st.booleans())]
    )
    cells = [(draw(header_name(f)), f) for f in chosen]
    cells += [(name, "") for name in draw(st.lists(st.sampled_from(["No", "Ket."]), max_size=2))]
    cells = draw(st.permutations(cells))
    return [c for c, _f in cells], [f for _c, f in cells]


CELL = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9 +.\-]{0,20}", fullmatch=True),
    st.sampled_from(["Kelun", "35.77.02.1001", "kuliner", "Sembako", "-7.6", "111,52", "1e400"]),
)


def _run(data: bytes, filename: str) -> Job:
    """Import a file through the real job, in this process."""
    key = f"imports/properties-{filename}"
    get_storage().put(key, data)
    job = create_job("import", {"upload_key": key, "filename": filename})
    db.session.commit()
    import_stalls(job.id)
    db.session.rollback()
    return db.session.get(Job, job.id)


def _refused_lines(job: Job) -> set[int]:
    if not job.result_key:
        return set()
    text = get_storage().get(job.result_key).decode("utf-8-sig")
    return {int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]}


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(["l.csv", "l.xlsx", "l.ods"]))
def test_any_bytes_are_read_or_refused_with_a_message(app, data, name):
    try:
        spreadsheet.check_header(data, name)
        for number, cells in spreadsheet.read_rows(data, name):
            assert number >= 1 and all(isinstance(c, str) for c in cells)
    except spreadsheet.ImportRefused as exc:
        assert str(exc)


@SETTINGS
@given(head=header(FIELDS))
def test_every_header_variant_finds_its_columns(app, head):
    cells, fields = head
    assert spreadsheet.map_header(cells) == {f: i for i, f in enumerate(fields) if f}


@SETTINGS
@given(head=header(), missing=st.sampled_from(spreadsheet.REQUIRED))
def test_a_header_without_a_required_column_refuses_the_file(app, head, missing):
    cells = [c for c, f in zip(*head, strict=True) if f != missing]
    with pytest.raises(spreadsheet.ImportRefused, match="nama_usaha"):
        spreadsheet.map_header(cells)


@JOB_SETTINGS
@given(
    head=header(),
    body=st.lists(st.lists(CELL, max_size=14), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";"]),
)
def test_any_cells_are_imported_or_refused_row_by_row_with_their_line(app, head, body, delimiter):
    cells, _fields = head
    data = csv_bytes([cells, *body], delimiter)
    rows = list(spreadsheet.read_rows(data, "l.csv"))
    job = _run(data, "lapak.csv")
    assert job.state == "done", job.error
    refused = _refused_lines(job)
    assert refused <= {number for number, _row in rows[1:]}
    counts = job.params["counts"]
    taken = counts["created"] + counts["updated"] + counts["unchanged"]
    # Every row that holds something is accounted for once (a row of empty known columns
    # is refused for its missing name, so it counts too).
    assert taken + job.failed == len([n for n, row in rows[1:] if any(row)])
    assert len(refused) == job.failed


def test_a_nul_in_a_cell_refuses_only_that_row(app):
    head = ["nama_usaha", "NIK Pemilik", "Desa", "Alamat"]
    rows = [["Warung\x00Sri", "3577014107850002", "Kelun", "Jl. A"]]
    rows += [["Warung Sri", "3577014107850002", "Kelun", "Jl. A"]]
    job = _run(csv_bytes([head, *rows]), "lapak.csv")
    assert job.state == "done"
    assert _refused_lines(job) == {2}
    assert db.session.scalars(select(Stall.name)).all() == ["Warung Sri"]


@st.composite
def nik(draw) -> str:
    """A Kota Madiun NIK: district, birth date (women +40 on the day), serial."""
    born = draw(st.dates(date(1950, 1, 1), date(2005, 12, 31)))
    day = born.day + (40 if draw(st.booleans()) else 0)
    district = draw(st.sampled_from(["01", "02", "03"]))
    serial = draw(st.integers(1, 9999))
    return f"3577{district}{day:02d}{born:%m%y}{serial:04d}"


NIB_SERIAL = itertools.count(1_000_000_000_000)
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'.&- ABCDEFGHIJ", min_size=1, max_size=60)


def _tidy(text: str) -> str:
    return " ".join(text.split()) or "X"


@st.composite
def valid_row(draw, kelurahan: list, categories: list) -> dict:
    kel = draw(st.sampled_from(kelurahan))
    category = draw(st.sampled_from(categories))
    return {
        "name": _tidy(draw(WORDS)),
        "owner_name": _tidy(draw(WORDS)),
        "owner_nik": draw(nik()),
        # Indonesian mobiles only (phonenumbers' operator ranges), as forms and imports accept.
        "phone": "08"
        + draw(st.sampled_from(MOBILE_PREFIXES))
        + draw(st.from_regex(r"[0-9]{7,9}", fullmatch=True)),
        "kelurahan": draw(st.sampled_from([kel.name, kel.code, kel.name.upper()])),
        "kelurahan_id": kel.id,
        "category": draw(st.sampled_from([category.slug, category.name])),
        "category_id": category.id,
        "address": _tidy(draw(WORDS)),
        # A NIB names one stall (a row with a known NIB updates it), so each is new here.
        "nib": f"{next(NIB_SERIAL):013d}" if draw(st.booleans()) else "",
        # Seven decimals (about a centimetre): a spreadsheet keeps no more than 15 digits.
        "lat": draw(st.one_of(st.none(), st.floats(-8.0, -7.0).map(lambda v: round(v, 7)))),
        "lon": draw(st.one_of(st.none(), st.floats(111.0, 112.0).map(lambda v: round(v, 7)))),
    }


def _reference() -> tuple[list, list]:
    kelurahan = db.session.scalars(select(Kelurahan).order_by(Kelurahan.id)).all()
    categories = db.session.scalars(select(Category).order_by(Category.id)).all()
    return kelurahan, categories


@JOB_SETTINGS
@given(data=st.data(), kind=st.sampled_from(["csv", "xlsx"]))
def test_a_valid_row_imports_and_reads_back_unchanged(app, data, kind):
    kelurahan, categories = _reference()
    row = data.draw(valid_row(kelurahan, categories))
    head = ["nama_usaha", "Nama Pemilik", "NIK Pemilik", "No. HP", "Desa", "Kategori"]
    head += ["Alamat", "NIB", "Lintang", "Bujur"]
    keys = ["name", "owner_name", "owner_nik", "phone", "kelurahan", "category"]
    keys += ["address", "nib", "lat", "lon"]
    values = ["" if row[k] is None else row[k] for k in keys]
    if kind == "xlsx":
        job = _run(xlsx_bytes([head, values]), "lapak.xlsx")
    else:
        cells = [repr(v) if isinstance(v, float) else v for v in values]
        job = _run(csv_bytes([head, cells]), "l.csv")
    assert job.state == "done" and job.failed == 0, _refused_lines(job)
    stall = db.session.scalar(
        select(Stall).where(
            Stall.owner_nik == row["owner_nik"],
            Stall.name == row["name"],
            Stall.kelurahan_id == row["kelurahan_id"],
        )
    )
    assert stall is not None
    assert (stall.category_id, stall.address, stall.nib or "", stall.phone) == (
        row["category_id"],
        row["address"],
        row["nib"],
        row["phone"],
    )
    assert (stall.lat, stall.lon) == (row["lat"], row["lon"])
