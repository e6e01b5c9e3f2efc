"""The start page answers "what do I do now?" per role (issue L 1): what each panel says, that it shows
only what the person may see, the invitation answered right there, and the panels served alone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from samrad.enums import (
    CaseCategory,
    CaseStatus,
    InviteeKind,
    JoinRequestStatus,
    OutboxStatus,
    Role,
    Rsvp,
)
from samrad.models import EvaluationComment, Invitee, JoinRequest, OutboxMessage, utcnow
from samrad.models.evaluation import EvaluationStatus
from tests.factories import PASSWORD, make_case, make_consultation, make_team, make_user
from tests.factories.evaluations import open_with_tokens
from tests.factories.meetings import make_agenda_item, make_invitee, make_meeting

pytestmark = pytest.mark.filterwarnings("ignore:Passing SelectField choices as tuples is deprecated")


def text_of(html: str) -> str:
    """The page as a reader gets it: no tags, single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").replace(" ,", ",")


def panel(html: str, panel_id: str) -> str:
    match = re.search(rf'<section id="{panel_id}".*?</section>', html, re.S)
    assert match, f"no panel {panel_id}"
    return match.group(0)


@pytest.fixture
def team(web_session):
    team = make_team(web_session)
    web_session.commit()
    return team


def _start(client, auth, email: str) -> str:
    auth.login(email, PASSWORD)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_coordinator_sees_the_next_meeting_the_queue_and_what_waits(client, auth, web_session, team):
    consultation, now = team["consultation"], utcnow()
    meeting = make_meeting(
        web_session, consultation, now + timedelta(days=10), case_deadline_at=now + timedelta(days=3)
    )
    make_agenda_item(web_session, meeting, duration_minutes=20)
    honour = make_case(
        web_session, consultation, team["kiruna"], submitted_at=now - timedelta(days=2), reference="UNA-H"
    )
    older = make_case(
        web_session,
        consultation,
        team["kiruna"],
        categories=(CaseCategory.PARTNER_VIOLENCE,),
        submitted_at=now - timedelta(days=9),
        reference="UNA-OLD",
    )
    make_case(web_session, consultation, team["kiruna"], status=CaseStatus.DRAFT)  # not waiting
    for rsvp, substitute in [
        (Rsvp.ON_SITE, None),
        (Rsvp.VIA_LINK, None),
        (Rsvp.CANNOT_ATTEND, None),
        (Rsvp.CANNOT_ATTEND, team["polis"].id),
        (Rsvp.NO_ANSWER, None),
    ]:
        make_invitee(
            web_session,
            meeting,
            email=f"x{len(meeting.items)}{rsvp}{substitute}@a.example",
            rsvp=rsvp,
            substitute_user_id=substitute,
        )
    make_invitee(web_session, meeting, email="removed@a.example", removed_at=now)  # not counted
    web_session.add(
        JoinRequest(
            consultation_id=consultation.id,
            name="N N",
            email="n@a.example",
            role=Role.MEMBER,
            status=JoinRequestStatus.PENDING,
        )
    )
    web_session.add(
        JoinRequest(
            consultation_id=consultation.id,
            name="M M",
            email="m@a.example",
            role=Role.MEMBER,
            status=JoinRequestStatus.DECLINED,
        )
    )
    web_session.commit()

    html = panel(_start(client, auth, team["coordinator"].email), f"panel-{consultation.slug}-coordinator")
    text = text_of(html)
    assert f'href="/c/{consultation.slug}/meetings/{meeting.public_id}"' in html
    assert "– om 3 dagar" in text
    assert "Inte publicerad än. 20 av 120 minuter planerade." in text
    assert "2 kommer, 1 kommer inte, 1 skickar ersättare, 1 har inte svarat" in text
    assert "2 ärenden väntar på ett möte, 1 av dem hedersrelaterat." in text
    # Honour-related first, though the other case waited longer.
    assert text.index("UNA-H") < text.index("UNA-OLD")
    assert "1 förfrågan om att gå med" in text
    assert "Inget möte är planerat" not in text
    # References and categories only: never the case's free text.
    assert honour.questions[:30] not in html and older.background[:30] not in html


