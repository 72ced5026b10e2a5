"""Cases as the API shows them: JSON-ready dicts, with resident IDs and phones masked."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.cases import events
from zongzhi.cases.models import Agreement, Case, Instalment, InstalmentPayment, Party, State
from zongzhi.identity import mask_phone, mask_resident_id


def case_path_prefix() -> str:
    """The case page's path up to the number: a page's rows link `prefix + number + "/"`, one reverse a
    page instead of one `{% url %}` a row (case numbers are digits, nothing to quote)."""
    return reverse("cases:detail", args=["0"]).removesuffix("0/")


def case_row(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(State(case.state).label),
        "category": case.category.name,
        "region": case.region_code,
        "region_name": case.region.name,
        "center": case.center.name,
        "risk_level": case.risk_level,
        "channel": case.channel,
        "registered_at": case.registered_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "awaiting_director": case.awaiting_director,
        "version": case.version,
    }


def mask_id(kind: str, number: str) -> str:
    """Resident IDs show their first 6 and last 4; credit codes and passports are not personal IDs."""
    return mask_resident_id(number) if kind == "person" else number


def party_masked(party: Party) -> dict[str, Any]:
    """A party as anyone may see it: resident ID and phone masked."""
    return {
        "kind": party.kind,
        "role": party.role,
        "name": party.name,
        "id_number": mask_id(party.kind, party.id_number),
        "nationality": party.nationality,
        "phone": mask_phone(party.phone),
    }


def case_detail(case: Case, user: Any) -> dict[str, Any]:
    """A (prefetched, see selectors.case_get) case with its parties, assignments and timeline."""
    return {
        **case_row(case),
        "description": case.description,
        "amount": str(case.amount) if case.amount is not None else None,
        "people_involved": case.people_involved,
        "foreign_related": case.foreign_related,
        "major": case.major,
        "risk_suggested": case.risk_suggested,
        "risk_reasons": case.risk_reasons,
        "owner": case.owner.get_username(),
        "outcome": case.outcome,
        "escalations": case.escalations,
        "parties": [party_masked(p) for p in case.parties.all()],
        "assignments": [
            {
                "org": a.org.code,
                "org_name": a.org.name,
                "role": a.role,
                "status": a.status,
                "deadline": a.deadline.isoformat(),
                "return_reason": a.return_reason,
            }
            for a in case.assignments.all()
        ],
        "events": [
            {
                "kind": e.kind,
                "label": events.label(e),
                "at": e.at.isoformat(),
                "actor": e.actor_name,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "version": e.version,
                "data": e.data,
            }
            for e in case.events.all()
        ],
        "supervisions": [
            {
                "id": s.pk,
                "kind": s.kind,
                "number": s.number,
                "status": s.status,
                "target": s.target_org.name if s.target_org else s.target_center.name if s.target_center else None,
                "deadline": s.deadline.isoformat(),
            }
            for s in case.supervisions.all()
        ],
        "allowed_actions": access.allowed_actions(user, case),
    }


def intake_result(case: Case, user: Any) -> dict[str, Any]:
    """The body of a fresh intake: no assignments or supervision yet, one event."""
    return {
        **case_row(case),
        "description": case.description,
        "amount": str(case.amount) if case.amount is not None else None,
        "people_involved": case.people_involved,
        "major": case.major,
        "risk_suggested": case.risk_suggested,
        "risk_reasons": case.risk_reasons,
        "repeats": getattr(case, "repeats", []),
        "warnings": getattr(case, "warnings", []),
        "registry": getattr(case, "registry", []),
        "owner": user.get_username(),
        "parties": [party_masked(p) for p in case.parties.all()],
        "allowed_actions": access.allowed_actions(user, case),
    }


ZERO = Decimal("0.00")


@dataclass
class ScheduleRow:
    """One instalment as the case page and the API show it: what is paid, what is owed, how late."""

    n: int
    instalment: Instalment
    payments: list[InstalmentPayment]
    paid: Decimal
    outstanding: Decimal
    days_overdue: int  # 0 unless due before today and not paid in full

    @property
    def status(self) -> str:
        if self.outstanding == 0:
            return str(_("已付清"))
        if self.days_overdue:
            return str(_("逾期 %(d)d 天") % {"d": self.days_overdue})
        return str(_("部分履行") if self.paid else _("未付"))


@dataclass
class Schedule:
    rows: list[ScheduleRow]
    total: Decimal
    paid: Decimal
    outstanding: Decimal


def schedule_of(agreement: Agreement, today: datetime.date) -> Schedule:
    """An agreement's instalments (prefetched with their payments), oldest due first, with the balance."""
    rows = []
    for n, instalment in enumerate(sorted(agreement.instalments.all(), key=lambda i: (i.due_on, i.pk)), start=1):
        payments = sorted(instalment.payments.all(), key=lambda p: (p.paid_on, p.pk))
        paid = instalment.paid_amount or ZERO
        outstanding = instalment.outstanding
        late = (today - instalment.due_on).days if outstanding and instalment.due_on < today else 0
        rows.append(ScheduleRow(n, instalment, payments, paid, outstanding, late))
    total = sum((r.instalment.amount for r in rows), ZERO)
    paid = sum((r.paid for r in rows), ZERO)
    return Schedule(rows, total, paid, sum((r.outstanding for r in rows), ZERO))


def schedule_json(schedule: Schedule) -> list[dict[str, Any]]:
    """The schedule for the API: each instalment with its payments (the receipts history)."""
    return [
        {
            "id": r.instalment.pk,
            "n": r.n,
            "due_on": r.instalment.due_on.isoformat(),
            "amount": str(r.instalment.amount),
            "paid": str(r.paid),
            "outstanding": str(r.outstanding),
            "paid_on": r.instalment.paid_on.isoformat() if r.instalment.paid_on else None,
            "days_overdue": r.days_overdue,
            "payments": [
                {"paid_on": p.paid_on.isoformat(), "amount": str(p.amount), "receipt": p.receipt_number}
                for p in r.payments
            ],
        }
        for r in schedule.rows
    ]


@dataclass
class OverdueRow:
    """One line of the overdue-instalment queue (分期逾期)."""

    instalment: Instalment
    case: Case
    obligors: list[str]  # the respondents' names (who owes), else every party's
    applicants: list[str]
    days_overdue: int
    outstanding: Decimal
    paid: Decimal
    reminded: bool = False


def overdue_row(instalment: Instalment, today: datetime.date) -> OverdueRow:
    """An instalment of the overdue queue (its case and parties prefetched)."""
    case = instalment.agreement.case
    parties = list(case.parties.all())
    respondents = [p.name for p in parties if p.role == Party.Role.RESPONDENT]
    applicants = [p.name for p in parties if p.role == Party.Role.APPLICANT]
    return OverdueRow(
        instalment=instalment,
        case=case,
        obligors=respondents or [p.name for p in parties],
        applicants=applicants,
        days_overdue=(today - instalment.due_on).days,
        outstanding=instalment.outstanding,
        paid=instalment.paid_amount or ZERO,
    )


def overdue_json(row: OverdueRow) -> dict[str, Any]:
    return {
        "case": row.case.number,
        "title": row.case.title,
        "instalment": row.instalment.pk,
        "due_on": row.instalment.due_on.isoformat(),
        "amount": str(row.instalment.amount),
        "paid": str(row.paid),
        "outstanding": str(row.outstanding),
        "days_overdue": row.days_overdue,
        "obligors": row.obligors,
        "applicants": row.applicants,
    }
