"""ASN views."""

from flask import render_template

from promkm_qr.asn import bp


@bp.route("/")
def home():
    """The ASN's start page."""
    return render_template("asn/home.html")


@bp.route("/lapor/<token>")
def report(token: str):
    """The report form for the stall a signed link names."""
    return render_template("asn/home.html")
