"""`read:stalls`: the public fields of active stalls and their region; `write:stalls`: upserts."""

from flask.views import MethodView
from sqlalchemy import select

from promkm_qr.api.access import caller, city_wide_only, refuse_items, requires, resource
from promkm_qr.api.paging import decode_cursor, encode_cursor, iso_wib
from promkm_qr.api.schemas import StallArgs, StallPage
from promkm_qr.api.write_schemas import StallUpsert, StallUpserted
from promkm_qr.api.writes import ItemsRefused, upsert_stalls
from promkm_qr.dashboard.queries import run
from promkm_qr.models import Category, Kecamatan, Kelurahan, Stall

bp = resource("api_stalls", "/api/v1/stalls", "Active stalls (public fields) and their region.")


def stall_page(args: dict) -> tuple[list[dict], str | None]:
    """Active stalls by code after the cursor, and the code to continue after."""
    query = (
        select(Stall.id, Stall.code, Stall.name, Stall.status, Category.name.label("category"),
               Stall.address, Stall.lat, Stall.lon, Stall.updated_at,
               Kelurahan.code.label("kel_code"), Kelurahan.name.label("kel"),
               Kecamatan.code.label("kec_code"), Kecamatan.name.label("kec"))
        .join(Kelurahan, Kelurahan.id == Stall.kelurahan_id)
        .join(Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id)
        .outerjoin(Category, Category.id == Stall.category_id)
        .where(Stall.status == "active")
        .order_by(Stall.code)
        .limit(args["limit"] + 1)
    )  # fmt: skip
    if args.get("kelurahan_code"):
        query = query.where(Kelurahan.code == args["kelurahan_code"])
    after = decode_cursor(args.get("cursor"), (str,))
    if after is not None:
        query = query.where(Stall.code > after[0])
    rows = run(query).all()
    items = [
        {"id": r.id, "code": r.code, "name": r.name, "status": r.status, "category": r.category,
         "address": r.address, "lat": r.lat, "lon": r.lon, "kelurahan_code": r.kel_code,
         "kelurahan": r.kel, "kecamatan_code": r.kec_code, "kecamatan": r.kec,
         "updated_at": iso_wib(r.updated_at)}
        for r in rows[: args["limit"]]
    ]  # fmt: skip
    return items, (items[-1]["code"] if len(rows) > args["limit"] else None)


@bp.route("")
class Stalls(MethodView):
    """Stalls."""

    @requires(bp, "read:stalls")
    @bp.arguments(StallArgs, location="query")
    @bp.response(200, StallPage)
    def get(self, args):
        """Active stalls in code order, optionally of one kelurahan (its Kemendagri code)."""
        items, last = stall_page(args)
        return {"items": items, "next_cursor": None if last is None else encode_cursor(last)}

    @requires(bp, "write:stalls")
    @bp.arguments(StallUpsert)
    @bp.response(200, StallUpserted)
    def post(self, body):
        """Create or update stalls with the file import's rules: all of them, or none.

        A refused item is named in the 422 problem's `errors.json.items` by its index and
        field. Needs a city-wide client."""
        city_wide_only()
        try:
            return upsert_stalls(body["items"], caller().id)
        except ItemsRefused as exc:
            raise refuse_items(exc.errors, exc.detail) from exc
