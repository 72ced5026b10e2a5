"""Deadlines, supervision and escalation: what the sweep does with cases that run late.

For a case past its deadline (`due_at`: acceptance while registered, handling once assigned), one
round goes, each document addressed to whoever holds the case now (`services.case_holder`): the
lead org, or the case's center when no org holds it (a case to accept, or one escalated and waiting
on the receiving center's director to keep or change the lead):
  1. 提示函 (reminder): to an org from the case's center, to the center from the center above;
  2. its reply deadline passed and the case still open: 督办单 (supervision) from the center above;
  3. the 督办单 left unanswered past its deadline: 督办函 (letter) to the same addressee, and 上提 to
     the next center up (重大疑难 cases to league-level coordination; a case not yet accepted is
     not escalated). Escalation sets a fresh `due_at` by the deadline policy, and the next round
     starts from it.
Besides, an assignment not signed for by its sign-for deadline gets one 提示函.

The sweep keeps no state of its own: where a case stands is read from its Supervision rows issued
since it fell due, so running it twice at the same moment changes nothing the second time. Every
write goes through the services (events and numbering stay theirs), each case in its own
transaction, under a row lock so two sweeps never act on the same case at once.

The services stamp what they write with `clock.now()`, so `now` (what is due) may not be later
than the clock: tests move the clock rather than pass a `now` ahead of it, and a backfill sweeps
under `clock.as_of(moment)`.
"""

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import clock
from zongzhi.cases import events, services, workflow
from zongzhi.cases.calendar import add_working_days, working_days_between
from zongzhi.cases.models import OPEN_STATES, Assignment, Case, Supervision

logger = logging.getLogger(__name__)

REPLY_DAYS = getattr(settings, "CASE_SUPERVISION_REPLY_DAYS", 5)  # working days to answer a document
SIGN_FOR_REPLY_DAYS = 1
DEFAULT_HANDLE_DAYS = 30  # when no policy matches: people's mediation's usual month

Kind = Supervision.Kind


