"""Loading objects for a view through the permission layer (:mod:`samrad.services.access`).

Every view gets its consultation, meeting, case or join request from one of the loaders here, naming the
action it is about to do. The statuses follow one rule:

- something the person may not even see answers 404, so that its existence does not leak (a case, a
  meeting, a join request of another consultation);
- something they see but may not do answers 403 (a member who opens the coordinator's builder);
- a consultation is public by name (its rules page), so refusing work in it answers 403.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user, login_required

from samrad import db
from samrad.enums import AuditKind, AuditVerb
from samrad.models import Case, Consultation, JoinRequest, Meeting, utcnow
from samrad.services import access as rules
from samrad.services import audit, directory, meetings
from samrad.services.access import Action, Actor, actor_for

__all__ = [
    "Action",
    "actor",
    "admin_required",
    "load_case_or_404",
    "load_consultation",
    "load_join_request_or_404",
    "load_meeting_or_404",
    "may",
    "operations_required",
    "require",
    "viewed",
]


def actor() -> Actor:
    """The person making this request, as the rules see them (built once per request)."""
    if "actor" not in g:
        g.actor = actor_for(current_user if current_user else None)
    return g.actor


def forget_actor() -> None:
    """Forget the cached actor, e.g. after the request changed the person's own roles."""
    g.pop("actor", None)


def may(action: Action, obj=None) -> bool:
    return rules.may(db.get_session(), actor(), action, obj, now=utcnow())


def require(action: Action, obj=None, *, status: int = 403) -> None:
    if not may(action, obj):
        abort(status)


def _global(action: Action):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: The register: municipalities, organisations, accounts, consultations.
admin_required = _global(Action.MANAGE_REGISTER)
#: The operations page: administrators, and coordinators for their own consultations.
operations_required = _global(Action.VIEW_OPERATIONS)


def load_consultation(slug: str, action: Action | None = None) -> Consultation:
    """The consultation named by ``slug`` (404 if none), if the person may do ``action`` in it (403)."""
    consultation = directory.consultation_by_slug(db.get_session(), slug)
    if consultation is None:
        abort(404)
    if action is not None:
        require(action, consultation)
    return consultation


def load_meeting_or_404(
    slug: str, public_id: str, action: Action = Action.VIEW_MEETING
) -> tuple[Consultation, Meeting]:
    """A meeting of the consultation: 404 for people who may not see it, 403 if they may not do ``action``."""
    s = db.get_session()
    consultation = directory.consultation_by_slug(s, slug)
    meeting = meetings.meeting_by_public_id(s, consultation, public_id) if consultation else None
    if consultation is None or meeting is None or not may(Action.VIEW_MEETING, meeting):
        abort(404)
    if action != Action.VIEW_MEETING:
        require(action, meeting)
    return consultation, meeting


def load_case_or_404(case_id: int, action: Action = Action.VIEW_CASE) -> Case:
    """The case: 404 for people who may not see it (existence must not leak), 403 if they may see it but
    not do ``action``. A page (GET) that loads a case shows it, so the view goes to the audit log."""
    case = db.get_session().get(Case, case_id)
    if case is None or not may(Action.VIEW_CASE, case):
        abort(404)
    if action != Action.VIEW_CASE:
        require(action, case)
    if request.method == "GET":
        viewed(
            AuditKind.CASE,
            case.id,
            consultation_id=case.consultation_id,
            organisation_id=case.organisation_id,
        )
    return case


def _audit(verb: AuditVerb, kind: AuditKind, object_id, consultation_id, organisation_id) -> None:
    now = utcnow()
    # Committed after the response is built, with the request's session activity (web.security).
    db.write_after_response(
        lambda session: audit.record(
            session,
            verb,
            kind,
            object_id,
            consultation_id=consultation_id,
            organisation_id=organisation_id,
            now=now,
        )
    )


def viewed(kind: AuditKind, object_id: object = "", *, consultation_id=None, organisation_id=None) -> None:
    """Record in the audit log that the person looked at something (case text, an agenda, an account)."""
    _audit(AuditVerb.VIEWED, kind, object_id, consultation_id, organisation_id)


def exported(kind: AuditKind, object_id: object = "", *, consultation_id=None) -> None:
    """Record in the audit log that the person downloaded something."""
    _audit(AuditVerb.EXPORTED, kind, object_id, consultation_id, None)


def load_join_request_or_404(consultation: Consultation, request_id: int) -> JoinRequest:
    """A request to join ``consultation`` that the person may decide (404 otherwise)."""
    join_request = db.get_session().get(JoinRequest, request_id)
    if join_request is None or join_request.consultation_id != consultation.id:
        abort(404)
    if not may(Action.DECIDE_JOIN, join_request):
        abort(404)
    return join_request
