"""`write:roster`: the ASN roster from SIASN/BKPSDM, with the file import's rules and results."""

from flask.views import MethodView

from promkm_qr.api.access import caller, city_wide_only, refuse_items, requires, resource
from promkm_qr.api.write_schemas import RosterApplied, RosterUpsert
from promkm_qr.api.writes import ItemsRefused, apply_roster

bp = resource("api_roster", "/api/v1/roster", "The ASN roster (BKPSDM/SIASN).")


@bp.route("")
class Roster(MethodView):
    """The roster."""

    @requires(bp, "write:roster")
    @bp.arguments(RosterUpsert)
    @bp.response(200, RosterApplied, headers={"Cache-Control": {"schema": {"type": "string"}}})
    def put(self, body):
        """Replace the roster: new ASN get accounts, listed ones are updated, the others are
        taken off it (deactivated, signed out, history kept). All or nothing: a refused item
        is named in the 422 problem's `errors.json.items` by its index.

        The activation codes of new accounts are in this answer only (`Cache-Control:
        no-store`); nothing else keeps them. Needs a city-wide client."""
        city_wide_only()
        try:
            result = apply_roster(body["items"], caller().id)
        except ItemsRefused as exc:
            raise refuse_items(exc.errors, exc.detail) from exc
        return result, 200, {"Cache-Control": "no-store"}
