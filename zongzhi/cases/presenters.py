"""Cases as the API shows them: JSON-ready dicts, with resident IDs and phones masked."""

from typing import Any

from zongzhi import access
from zongzhi.cases import events
from zongzhi.cases.models import Case, Party, State
from zongzhi.identity import mask_phone, mask_resident_id


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
