"""ASN views."""

from flask import render_template

from promkm_qr.asn import bp


@bp.route("/")
def home():
    """The ASN's start page."""
    return render_template("asn/home.html")