def test_the_coordinator_panel_counts_open_evaluations_and_comments(client, auth, web_session, team):
    consultation, now = team["consultation"], utcnow()
    held = make_meeting(
        web_session,
        consultation,
        now - timedelta(days=1),
        status="closed",
        closed_at=now - timedelta(hours=20),
    )
    evaluation, _tokens = open_with_tokens(web_session, held, now=now - timedelta(hours=20))
    evaluation.respondents = 4
    older = make_meeting(
        web_session,
        consultation,
        now - timedelta(days=30),
        status="closed",
        closed_at=now - timedelta(days=30),
    )
    closed, _ = open_with_tokens(web_session, older, now=now - timedelta(days=30))
    closed.status = EvaluationStatus.CLOSED
    question = closed.questionnaire.questions[0]
    for text in ("Bra möte", "Mer tid behövs"):
        web_session.add(EvaluationComment(evaluation_id=closed.id, question_id=question.id, text=text))
    web_session.add(
        EvaluationComment(evaluation_id=closed.id, question_id=question.id, text="Klar", released=True)
    )
    web_session.commit()

    text = text_of(
        panel(_start(client, auth, team["coordinator"].email), f"panel-{consultation.slug}-coordinator")
    )
    assert "4 svar hittills" in text
    assert "2 kommentarer från utvärderingen att granska" in text
    assert "Inget möte är planerat." in text
    assert "Inga ärenden väntar." in text


def test_an_empty_coordinator_panel_says_what_to_do(client, auth, team):
    text = text_of(_start(client, auth, team["coordinator"].email))
    assert "Inget möte är planerat. Planera möten" in text
    assert "Inga ärenden väntar. Nya ärenden syns här när de skickas in." in text
    assert "Inget mer väntar på dig" in text


def test_the_case_officer_sees_their_cases_by_next_step_and_no_one_elses(client, auth, web_session, team):
    consultation, now = team["consultation"], utcnow()
    officer, own = team["officer"], team["kiruna"]
    meeting = make_meeting(
        web_session, consultation, now + timedelta(days=10), case_deadline_at=now + timedelta(days=3)
    )
    make_case(web_session, consultation, own, officer=officer, status=CaseStatus.DRAFT)
    make_case(
        web_session,
        consultation,
        own,
        officer=officer,
        status=CaseStatus.RETURNED,
        reference="UNA-RET",
        return_comment="Ta bort skolans namn.",
    )
    make_case(web_session, consultation, own, officer=officer, reference="UNA-SUB")
    make_case(
        web_session,
        consultation,
        own,
        officer=officer,
        status=CaseStatus.ACCEPTED,
        reference="UNA-ACC",
        meeting_id=meeting.id,
    )
    make_case(
        web_session,
        consultation,
        own,
        officer=officer,
        status=CaseStatus.DISCUSSED,
        reference="UNA-DIS",
        last_discussed_at=now - timedelta(days=5),
    )
    make_case(
        web_session,
        consultation,
        own,
        officer=officer,
        status=CaseStatus.DISCUSSED,
        reference="UNA-LONG-AGO",
        last_discussed_at=now - timedelta(days=200),
    )
    make_case(
        web_session, consultation, own, officer=officer, status=CaseStatus.CLOSED, reference="UNA-CLOSED"
    )
    make_case(web_session, consultation, team["police"], reference="UNA-POLICE")  # another agency's
    web_session.commit()

    html = panel(_start(client, auth, officer.email), f"panel-{consultation.slug}-case_officer")
    text = text_of(html)
    sections = [
        ("Skickade tillbaka till dig: läs kommentaren och rätta", "UNA-RET"),
        ("Utkast: inte skickade än", "Utkast"),
        ("Inskickade: väntar på samordnaren", "UNA-SUB"),
        ("På ett möte", "UNA-ACC"),
        ("Diskuterade: rådet finns att läsa", "UNA-DIS"),
    ]
    positions = [text.index(heading) for heading, _ in sections]
    assert positions == sorted(positions)
    for (heading, reference), following in zip(sections, positions[1:] + [len(text)], strict=True):
        start = text.index(heading)
        assert reference in text[start:following], heading
    assert "Ta bort skolans namn." in text
    assert "dagordningen är inte publicerad än" in text  # the accepted case's meeting
    assert "Nästa möte som tar emot ärenden:" in text
    assert f'href="/c/{consultation.slug}/cases/new"' in html
    for absent in ("UNA-LONG-AGO", "UNA-CLOSED", "UNA-POLICE"):
        assert absent not in html


def test_a_case_officer_without_cases_is_told_how_to_start(client, auth, team):
    text = text_of(_start(client, auth, team["officer"].email))
    assert "Du har inga pågående ärenden här." in text
    assert "Inget planerat möte tar emot ärenden just nu." in text


