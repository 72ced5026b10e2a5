"""The demo's case history: the report's 4,600 imported disputes and more, in every state, each with a
story that replays through the transition table, written once.

The first test writes Xilinhot's history from nothing, then the rest of the league, in its own rolled-back
transaction. The others share one league history (the `league` fixture), written once for the module and
rolled back after it, or already there when the session's seed writes it. The first test must run before
the fixture is set up: keep it at the top.
"""

import datetime
import re
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from tests.replay import replay_problems
from zongzhi.accounts.models import Membership, User
from zongzhi.cases import selectors
from zongzhi.cases.models import (
    OPEN_STATES,
    Agreement,
    Assignment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CourtReferral,
    FollowUp,
    Instalment,
    Party,
    State,
    Supervision,
)
from zongzhi.cases.numbering import next_case_number
from zongzhi.crypto import blind_index
from zongzhi.demo.case_history import seed_case_history
from zongzhi.identity import passport_errors, resident_id_errors, uscc_errors

NUMBER = re.compile(r"(15\d{4})(20\d{6})(\d{4})")
LEAGUE_CENTER = "ZZ-1525"


def test_small_scale_is_xilinhot_of_the_league_and_a_rerun_keeps_its_days(db) -> None:  # type: ignore[no-untyped-def]
    earlier = timezone.localdate() - datetime.timedelta(days=10)
    Case.objects.all().delete()  # whatever the session's seed wrote: this test starts from no cases
    CaseNumberSequence.objects.all().delete()
    small = seed_case_history(scale="small", seed_value=2025, as_of=earlier)
    xilinhot = Case.objects.all()
    assert small == xilinhot.count() >= 60
    assert all(code.startswith("152502") for code in xilinhot.values_list("region_code", flat=True))
    assert set(xilinhot.values_list("state", flat=True)) == set(State.values)
    assert timezone.localtime(xilinhot.aggregate(last=Max("registered_at"))["last"]).date() < earlier
    before = dict(xilinhot.values_list("number", "version"))
    assert replay_problems() == []

    # Another day: the history still ends where it first did, so nothing is written twice.
    assert seed_case_history(scale="small", seed_value=2025) == 0
    league = seed_case_history(scale="league", seed_value=2025)
    assert small + league > 5000
    assert not Case.objects.filter(registered_at__date__gte=earlier).exists()
    after = dict(Case.objects.filter(region_code__startswith="152502").values_list("number", "version"))
    assert after == before  # Xilinhot's cases are the same at both scales
    assert Case.objects.filter(channel=Case.Channel.IMPORT).count() >= 4600
    assert small / (small + league) > 0.15  # Xilinhot's share of the people


