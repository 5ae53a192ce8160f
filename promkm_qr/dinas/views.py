"""Dinas views."""

from flask import render_template

from promkm_qr.dinas import bp


@bp.route("/")
def home():
    """The staff start page."""
    return render_template("dinas/home.html")
