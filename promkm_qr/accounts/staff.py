"""Staff accounts: roles and kecamatan/kelurahan scopes, every change in the audit trail."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from promkm_qr import audit
from promkm_qr.accounts.passwords import WeakPassword, check_new_password
from promkm_qr.auth.services import create_user, find_account, hash_password
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.models import Kecamatan, Kelurahan, User
from promkm_qr.models.account import STAFF_ROLES

ROLE_LABELS = {
    "admin": _l("Admin (semua)"),
    "operator": _l("Operator (lapak, poster, impor)"),
    "reviewer": _l("Peninjau (antrean tinjauan, laporan)"),
    "viewer": _l("Pengamat (dasbor saja)"),
}


def scope_choices() -> list[SelectChoice]:
    """Scope options: the whole city, each kecamatan, each kelurahan."""
    choices = [SelectChoice("", str(_l("Seluruh kota")))]
    for kec in db.session.scalars(select(Kecamatan).order_by(Kecamatan.code)):
        choices.append(SelectChoice(f"kec:{kec.id}", f"Kec. {kec.name}"))
        choices += [SelectChoice(f"kel:{kel.id}", f"— Kel. {kel.name}") for kel in kec.kelurahan]
    return choices


def scope_value(user: User) -> str:
    """A staff member's scope as a choice value."""
    if user.scope_kelurahan_id:
        return f"kel:{user.scope_kelurahan_id}"
    return f"kec:{user.scope_kecamatan_id}" if user.scope_kecamatan_id else ""


def scope_label(user: User) -> str:
    """A staff member's scope in words."""
    if user.scope_kelurahan_id:
        return "Kel. " + db.session.get(Kelurahan, user.scope_kelurahan_id).name
    if user.scope_kecamatan_id:
        return "Kec. " + db.session.get(Kecamatan, user.scope_kecamatan_id).name
    return str(_l("Seluruh kota"))


class StaffForm(Form):
    """Create or edit a staff account."""

    username = StringField(_l("Nama pengguna"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Nama lengkap"), validators=[DataRequired(), Length(max=200)])
    staff_role = SelectField(
        _l("Peran"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in STAFF_ROLES],
        default="viewer",
    )
    scope = SelectField(_l("Wilayah"), choices=[])
    password = PasswordField(_l("Kata sandi"), validators=[Optional()])
    active = BooleanField(_l("Aktif"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = scope_choices()


def staff_list() -> list[User]:
    """Every staff account, by username."""
    return list(
        db.session.scalars(select(User).where(User.role == "dinas").order_by(User.username))
    )


def save_staff(form: StaffForm, actor_id: int, user: User | None = None) -> User | None:
    """Create (user None) or update a staff account from a valid form; None if the name is taken."""
    username = form.username.data.strip().lower()
    other = find_account("dinas", username)
    if other is not None and other is not user:
        form.username.errors.append(_l("Nama pengguna sudah dipakai."))
        return None
    if form.password.data:
        try:
            check_new_password(form.password.data, username=username)
        except WeakPassword as exc:
            form.password.errors.append(str(exc))
            return None
    creating = user is None
    if creating:
        if not form.password.data:
            form.password.errors.append(_l("Kata sandi wajib diisi untuk akun baru."))
            return None
        user = create_user("dinas", form.name.data, username, form.password.data)
    elif form.password.data:
        user.password_hash = hash_password(form.password.data)
        user.session_version += 1  # whoever held the old password is signed out
        audit.record(
            "staff.password_reset",
            "user",
            user.id,
            actor_id=actor_id,
            data={"sessions_ended": True},
        )
    kind, _sep, ident = form.scope.data.partition(":")
    was_active = user.active
    user.username, user.name, user.staff_role = (
        username,
        form.name.data.strip(),
        form.staff_role.data,
    )
    user.scope_kecamatan_id = int(ident) if kind == "kec" else None
    user.scope_kelurahan_id = int(ident) if kind == "kel" else None
    # The add form has no active box: a new account starts active.
    user.active = True if creating else form.active.data
    if was_active and not user.active:
        user.session_version += 1  # deactivation ends every session at once
    db.session.flush()
    audit.record(
        "staff.saved",
        "user",
        user.id,
        actor_id=actor_id,
        data={
            "role": user.staff_role,
            "scope": form.scope.data,
            "active": user.active,
        },
    )
    db.session.commit()
    return user