def test_a_standing_member_answers_the_next_invitation_on_the_start_page(client, auth, web_session, team):
    consultation, now, police = team["consultation"], utcnow(), team["polis"]
    first = make_meeting(web_session, consultation, now + timedelta(days=2))
    second = make_meeting(web_session, consultation, now + timedelta(days=16))
    make_meeting(web_session, consultation, now - timedelta(days=12), status="closed")  # past
    make_invitee(web_session, first, police, rsvp=Rsvp.ON_SITE)
    other = make_consultation(web_session)
    make_meeting(web_session, other, now + timedelta(days=3), place="Någon annanstans")
    web_session.commit()

    page = _start(client, auth, police.email)
    html = panel(page, f"panel-{consultation.slug}-member")
    assert "Någon annanstans" not in page
    assert re.findall(r'<li id="panel-[^"]+-member-(\w+)"', html) == [first.public_id, second.public_id]
    assert text_of(html).count("Ditt svar: Inte svarat") == 1  # the second, not invited yet
    assert 'aria-pressed="true">Jag kommer på plats' in html

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answered = client.post(
        f"/c/{consultation.slug}/meetings/{second.public_id}/rsvp",
        data={"csrf_token": token, "context": "start", "answer": "via_link"},
        headers={"HX-Request": "true"},
    )
    assert answered.status_code == 200
    fragment = answered.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<section id="panel-{consultation.slug}-member"')
    assert "<html" not in fragment
    assert "Tack, ditt svar är sparat." in fragment
    assert answered.headers["HX-Trigger"] == "rsvp-changed"
    web_session.expire_all()
    invitee = web_session.exec(
        select(Invitee).where(Invitee.meeting_id == second.id, Invitee.user_id == police.id)
    ).one()
    assert (invitee.rsvp, invitee.kind) == (Rsvp.VIA_LINK, InviteeKind.STANDING)

    # Without JavaScript: back to the start page with the message.
    plain = client.post(
        f"/c/{consultation.slug}/meetings/{first.public_id}/rsvp",
        data={"csrf_token": token, "context": "start", "answer": "cannot_attend"},
    )
    assert (plain.status_code, plain.headers["Location"]) == (303, "/")
    assert "Tack, ditt svar är sparat." in client.get("/").get_data(as_text=True)


def test_a_refused_answer_is_explained_in_the_panel(client, auth, web_session, team):
    consultation, police = team["consultation"], team["polis"]
    meeting = make_meeting(web_session, consultation, utcnow() + timedelta(days=2))
    web_session.commit()
    page = _start(client, auth, police.email)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post(
        f"/c/{consultation.slug}/meetings/{meeting.public_id}/rsvp",
        data={"csrf_token": token, "context": "start", "answer": "maybe"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 200
    assert 'role="alert"' in refused.get_data(as_text=True)
    assert web_session.exec(select(Invitee.rsvp).where(Invitee.meeting_id == meeting.id)).all() in (
        [],
        [Rsvp.NO_ANSWER],
    )


def test_the_statistics_viewer_sees_this_years_summary_suppressed(client, auth, web_session, team):
    consultation = team["consultation"]
    viewer = make_user(web_session, roles=[Role.STATISTICS_VIEWER], consultation=consultation)
    make_case(web_session, consultation, team["kiruna"], submitted_at=utcnow() - timedelta(days=1))
    web_session.commit()
    page = _start(client, auth, viewer.email)
    html = panel(page, f"panel-{consultation.slug}-statistics_viewer")
    assert re.search(
        r'<tr data-row="cases_submitted">\s*<th scope="row">[^<]+</th>\s*<td class="num">&lt;3</td>', html
    ), html
    assert "Mina ärenden" not in page
    assert f"panel-{consultation.slug}-coordinator" not in page


def test_operational_warnings_reach_coordinators_not_members(client, auth, web_session, team):
    web_session.add(
        OutboxMessage(
            recipient="a@a.example",
            subject="s",
            body_text="b",
            message_id="<m@x>",
            status=OutboxStatus.FAILED,
        )
    )
    web_session.commit()
    text = text_of(_start(client, auth, team["coordinator"].email))
    assert "1 e-postmeddelande kunde inte levereras." in text
    assert "De schemalagda jobben körs inte" in text  # no scheduler ran in this test
    auth.logout()
    assert "Behöver åtgärdas" not in _start(client, auth, team["polis"].email)


def test_a_panel_alone_is_a_fragment_for_its_role_only(client, auth, team):
    slug = team["consultation"].slug
    auth.login(team["polis"].email, PASSWORD)
    alone = client.get(f"/c/{slug}/start/member")
    assert alone.status_code == 200
    assert alone.get_data(as_text=True).lstrip().startswith(f'<section id="panel-{slug}-member"')
    assert client.get(f"/c/{slug}/start/coordinator").status_code == 403
    assert client.get(f"/c/{slug}/start/nothing").status_code == 404
