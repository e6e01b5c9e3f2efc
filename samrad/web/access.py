"""Loading objects for a view and refusing access (404 for unknown, 403 for not allowed)."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from samrad import db
from samrad.enums import Role
from samrad.models import Consultation
from samrad.services import directory


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def coordinator_required(view):
    """Administrators and anyone who coordinates some consultation (e.g. the operations page)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not directory.coordinates_any(db.get_session(), current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def get_consultation(slug: str, *roles: Role) -> Consultation:
    """The consultation named by ``slug``, if the current user holds one of ``roles`` in it."""
    consultation = directory.consultation_by_slug(db.get_session(), slug)
    if consultation is None:
        abort(404)
    if roles and not directory.has_role(db.get_session(), current_user, consultation, *roles):
        abort(403)
    return consultation
