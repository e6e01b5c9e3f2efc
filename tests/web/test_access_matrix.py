"""The route × role access matrix: every route of the app, asked by every kind of person, on a fresh copy
of the same database each time (tests/access_world.py).

A new route fails ``test_every_route_has_a_row`` until it gets a row in ``MATRIX``. Each cell is the exact
status; POSTs carry a valid CSRF token and no other data, so a refused request is refused by the
permission layer, and an allowed one reaches the form (400) or the action. Wherever a person may not see
a case, the case's reference and words from its text must be absent from the answer, whatever its status.

Run ``SAMRAD_PRINT_MATRIX=1 pytest tests/web/test_access_matrix.py -s`` to print the actual table.
"""

from __future__ import annotations

import os

import pytest

from tests.access_world import CASE_MARKER, DRAFT_MARKER, OTHER_MARKER, ROLES, build_world

SHORT = dict(
    zip(
        ROLES,
        ("anon", "adm", "ca", "cb", "mau", "mci", "mso", "own", "oth", "oel", "pre", "sta", "app"),
        strict=True,
    )
)

#: Who may see which case (the rules in docs/access.md).
SEES_CASE = {"coord_a", "member_authority", "member_civil", "member_same_org", "officer_owner", "presenter"}
SEES_DRAFT = {"officer_owner"}
SEES_CASE_B = {"coord_b", "owner_elsewhere"}

