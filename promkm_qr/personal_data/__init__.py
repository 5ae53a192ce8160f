"""A person's own data: the "Unduh data saya" archive made by a worker (UU 27/2022)."""

from flask import Blueprint

bp = Blueprint("personal_data", __name__)

from promkm_qr.personal_data import views  # noqa: E402, F401