@pytest.fixture(scope="module")
def league(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The league's history, written once for the tests below and rolled back after them (about 10 s)."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_case_history(scale="league", seed_value=2025)
        yield
        transaction.set_rollback(True)


def test_the_league_history_is_complete_consistent_and_written_once(league, db) -> None:  # type: ignore[no-untyped-def]
    cases = Case.objects.all()
    assert cases.count() > 5000

    imported = cases.filter(channel=Case.Channel.IMPORT)
    assert imported.count() >= 4600
    assert not imported.filter(original_number="").exists()
    channels = Counter(cases.exclude(channel=Case.Channel.IMPORT).values_list("channel", flat=True))
    # Every door of the seeded history; the 12345 hotline comes only through Open311 (tests/test_open311.py).
    assert set(channels) == set(Case.Channel.values) - {Case.Channel.IMPORT, Case.Channel.HOTLINE}
    assert channels["window"] > channels["grid"] > max(channels["department"], channels["mobile"], channels["portal"])
    assert set(cases.values_list("state", flat=True)) == set(State.values)
    assert {code[:6] for code in cases.values_list("region_code", flat=True)} == {
        "152501",
        "152502",
        "152522",
        "152523",
        "152524",
        "152525",
        "152526",
        "152527",
        "152528",
        "152529",
        "152530",
        "152531",
        "152571",
    }
    assert cases.filter(region_code__startswith="152501", foreign_related=True).count() > 20
    assert cases.filter(amount__isnull=True).count() > cases.filter(amount__gte=200_000).count() > 0

    assert replay_problems() == []
    assert seed_case_history(scale="league", seed_value=2025) == 0


def test_numbers_are_well_formed_and_live_intake_continues_after_them(league, db) -> None:  # type: ignore[no-untyped-def]
    numbers = list(Case.objects.values_list("number", "region_code", "registered_at"))
    assert len({n for n, _r, _t in numbers}) == len(numbers)
    last: dict[tuple[str, datetime.date], int] = defaultdict(int)
    for number, region, registered in numbers:
        match = NUMBER.fullmatch(number)
        assert match is not None, number
        county, day, sequence = match.groups()
        assert county == region[:6] and day == f"{timezone.localtime(registered):%Y%m%d}"
        key = (county, datetime.datetime.strptime(day, "%Y%m%d").date())
        last[key] = max(last[key], int(sequence))
    stored = {(s.county, s.day): s.last for s in CaseNumberSequence.objects.all()}
    assert all(stored.get(key, 0) >= used for key, used in last.items())
    busiest = max(last, key=lambda key: last[key])
    assert next_case_number(*busiest) == f"{busiest[0]}{busiest[1]:%Y%m%d}{last[busiest] + 1:04d}"
    assert timezone.localdate() not in {day for _county, day in last}  # the history ends yesterday


def test_parties_carry_valid_encrypted_identifiers(league, db) -> None:  # type: ignore[no-untyped-def]
    parties = list(Party.objects.exclude(id_index=""))
    assert len(parties) > 8000
    for party in parties:
        if party.kind == Party.Kind.PERSON:
            assert resident_id_errors(party.id_number) == [], party.id_number
        elif party.kind == Party.Kind.ORGANISATION:
            assert uscc_errors(party.id_number) == [], party.id_number
        else:
            assert passport_errors(party.id_number, party.nationality) == []
        assert party.id_index == blind_index(f"{party.kind}:{party.id_number}")
        assert party.phone == "" or (party.phone.isdigit() and len(party.phone) == 11)
    assert {p.kind for p in parties} == set(Party.Kind.values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM cases_party WHERE id = %s", [parties[0].pk])
        stored_id, stored_phone = cursor.fetchone()
    assert stored_id != parties[0].id_number and stored_id.count(":") >= 2  # a token, not the number
    assert parties[0].id_number not in stored_id and (not parties[0].phone or parties[0].phone not in stored_phone)


def test_what_hangs_off_each_case_agrees_with_its_state(league, db) -> None:  # type: ignore[no-untyped-def]
    live = [Assignment.Status.PENDING, Assignment.Status.SIGNED]
    leads = Assignment.objects.filter(role=Assignment.Role.LEAD, status__in=live)
    assert set(leads.values_list("case__state", flat=True)) == {State.ASSIGNED, State.IN_PROGRESS}
    by_state = dict(leads.values("case__state").annotate(n=Count("id")).values_list("case__state", "n"))
    assert by_state[State.ASSIGNED] == Case.objects.filter(state=State.ASSIGNED).count()
    assert by_state[State.IN_PROGRESS] == Case.objects.filter(state=State.IN_PROGRESS).count()
    assert not leads.filter(case__state=State.ASSIGNED, status=Assignment.Status.SIGNED).exists()
    assert not leads.filter(case__state=State.IN_PROGRESS, status=Assignment.Status.PENDING).exists()
    assert not Assignment.objects.filter(status__in=live).exclude(case__state__in=OPEN_STATES).exists()
    assert Assignment.objects.filter(role=Assignment.Role.CO).count() > 300
    assert Assignment.objects.filter(status=Assignment.Status.RETURNED).exclude(return_reason="").exists()

    agreements = Case.objects.filter(outcome=Case.Outcome.AGREEMENT)
    assert agreements.count() == Agreement.objects.filter(case__outcome=Case.Outcome.AGREEMENT).count() > 500
    for agreement in Agreement.objects.exclude(amount=None).annotate(total=Sum("instalments__amount")):
        assert agreement.total == agreement.amount
    assert Instalment.objects.filter(paid_on=None).exists() and Instalment.objects.exclude(paid_on=None).exists()
    court = Case.objects.filter(outcome=Case.Outcome.COURT)
    assert court.count() == court.filter(court_referrals__kind=CourtReferral.Kind.LITIGATION).count() > 20
    assert CourtReferral.objects.filter(kind=CourtReferral.Kind.CONFIRMATION, result="confirmed").exists()
    assert set(FollowUp.objects.values_list("case__state", flat=True)) == {State.CLOSED}
    closed = Case.objects.filter(state=State.CLOSED)
    assert 0.7 < closed.filter(follow_ups__isnull=False).distinct().count() / closed.count() < 0.95
    closed_at = Case.objects.filter(closed_at__isnull=False)
    assert set(closed_at.values_list("state", flat=True)) == {State.CLOSED, State.REJECTED, State.WITHDRAWN}


def test_supervision_escalation_and_queues(league, db, persona) -> None:  # type: ignore[no-untyped-def]
    supervisions = Supervision.objects.all()
    assert {Supervision.Kind.REMINDER, Supervision.Kind.SUPERVISION, Supervision.Kind.LETTER} <= set(
        supervisions.values_list("kind", flat=True)
    )
    assert set(supervisions.values_list("status", flat=True)) == set(Supervision.Status.values)
    assert not supervisions.filter(status=Supervision.Status.ASSESSED, effect="").exists()
    assert supervisions.count() == CaseEvent.objects.filter(kind="supervision").count()
    numbers = set(CaseEvent.objects.filter(kind="supervision").values_list("data__number", flat=True))
    assert numbers == set(supervisions.values_list("number", flat=True))

    escalated = Case.objects.filter(escalations__gt=0)
    assert escalated.count() > 50
    events = CaseEvent.objects.filter(kind="escalate").values("case_id").annotate(n=Count("id"))
    assert {e["case_id"]: e["n"] for e in events} == dict(escalated.values_list("pk", "escalations"))
    assert not escalated.filter(center__level="township").exists()  # each went at least one level up
    assert escalated.filter(center__level="county").exists() and escalated.filter(center__level="league").exists()
    majors = Case.objects.filter(major=True, risk_level=Case.Risk.RED, center__code=LEAGUE_CENTER)
    assert majors.filter(state__in=OPEN_STATES).count() >= 2

    now = timezone.now()
    assert Case.objects.filter(state__in=OPEN_STATES, due_at__lt=now).count() > 50
    assert Case.objects.filter(state__in=OPEN_STATES, due_at__gte=now).exists()
    for name, queue in [
        ("director", "overdue"),
        ("director", "supervised"),
        ("director", "to_follow_up"),
        ("director", "to_accept"),
        ("liaison", "in_progress"),
        ("league", "escalated"),
    ]:
        assert selectors.queue(persona(name), queue).exists(), (name, queue)


def test_the_history_follows_the_deadline_rules(league, db) -> None:  # type: ignore[no-untyped-def]
    # Registered cases are due for acceptance; accepting meets it.
    assert not Case.objects.filter(state=State.REGISTERED, due_at=None).exists()
    assert not Case.objects.filter(state=State.ACCEPTED).exclude(due_at=None).exists()
    # Unaccepted cases past it were reminded at their own center, from the center above.
    to_centers = Supervision.objects.filter(target_center__isnull=False).select_related(
        "issuer_center", "target_center"
    )
    assert to_centers.filter(kind=Supervision.Kind.REMINDER, case__state=State.REGISTERED).exists()
    assert not to_centers.filter(target_org__isnull=False).exists()
    for document in to_centers.filter(kind=Supervision.Kind.REMINDER):
        center = document.target_center
        assert center is not None and document.issuer_center_id == (center.parent_id or center.pk)
    # An escalated case waits on the receiving director until they keep the lead.
    kept = CaseEvent.objects.filter(kind="lead_kept")
    assert kept.exists() and not kept.filter(actor=None).exists()
    waiting = Case.objects.filter(awaiting_director=True)
    for case in waiting:
        last = case.events.filter(kind__in=["escalate", "lead_kept", "assign"]).latest("id")
        assert last.kind == "escalate", case.number
    # Leaders issue as their own (county or league) center, never as a township's.
    by_leaders = Supervision.objects.filter(issuer__memberships__role="leader").select_related("issuer_center")
    assert by_leaders.exists() and not by_leaders.filter(issuer_center__level="township").exists()


def test_actors_are_the_right_people(league, db) -> None:  # type: ignore[no-untyped-def]
    roles: dict[int, set[str]] = defaultdict(set)
    orgs: dict[int, set[int]] = defaultdict(set)
    for user, role, org in Membership.objects.values_list("user_id", "role", "org_id"):
        roles[user].add(role)
        if org:
            orgs[user].add(org)
    assigned: dict[int, set[int]] = defaultdict(set)
    for case, org in Assignment.objects.values_list("case_id", "org_id"):
        assigned[case].add(org)
    owners = dict(Case.objects.values_list("pk", "owner_id"))
    who = {
        "intake": "intake_clerk",
        "assign": "center_director",
        "close": "center_director",
        "reopen": "center_director",
        "court_result": "judge",
    }
    events = CaseEvent.objects.filter(kind__in=[*who, "sign_for"]).values_list("case_id", "kind", "actor_id")
    for case, kind, actor in events:
        assert actor is not None
        if kind == "sign_for":
            assert orgs[actor] & assigned[case], (case, kind, actor)
        else:
            assert who[kind] in roles[actor], (case, kind, actor)
        if kind == "intake":
            assert actor == owners[case]
    system = CaseEvent.objects.filter(actor=None)
    assert set(system.values_list("kind", flat=True)) <= {"supervision", "escalate", "deadline"}
    assert set(system.values_list("actor_name", flat=True)) == {"系统"}
    demo = User.objects.filter(username__startswith="demo-").values_list("pk", flat=True)
    assert CaseEvent.objects.filter(actor__in=demo).values("actor").distinct().count() >= 6
