"""Role checks that every blueprint installs before its views run."""

from functools import wraps

from flask import Blueprint, abort, request
from flask_login import current_user, login_required


def require_role(bp: Blueprint, role: str, *, exempt: tuple[str, ...] = ()) -> None:
    """Make every view of bp demand a signed-in user of the given role."""

    @bp.before_request
    @login_required
    def check_role():
        if request.endpoint in {f"{bp.name}.{name}" for name in exempt}:
            return None
        if current_user.role != role:
            abort(403)
        return None


def staff_roles(*roles: str):
    """Restrict a dinas view to the given staff roles; admin passes everywhere."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.staff_role != "admin" and current_user.staff_role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
