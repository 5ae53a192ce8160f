"""Merchant views."""

from flask import render_template

from promkm_qr.merchant import bp


@bp.route("/")
def home():
    """The merchant's start page."""
    return render_template("merchant/home.html")