#: (endpoint, method, variant) → path template; {name} is filled from the world's ids.
PATHS = {
    ("pages.index", "GET", ""): "/",
    ("pages.accessibility", "GET", ""): "/accessibility",
    ("pages.favicon", "GET", ""): "/favicon.ico",
    ("pages.privacy", "GET", ""): "/privacy",
    ("pages.rules_index", "GET", ""): "/rules",
    ("pages.rules", "GET", ""): "/c/{slug}/rules",
    ("pages.set_language", "POST", ""): "/language",
    ("start.panel", "GET", "coordinator"): "/c/{slug}/start/coordinator",
    ("start.panel", "GET", "case officer"): "/c/{slug}/start/case_officer",
    ("start.panel", "GET", "member"): "/c/{slug}/start/member",
    ("start.panel", "GET", "statistics"): "/c/{slug}/start/statistics_viewer",
    ("start.panel", "GET", "unknown"): "/c/{slug}/start/admin",
    ("auth.login", "GET", ""): "/login",
    ("auth.login", "POST", ""): "/login",
    ("auth.logout", "POST", ""): "/logout",
    ("auth.second_factor", "GET", ""): "/login/code",
    ("auth.second_factor", "POST", ""): "/login/code",
    ("auth.accept_invitation", "GET", ""): "/invitation/not-a-token",
    ("auth.accept_invitation", "POST", ""): "/invitation/not-a-token",
    ("account.index", "GET", ""): "/account/",
    ("account.change_password", "POST", ""): "/account/password",
    ("account.end_other_sessions", "POST", ""): "/account/sessions/end-others",
    ("account.two_factor_settings", "GET", ""): "/account/two-factor",
    ("account.start_two_factor", "POST", ""): "/account/two-factor/start",
    ("account.confirm_two_factor", "POST", ""): "/account/two-factor/confirm",
    ("account.new_recovery_codes", "POST", ""): "/account/two-factor/recovery-codes",
    ("account.turn_off_two_factor", "POST", ""): "/account/two-factor/turn-off",
    ("audit.index", "GET", ""): "/admin/audit/",
    ("audit.export", "GET", ""): "/admin/audit/export.csv",
    ("admin.index", "GET", ""): "/admin/",
    ("admin.consultations", "GET", ""): "/admin/consultations",
    ("admin.consultation", "GET", ""): "/admin/consultations/{consultation_id}",
    ("admin.consultation", "POST", ""): "/admin/consultations/{consultation_id}",
    ("admin.consultation", "GET", "new"): "/admin/consultations/new",
    ("admin.consultation", "POST", "new"): "/admin/consultations/new",
    ("admin.municipalities", "GET", ""): "/admin/municipalities",
    ("admin.municipality", "GET", ""): "/admin/municipalities/{municipality_id}",
    ("admin.municipality", "POST", ""): "/admin/municipalities/{municipality_id}",
    ("admin.municipality", "GET", "new"): "/admin/municipalities/new",
    ("admin.municipality", "POST", "new"): "/admin/municipalities/new",
    ("admin.organisations", "GET", ""): "/admin/organisations",
    ("admin.organisation", "GET", ""): "/admin/organisations/{organisation_id}",
    ("admin.organisation", "POST", ""): "/admin/organisations/{organisation_id}",
    ("admin.organisation", "GET", "new"): "/admin/organisations/new",
    ("admin.organisation", "POST", "new"): "/admin/organisations/new",
    ("admin.users", "GET", ""): "/admin/users",
    ("admin.user", "GET", ""): "/admin/users/{user_id}",
    ("admin.user", "POST", ""): "/admin/users/{user_id}",
    ("admin.user", "GET", "new"): "/admin/users/new",
    ("admin.user", "POST", "new"): "/admin/users/new",
    ("admin.invite", "POST", ""): "/admin/users/{user_id}/invite",
    ("admin.reset_two_factor", "POST", ""): "/admin/users/{user_id}/two-factor/reset",
    ("health.index", "GET", ""): "/admin/health/",
    ("health.retry", "POST", ""): "/admin/health/messages/{message_id}/retry",
    ("health.retry_failed", "POST", ""): "/admin/health/messages/retry-failed",
    ("join.request_form", "GET", ""): "/join",
    ("join.request_form", "POST", ""): "/join",
    ("join.thanks", "GET", ""): "/join/thanks",
    ("join.review", "GET", ""): "/c/{slug}/join-requests",
    ("join.approve", "POST", ""): "/c/{slug}/join-requests/{request_id}/approve",
    ("join.approve", "POST", "other consultation"): "/c/{slug}/join-requests/{request_b_id}/approve",
    ("join.decline", "POST", ""): "/c/{slug}/join-requests/{request_id}/decline",
    ("meetings.index", "GET", ""): "/c/{slug}/meetings",
    ("meetings.add", "POST", ""): "/c/{slug}/meetings/new",
    ("meetings.extend", "POST", ""): "/c/{slug}/meetings/plan",
    ("meetings.add_break", "POST", ""): "/c/{slug}/breaks",
    ("meetings.remove_break", "POST", ""): "/c/{slug}/breaks/999999/delete",
    ("meetings.show", "GET", ""): "/c/{slug}/meetings/{public_id}",
    ("meetings.show", "GET", "other consultation"): "/c/{slug_b}/meetings/{public_id_b}",
    ("meetings.video", "GET", ""): "/c/{slug}/meetings/{public_id}/video",
    ("meetings.overview", "GET", ""): "/c/{slug}/meetings/{public_id}/overview",
    ("meetings.answer", "POST", ""): "/c/{slug}/meetings/{public_id}/rsvp",
    ("meetings.send", "POST", ""): "/c/{slug}/meetings/{public_id}/invitations",
    ("meetings.move", "POST", ""): "/c/{slug}/meetings/{public_id}/move",
    ("meetings.cancel", "POST", ""): "/c/{slug}/meetings/{public_id}/cancel",
    ("meetings.rsvp", "GET", ""): "/rsvp/not-a-token",
    ("meetings.rsvp", "POST", ""): "/rsvp/not-a-token",
    ("meetings.feed_settings", "GET", ""): "/calendar-feed",
    ("meetings.create_feed", "POST", ""): "/calendar-feed",
    ("meetings.revoke_feed", "POST", ""): "/calendar-feed/revoke",
    ("meetings.feed", "GET", ""): "/feed/not-a-token.ics",
    ("agenda.show", "GET", ""): "/c/{slug}/meetings/{public_id}/agenda",
    ("agenda.builder", "GET", ""): "/c/{slug}/meetings/{public_id}/agenda/edit",
    ("agenda.accept", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/accept/{case_id}",
    ("agenda.add_case", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/cases/{case_id}",
    ("agenda.add_item", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/items",
    ("agenda.duration", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/items/{item_id}/duration",
    ("agenda.remove", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/items/{item_id}/remove",
    ("agenda.move_case", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/move-case/{case_id}",
    ("agenda.order", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/order",
    ("agenda.publish", "POST", ""): "/c/{slug}/meetings/{public_id}/agenda/publish",
    ("agenda.close", "POST", ""): "/c/{slug}/meetings/{public_id}/close",
    ("agenda.confidentiality", "GET", ""): "/c/{slug}/meetings/{public_id}/confidentiality",
    ("agenda.confidentiality", "POST", ""): "/c/{slug}/meetings/{public_id}/confidentiality",
    ("agenda.day", "GET", ""): "/c/{slug}/meetings/{public_id}/day",
    ("agenda.attendance", "POST", ""): "/c/{slug}/meetings/{public_id}/day/attendance/{invitee_id}",
    ("agenda.advice", "POST", ""): "/c/{slug}/meetings/{public_id}/day/items/{item_id}",
    ("cases.mine", "GET", ""): "/cases",
    ("cases.choose_consultation", "GET", ""): "/cases/new",
    ("cases.check", "POST", ""): "/cases/check?field=questions",
    ("cases.new", "GET", ""): "/c/{slug}/cases/new",
    ("cases.create", "POST", ""): "/c/{slug}/cases/new",
    ("cases.queue", "GET", ""): "/c/{slug}/cases/queue",
    ("cases.detail", "GET", ""): "/cases/{case_id}",
    ("cases.detail", "GET", "draft"): "/cases/{draft_id}",
    ("cases.detail", "GET", "other consultation"): "/cases/{case_b_id}",
    ("cases.edit", "GET", ""): "/cases/{case_id}/edit",
    ("cases.edit", "GET", "draft"): "/cases/{draft_id}/edit",
    ("cases.edit", "POST", ""): "/cases/{case_id}/edit",
    ("cases.withdraw", "POST", ""): "/cases/{case_id}/withdraw",
    ("cases.withdraw", "POST", "draft"): "/cases/{draft_id}/withdraw",
    ("cases.withdraw", "POST", "other consultation"): "/cases/{case_b_id}/withdraw",
    ("cases.follow_up", "POST", ""): "/cases/{case_id}/follow-up",
    ("cases.close", "POST", ""): "/cases/{case_id}/close",
    ("cases.return_form", "GET", ""): "/cases/{case_id}/return",
    ("cases.return_to_officer", "POST", ""): "/cases/{case_id}/return",
    ("cases.accept", "POST", ""): "/cases/{case_id}/accept",
    ("cases.move", "POST", ""): "/cases/{case_id}/move",
    ("evaluations.index", "GET", ""): "/c/{slug}/evaluations",
    ("evaluations.report", "GET", ""): "/c/{slug}/evaluations/report",
    ("evaluations.report_export", "GET", ""): "/c/{slug}/evaluations/report.csv",
    ("evaluations.meeting", "GET", ""): "/c/{slug}/evaluations/{public_id}",
    ("evaluations.close", "POST", ""): "/c/{slug}/evaluations/{public_id}/close",
    ("evaluations.open_", "POST", ""): "/c/{slug}/meetings/{public_id}/evaluation",
    ("evaluations.comments", "GET", ""): "/c/{slug}/evaluations/comments",
    ("evaluations.release", "POST", ""): "/c/{slug}/evaluations/comments/not-a-comment/release",
    ("evaluations.remove", "POST", ""): "/c/{slug}/evaluations/comments/not-a-comment/remove",
    ("evaluations.questionnaire", "GET", ""): "/c/{slug}/evaluations/questionnaire",
    ("evaluations.questionnaire", "POST", ""): "/c/{slug}/evaluations/questionnaire",
    ("evaluations.land", "GET", ""): "/evaluation/not-a-token",
    ("evaluations.answer", "GET", ""): "/evaluations/answer/not-an-evaluation",
    ("evaluations.answer", "POST", ""): "/evaluations/answer/not-an-evaluation",
    ("evaluations.thanks", "GET", ""): "/evaluations/thanks",
    ("stats.index", "GET", ""): "/stats/",
    ("stats.export_csv", "GET", ""): "/stats/export.csv",
    ("stats.export_xlsx", "GET", ""): "/stats/export.xlsx",
    ("stats.report", "GET", ""): "/stats/report",
}

# Columns: anon adm ca cb mau mci mso own oth oel pre sta app (see SHORT).
MATRIX = """
pages.index GET                        |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.accessibility GET                |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.favicon GET                      |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.privacy GET                      |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.rules_index GET                  |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.rules GET                        |  200  200  200  200  200  200  200  200  200  200  200  200  200
pages.set_language POST                |  303  303  303  303  303  303  303  303  303  303  303  303  303
start.panel GET coordinator            |  302  403  200  403  403  403  403  403  403  403  403  403  403
start.panel GET case officer           |  302  403  403  403  403  403  403  200  200  403  403  403  403
start.panel GET member                 |  302  403  403  403  200  200  200  403  403  403  403  403  403
start.panel GET statistics             |  302  403  403  403  403  403  403  403  403  403  403  200  403
start.panel GET unknown                |  302  404  404  404  404  404  404  404  404  404  404  404  404
auth.login GET                         |  200  302  302  302  302  302  302  302  302  302  302  302  302
auth.login POST                        |  400  302  302  302  302  302  302  302  302  302  302  302  302
auth.logout POST                       |  303  303  303  303  303  303  303  303  303  303  303  303  303
auth.second_factor GET                 |  303  302  302  302  302  302  302  302  302  302  302  302  302
auth.second_factor POST                |  303  302  302  302  302  302  302  302  302  302  302  302  302
auth.accept_invitation GET             |  404  404  404  404  404  404  404  404  404  404  404  404  404
auth.accept_invitation POST            |  404  404  404  404  404  404  404  404  404  404  404  404  404
account.index GET                      |  302  200  200  200  200  200  200  200  200  200  200  200  200
account.change_password POST           |  302  400  400  400  400  400  400  400  400  400  400  400  400
account.end_other_sessions POST        |  302  303  303  303  303  303  303  303  303  303  303  303  303
account.two_factor_settings GET        |  302  200  200  200  200  200  200  200  200  200  200  200  200
account.start_two_factor POST          |  302  303  303  303  303  303  303  303  303  303  303  303  303
account.confirm_two_factor POST        |  302  303  303  303  303  303  303  303  303  303  303  303  303
account.new_recovery_codes POST        |  302  303  303  303  303  303  303  303  303  303  303  303  303
account.turn_off_two_factor POST       |  302  303  303  303  303  303  303  303  303  303  303  303  303
audit.index GET                        |  302  200  403  403  403  403  403  403  403  403  403  403  403
audit.export GET                       |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.index GET                        |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.consultations GET                |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.consultation GET                 |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.consultation POST                |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.consultation GET new             |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.consultation POST new            |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.municipalities GET               |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.municipality GET                 |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.municipality POST                |  302  303  403  403  403  403  403  403  403  403  403  403  403
admin.municipality GET new             |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.municipality POST new            |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.organisations GET                |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.organisation GET                 |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.organisation POST                |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.organisation GET new             |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.organisation POST new            |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.users GET                        |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.user GET                         |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.user POST                        |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.user GET new                     |  302  200  403  403  403  403  403  403  403  403  403  403  403
admin.user POST new                    |  302  400  403  403  403  403  403  403  403  403  403  403  403
admin.invite POST                      |  302  303  403  403  403  403  403  403  403  403  403  403  403
admin.reset_two_factor POST            |  302  303  403  403  403  403  403  403  403  403  403  403  403
health.index GET                       |  302  200  200  200  403  403  403  403  403  403  403  403  403
health.retry POST                      |  302  303  403  403  403  403  403  403  403  403  403  403  403
health.retry_failed POST               |  302  303  403  403  403  403  403  403  403  403  403  403  403
join.request_form GET                  |  200  200  200  200  200  200  200  200  200  200  200  200  200
join.request_form POST                 |  400  400  400  400  400  400  400  400  400  400  400  400  400
join.thanks GET                        |  200  200  200  200  200  200  200  200  200  200  200  200  200
join.review GET                        |  302  403  200  403  403  403  403  403  403  403  403  403  403
join.approve POST                      |  302  403  400  403  403  403  403  403  403  403  403  403  403
join.approve POST other consultation   |  302  403  404  403  403  403  403  403  403  403  403  403  403
join.decline POST                      |  302  403  303  403  403  403  403  403  403  403  403  403  403
meetings.index GET                     |  302  403  200  403  200  200  200  200  200  403  403  200  403
meetings.add POST                      |  302  403  400  403  403  403  403  403  403  403  403  403  403
meetings.extend POST                   |  302  403  400  403  403  403  403  403  403  403  403  403  403
meetings.add_break POST                |  302  403  400  403  403  403  403  403  403  403  403  403  403
meetings.remove_break POST             |  302  403  404  403  403  403  403  403  403  403  403  403  403
meetings.show GET                      |  302  404  200  404  200  200  200  200  200  404  200  200  404
meetings.show GET other consultation   |  302  404  404  200  404  404  404  404  404  200  404  404  404
meetings.video GET                     |  302  404  303  404  303  303  303  403  403  404  403  403  404
meetings.overview GET                  |  302  404  303  404  403  403  403  403  403  404  403  403  404
meetings.answer POST                   |  302  404  400  404  400  400  400  403  403  404  400  403  404
meetings.send POST                     |  302  404  303  404  403  403  403  403  403  404  403  403  404
meetings.move POST                     |  302  404  400  404  403  403  403  403  403  404  403  403  404
meetings.cancel POST                   |  302  404  400  404  403  403  403  403  403  404  403  403  404
meetings.rsvp GET                      |  404  404  404  404  404  404  404  404  404  404  404  404  404
meetings.rsvp POST                     |  404  404  404  404  404  404  404  404  404  404  404  404  404
meetings.feed_settings GET             |  302  200  200  200  200  200  200  200  200  200  200  200  200
meetings.create_feed POST              |  302  200  200  200  200  200  200  200  200  200  200  200  200
meetings.revoke_feed POST              |  302  303  303  303  303  303  303  303  303  303  303  303  303
meetings.feed GET                      |  404  404  404  404  404  404  404  404  404  404  404  404  404
agenda.show GET                        |  302  404  200  404  200  200  200  403  403  404  200  403  404
agenda.builder GET                     |  302  404  200  404  403  403  403  403  403  404  403  403  404
agenda.accept POST                     |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.add_case POST                   |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.add_item POST                   |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.duration POST                   |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.remove POST                     |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.move_case POST                  |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.order POST                      |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.publish POST                    |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.close POST                      |  302  404  409  404  403  403  403  403  403  404  403  403  404
agenda.confidentiality GET             |  302  404  200  404  200  200  200  403  403  404  200  403  404
agenda.confidentiality POST            |  302  404  400  404  400  400  400  403  403  404  400  403  404
agenda.day GET                         |  302  404  200  404  403  403  403  403  403  404  403  403  404
agenda.attendance POST                 |  302  404  400  404  403  403  403  403  403  404  403  403  404
agenda.advice POST                     |  302  404  409  404  403  403  403  403  403  404  403  403  404
cases.mine GET                         |  302  200  200  200  200  200  200  200  200  200  200  200  200
cases.choose_consultation GET          |  302  200  302  302  302  302  302  302  302  302  200  200  200
cases.check POST                       |  302  200  200  200  200  200  200  200  200  200  200  200  200
cases.new GET                          |  302  403  200  403  200  200  200  200  200  403  403  403  403
cases.create POST                      |  302  403  400  403  400  400  400  400  400  403  403  403  403
cases.queue GET                        |  302  403  200  403  403  403  403  403  403  403  403  403  403
cases.detail GET                       |  302  404  200  404  200  200  200  200  404  404  303  404  404
cases.detail GET draft                 |  302  404  404  404  404  404  404  200  404  404  404  404  404
cases.detail GET other consultation    |  302  404  404  200  404  404  404  404  404  200  404  404  404
cases.edit GET                         |  302  404  403  404  403  403  303  303  404  404  403  404  404
cases.edit GET draft                   |  302  404  404  404  404  404  404  200  404  404  404  404  404
cases.edit POST                        |  302  404  403  404  403  403  303  303  404  404  403  404  404
cases.withdraw POST                    |  302  404  403  404  403  403  303  303  404  404  403  404  404
cases.withdraw POST draft              |  302  404  404  404  404  404  404  303  404  404  404  404  404
cases.withdraw POST other consultation |  302  404  404  403  404  404  404  404  404  303  404  404  404
cases.follow_up POST                   |  302  404  403  404  403  403  303  303  404  404  403  404  404
cases.close POST                       |  302  404  303  404  403  403  303  303  404  404  403  404  404
cases.return_form GET                  |  302  404  303  404  403  403  403  403  404  404  403  404  404
cases.return_to_officer POST           |  302  404  400  404  403  403  403  403  404  404  403  404  404
cases.accept POST                      |  302  404  400  404  403  403  403  403  404  404  403  404  404
cases.move POST                        |  302  404  400  404  403  403  403  403  404  404  403  404  404
evaluations.index GET                  |  302  403  200  403  403  403  403  403  403  403  403  200  403
evaluations.report GET                 |  302  403  200  403  403  403  403  403  403  403  403  200  403
evaluations.report_export GET          |  302  403  409  403  403  403  403  403  403  403  403  409  403
evaluations.meeting GET                |  302  403  404  403  403  403  403  403  403  403  403  404  403
evaluations.close POST                 |  302  403  404  403  403  403  403  403  403  403  403  403  403
evaluations.open_ POST                 |  302  403  303  403  403  403  403  403  403  403  403  403  403
evaluations.comments GET               |  302  403  200  403  403  403  403  403  403  403  403  403  403
evaluations.release POST               |  302  403  404  403  403  403  403  403  403  403  403  403  403
evaluations.remove POST                |  302  403  404  403  403  403  403  403  403  403  403  403  403
evaluations.questionnaire GET          |  302  403  200  403  403  403  403  403  403  403  403  403  403
evaluations.questionnaire POST         |  302  403  400  403  403  403  403  403  403  403  403  403  403
evaluations.land GET                   |  404  404  404  404  404  404  404  404  404  404  404  404  404
evaluations.answer GET                 |  404  404  404  404  404  404  404  404  404  404  404  404  404
evaluations.answer POST                |  404  404  404  404  404  404  404  404  404  404  404  404  404
evaluations.thanks GET                 |  200  200  200  200  200  200  200  200  200  200  200  200  200
stats.index GET                        |  302  403  200  200  403  403  403  403  403  403  403  200  403
stats.export_csv GET                   |  302  403  200  200  403  403  403  403  403  403  403  200  403
stats.export_xlsx GET                  |  302  403  200  200  403  403  403  403  403  403  403  200  403
stats.report GET                       |  302  403  200  200  403  403  403  403  403  403  403  200  403
"""


def _parse(table: str) -> dict:
    expected = {}
    for line in table.strip().splitlines():
        key, statuses = line.split("|")
        endpoint, method, *variant = key.split()
        codes = [int(c) for c in statuses.split()]
        assert len(codes) == len(ROLES), line
        expected[(endpoint, method, " ".join(variant))] = dict(zip(ROLES, codes, strict=True))
    return expected


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("matrix"))


@pytest.fixture(scope="module")
def actual(world):
    table = {}
    for key, template in PATHS.items():
        endpoint, method, _variant = key
        path = template.format(**world.ids)
        row = {}
        for role in ROLES:
            world.restore()
            response = world.request(role, method, path)
            body = response.get_data().decode("utf-8", "replace")  # xlsx is binary
            row[role] = (response.status_code, body)
        table[key] = row
    if os.environ.get("SAMRAD_PRINT_MATRIX"):
        width = max(len(" ".join(k).strip()) for k in table) + 1
        print("\n" + " " * width + "| " + " ".join(f"{SHORT[r]:>4}" for r in ROLES))
        for key, row in table.items():
            label = " ".join(key).strip()
            print(f"{label:<{width}}| " + " ".join(f"{row[r][0]:>4}" for r in ROLES))
    return table


def test_every_route_has_a_row(world):
    routes = {
        (rule.endpoint, method)
        for rule in world.app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - {(e, m) for e, m, _ in PATHS} == set(), "a route without a row in the access matrix"
    assert {(e, m) for e, m, _ in PATHS} - routes == set(), "a row for a route that does not exist"
    assert set(PATHS) == set(_parse(MATRIX)), "PATHS and MATRIX must list the same rows"


def test_each_cell_answers_the_expected_status(actual):
    expected = _parse(MATRIX)
    wrong = [
        f"{' '.join(key).strip()} as {role}: {actual[key][role][0]}, expected {status}"
        for key, row in expected.items()
        for role, status in row.items()
        if actual[key][role][0] != status
    ]
    assert wrong == []


def test_no_page_shows_a_case_to_someone_who_may_not_see_it(actual, world):
    leaks = []
    for key, row in actual.items():
        for role, (_status, body) in row.items():
            for words, allowed in (
                ((CASE_MARKER, world.ids["reference"]), SEES_CASE),
                ((DRAFT_MARKER,), SEES_DRAFT),
                ((OTHER_MARKER, world.ids["reference_b"]), SEES_CASE_B),
            ):
                if role not in allowed:
                    leaks += [f"{' '.join(key).strip()} as {role}: {w}" for w in words if w in body]
    assert leaks == []


def test_the_matrix_is_big_enough_to_mean_something(actual):
    cells = sum(len(row) for row in actual.values())
    assert cells == len(PATHS) * len(ROLES) and cells > 1500