@dataclass
class SweepReport:
    """What one sweep did: case numbers per stage (one entry per document), skipped escalations, errors."""

    now: datetime.datetime
    sign_for_reminders: list[str] = field(default_factory=list)
    overdue_reminders: list[str] = field(default_factory=list)
    supervisions: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)
    not_escalated: dict[str, str] = field(default_factory=dict)  # case number → why
    errors: dict[str, str] = field(default_factory=dict)  # case number → message

    STAGES = ("sign_for_reminders", "overdue_reminders", "supervisions", "letters", "escalations")

    def counts(self) -> dict[str, int]:
        return {stage: len(getattr(self, stage)) for stage in self.STAGES} | {
            "not_escalated": len(self.not_escalated),
            "errors": len(self.errors),
        }

    @property
    def acted(self) -> bool:
        return any(getattr(self, stage) for stage in self.STAGES)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for the task result and `sweep_deadlines --json`."""
        return {
            "now": timezone.localtime(self.now).isoformat(),
            "counts": self.counts(),
            "cases": {stage: getattr(self, stage) for stage in self.STAGES},
            "not_escalated": self.not_escalated,
            "errors": self.errors,
        }


# ---- the policy ---------------------------------------------------------------------------------


def handling_due(case: Case, start: datetime.datetime) -> datetime.datetime:
    """The handling deadline for the case counted from `start`, by its category and risk."""
    policy = services.policy_for(case.category, case.risk_level)
    return add_working_days(start, policy.handle_days if policy else DEFAULT_HANDLE_DAYS)


# ---- where cases stand (the one definition of each stage, used to find and to act) --------------


def _this_round(kind: str, case: Any = None, due: Any = None) -> QuerySet[Supervision]:
    """Documents of `kind` issued since the case fell due: of `case`, or of the outer case in a subquery."""
    of_case: dict[str, Any] = {
        "case": OuterRef("pk") if case is None else case,
        "issued_at__gte": OuterRef("due_at") if due is None else due,
    }
    return Supervision.objects.filter(kind=kind, **of_case)


def _lapsed_reminders(now: datetime.datetime, case: Any = None, due: Any = None) -> QuerySet[Supervision]:
    return _this_round(Kind.REMINDER, case, due).filter(deadline__lt=now)


def _unanswered_supervisions(now: datetime.datetime, case: Any = None, due: Any = None) -> QuerySet[Supervision]:
    """督办单 of this round past their deadline without a reply, and no 督办函 since."""
    letter_since = Supervision.objects.filter(
        case=OuterRef("case"), kind=Kind.LETTER, issued_at__gte=OuterRef("issued_at")
    )
    return (
        _this_round(Kind.SUPERVISION, case, due)
        .filter(status=Supervision.Status.OPEN, deadline__lt=now)
        .filter(~Exists(letter_since))
    )


FLAGS = ("reminded", "reminder_lapsed", "supervised", "supervision_unanswered")


def _overdue(now: datetime.datetime) -> QuerySet[Case]:
    """Open cases past due with something to do now, with the FLAGS that say what."""
    return (
        Case.objects.filter(state__in=OPEN_STATES, due_at__lt=now)
        .annotate(
            reminded=Exists(_this_round(Kind.REMINDER)),
            reminder_lapsed=Exists(_lapsed_reminders(now)),
            supervised=Exists(_this_round(Kind.SUPERVISION)),
            supervision_unanswered=Exists(_unanswered_supervisions(now)),
        )
        .filter(Q(reminded=False) | Q(reminder_lapsed=True, supervised=False) | Q(supervision_unanswered=True))
    )


def _unsigned(now: datetime.datetime) -> QuerySet[Assignment]:
    """Assignments still pending past their sign-for deadline, not yet reminded."""
    reminded = Supervision.objects.filter(
        case=OuterRef("case"), kind=Kind.REMINDER, target_org=OuterRef("org"), issued_at__gte=OuterRef("sign_for_due")
    )
    return Assignment.objects.filter(
        status=Assignment.Status.PENDING, sign_for_due__lt=now, case__state__in=OPEN_STATES
    ).filter(~Exists(reminded))


# ---- the sweep ----------------------------------------------------------------------------------


def sweep(now: datetime.datetime | None = None) -> SweepReport:
    """Issue what is due on every late case: reminders, supervision, letters and escalations."""
    current = clock.now()
    now = now or current
    if now > current:
        # The services stamp documents with the clock; a `now` ahead of it would misplace them in the round.
        raise ValueError("sweep(now=...) cannot be later than clock.now()")
    report = SweepReport(now=now)
    candidates = dict(_overdue(now).order_by().values_list("pk", "number"))
    candidates.update(_unsigned(now).order_by().values_list("case_id", "case__number"))
    for pk in sorted(candidates):
        try:
            _sweep_case(pk, now, report)
        except Exception as error:
            # One case failing must not stop the others; it is tried again at the next sweep.
            logger.exception("deadline sweep failed on case %s", candidates[pk])
            report.errors[candidates[pk]] = (
                "；".join(error.messages) if isinstance(error, ValidationError) else str(error)
            )
    if report.acted or report.errors:
        logger.info("deadline sweep at %s: %s", now.isoformat(), report.counts())
    return report


def _sweep_case(pk: int, now: datetime.datetime, report: SweepReport) -> None:
    # A case's steps commit together, and reach the report only once they have.
    done = SweepReport(now=now)
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("center", "category")
            .filter(pk=pk, state__in=OPEN_STATES)
            .first()
        )
        if case is None:
            return
        flags = _overdue(now).filter(pk=pk).values(*FLAGS).first()
        if flags is not None:
            _advance(case, flags, now, done)
        for assignment in _unsigned(now).filter(case_id=pk).select_related("org", "case"):
            _remind_sign_for(assignment, done)
    for stage in SweepReport.STAGES:
        getattr(report, stage).extend(getattr(done, stage))
    report.not_escalated.update(done.not_escalated)


def _late_by(case: Case, now: datetime.datetime) -> str:
    assert case.due_at is not None
    days = working_days_between(timezone.localdate(case.due_at), timezone.localdate(now))
    due = timezone.localtime(case.due_at)
    what = case.deadline_label
    if days:
        return _("案件已超过%(w)s（%(d)s）%(n)d 个工作日") % {"w": what, "d": f"{due:%Y-%m-%d}", "n": days}
    return _("案件已超过%(w)s（%(d)s）") % {"w": what, "d": f"{due:%Y-%m-%d}"}


def _advance(case: Case, flags: dict[str, Any], now: datetime.datetime, done: SweepReport) -> None:
    """One step along the round: the furthest stage that is due, and only that one."""
    late = _late_by(case, now)
    if flags["supervision_unanswered"]:
        supervision = _unanswered_supervisions(now, case.pk, case.due_at).order_by("issued_at").first()
        assert supervision is not None
        name = services.supervision_name(Kind.SUPERVISION)
        services.supervision_send(
            case=case,
            actor=None,
            kind=Kind.LETTER,
            days=REPLY_DAYS,
            target_org=supervision.target_org,
            target_center=supervision.target_center,
            reason=_("%(name)s %(number)s 逾期未反馈，%(late)s。现发督办函，请于 %(days)d 个工作日内反馈办理情况。")
            % {"name": name, "number": supervision.number, "late": late, "days": REPLY_DAYS},
        )
        done.letters.append(case.number)
        _escalate(
            case, now, done, why=_("%(name)s %(number)s 逾期未反馈") % {"name": name, "number": supervision.number}
        )
    elif flags["reminder_lapsed"] and not flags["supervised"]:
        reminder = _lapsed_reminders(now, case.pk, case.due_at).order_by("issued_at").first()
        assert reminder is not None
        services.supervision_send(
            case=case,
            actor=None,
            kind=Kind.SUPERVISION,
            days=REPLY_DAYS,
            reason=_(
                "%(late)s，%(name)s %(number)s 的反馈期限已过，案件仍未办结。请于 %(days)d 个工作日内反馈办理情况。"
            )
            % {
                "late": late,
                "name": services.supervision_name(Kind.REMINDER),
                "number": reminder.number,
                "days": REPLY_DAYS,
            },
        )
        done.supervisions.append(case.number)
    elif not flags["reminded"]:
        services.supervision_send(
            case=case,
            actor=None,
            kind=Kind.REMINDER,
            days=REPLY_DAYS,
            reason=_("%(late)s，请于 %(days)d 个工作日内反馈办理情况。") % {"late": late, "days": REPLY_DAYS},
        )
        done.overdue_reminders.append(case.number)


def _escalate(case: Case, now: datetime.datetime, done: SweepReport, *, why: str) -> None:
    """上提, then a fresh deadline; a case that cannot go up (at the league, not in progress) stays."""
    if case.major:
        reason = _("%(why)s，重大疑难案件提请盟级统筹协调。") % {"why": why}
    else:
        reason = _("%(why)s，上提至上一级综治中心。") % {"why": why}
    try:
        with transaction.atomic():
            case = services.case_escalate(case=case, actor=None, version=case.version, reason=reason, system=True)
    except ValidationError as error:
        done.not_escalated[case.number] = "；".join(error.messages)
        return
    done.escalations.append(case.number)
    if case.due_at is None or case.due_at <= now:  # case_escalate left the old deadline: renew it here
        _renew_due(case, now)


def _renew_due(case: Case, now: datetime.datetime) -> None:
    """A new handling deadline by the policy, as a versioned change with its timeline event."""
    due = handling_due(case, now)
    if not Case.objects.filter(pk=case.pk, version=case.version).update(version=F("version") + 1, due_at=due):
        raise workflow.Conflict(case)
    case.refresh_from_db()
    events.append(
        case, events.DeadlineRenewed(due_at=due, reason=_("上提后按期限规则重新计算办理期限。")), actor=None, at=now
    )


def _remind_sign_for(assignment: Assignment, done: SweepReport) -> None:
    due = timezone.localtime(assignment.sign_for_due)
    services.supervision_send(
        case=assignment.case,
        actor=None,
        kind=Kind.REMINDER,
        days=SIGN_FOR_REPLY_DAYS,
        target_org=assignment.org,
        reason=_("%(org)s未在签收期限（%(due)s）前签收案件，请于 %(days)d 个工作日内签收办理。")
        % {"org": assignment.org.name, "due": f"{due:%Y-%m-%d %H:%M}", "days": SIGN_FOR_REPLY_DAYS},
    )
    done.sign_for_reminders.append(assignment.case.number)
