"""One case's story: from intake to the state it has reached, writing what each step writes."""

import datetime
import functools
import heapq
import random
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from zongzhi.cases.calendar import is_workday
from zongzhi.cases.models import (
    Assignment,
    Case,
    CourtReferral,
    FollowUp,
    MediationSession,
    Supervision,
)
from zongzhi.cases.workflow import TRANSITIONS
from zongzhi.demo import places

from .planner import _weighted
from .texts import (
    ALL_DEPARTMENTS,
    COORDINATION,
    ESCALATE_REASONS,
    FAIL_REASONS,
    KINDS,
    LEADS,
    OPEN,
    REJECT_REASONS,
    REOPEN_REASONS,
    REPLIES,
    REPLY_DAYS,
    RESOLVE_NOTES,
    RETURN_REASONS,
    SESSION_RECORDS,
    SWEEP_AT,
    TOWNSHIP_LEADS,
    WITHDRAW_REASONS,
    K,
    S,
)
from .world import (
    _Agreement,
    _Assignment,
    _at,
    _Case,
    _Coordination,
    _Event,
    _FollowUp,
    _Instalment,
    _local,
    _Referral,
    _Session,
    _Supervision,
    _World,
)

# ---- one case's story ---------------------------------------------------------------------------


Step = tuple[str, float, dict[str, Any]]


class _Story:
    """Walks a case from intake to the state it has reached, writing what each step writes."""

    def __init__(self, world: _World, case: _Case, rng: random.Random, end: datetime.datetime):
        self.w, self.c, self.rng, self.end = world, case, rng, end
        self.last = case.registered_at
        self.queue: list[tuple[datetime.datetime, int, Callable[[datetime.datetime], None]]] = []
        self.counter = 0
        self.pace = {"blue": 0.5, "yellow": 1.0, "orange": 1.3, "red": 1.5}[case.risk]
        self.co_planned = 0

    # -- the script: which steps, with nominal gaps in days --

    def gap(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def script(self) -> list[Step]:
        c, rng = self.c, self.rng
        steps: list[Step] = [("intake", 0.0, {})]
        target = c.target
        if c.league_major:
            return steps + self.major_script()
        if target == S.REGISTERED:
            return steps
        if target == S.REJECTED:
            return [*steps, ("reject", self.gap(0.05, 2), {})]
        steps.append(("accept", self.gap(0.01, 0.8), {}))
        if target == S.WITHDRAWN:
            depth = rng.choice([0, 0, 1, 1, 2])
            if depth >= 1:
                steps += self.assign_steps(returned=False)
            if depth >= 2:
                steps += self.sign_steps()
            return [*steps, ("withdraw", self.gap(1, 12), {})]
        if target == S.ACCEPTED:
            if rng.random() < 0.35:
                steps += self.assign_steps(returned=False)
                steps.append(("return", self.gap(0.2, 2), {}))
            elif rng.random() < 0.15 and c.center != f"ZZ-{c.county}":
                steps.append(("escalate", self.gap(0.5, 3), {}))
            return steps
        steps += self.assign_steps(returned=rng.random() < 0.07)
        if target == S.ASSIGNED:
            return steps
        steps += self.sign_steps()
        if c.category.split(".")[0] in COORDINATION and rng.random() < 0.1:
            steps.append(("coordinate", self.gap(1, 4), {}))
        if rng.random() < (0.25 if c.risk in ("orange", "red") else 0.03):
            steps.append(("supervise", self.gap(2, 8), {"kind": rng.choice([K.HANDOVER, K.SUPERVISION])}))
        if rng.random() < (0.12 if c.risk in ("orange", "red") else 0.02):
            steps.append(("escalate", self.gap(2, 8), {}))
        if target == S.IN_PROGRESS:
            return steps + self.sessions(rng.choice([0, 1, 1, 2]))
        resolved = target == S.RESOLVED or (target == S.CLOSED and rng.random() < 0.85)
        if resolved:
            agreement = rng.random() < 0.6
            steps += self.sessions(rng.choice([1, 1, 2, 3]) if agreement else rng.choice([0, 1]))
            if agreement:
                steps.append(("agreement", self.gap(0.01, 0.1), {}))
            steps.append(("resolve", self.gap(0.001, 0.02) if agreement else self.gap(1, 6) * self.pace, {}))
            if agreement and rng.random() < 0.15:
                steps.append(("confirm", self.gap(0.5, 3), {}))
        else:
            steps += self.sessions(rng.choice([1, 2]))
            steps.append(("fail", self.gap(1, 6), {}))
        if target in (S.RESOLVED, S.UNRESOLVED):
            return steps
        if not resolved and rng.random() < 0.45:
            steps.append(("refer_court", self.gap(0.5, 4), {}))
        else:
            steps.append(("close", self.gap(0.3, 4), {}))
        if resolved and rng.random() < 0.02:
            steps.append(("reopen", self.gap(20, 50), {}))
            steps += self.assign_steps(returned=False)
            steps += self.sign_steps()
            steps += self.sessions(1)
            steps += [("resolve", self.gap(1, 5), {"note": "经再次调处，被申请人已履行协议约定义务。"})]
            steps.append(("close", self.gap(0.3, 3), {}))
        return steps

    def major_script(self) -> list[Step]:
        c = self.c
        reason = "涉及人数众多、矛盾易激化，存在群体性事件风险，属重大疑难案件，提请盟级综治中心统筹协调。"
        steps: list[Step] = [
            ("accept", self.gap(0.01, 0.2), {}),
            ("escalate", self.gap(0.3, 1.5), {"reason": reason}),
            ("assign", self.gap(0.2, 1.5), self.major_orgs()),
            *self.sign_steps(),
            ("coordinate", self.gap(1, 3), {}),
            ("supervise", self.gap(1, 3), {"kind": K.LETTER}),
            *self.sessions(2),
        ]
        if c.target == S.CLOSED:
            steps += [
                ("agreement", self.gap(0.01, 0.1), {}),
                ("resolve", self.gap(0.001, 0.01), {}),
                ("close", self.gap(0.5, 3), {}),
            ]
        return steps

    def major_orgs(self) -> dict[str, Any]:
        """Who handles a 重大疑难 case: the competent department with the courts and the petition bureau."""
        names = ["人力资源和社会保障局", "总工会", "人民法院"] if self.c.category.startswith("labour") else []
        names = names or ["自然资源局", "林业和草原局", "信访局"]
        lead, *co = (f"{self.c.county}-D{ALL_DEPARTMENTS.index(name) + 1:02d}" for name in names)
        self.co_planned = len(co)
        return {"lead": lead, "co": co}

    def assign_steps(self, *, returned: bool) -> list[Step]:
        rng = self.rng
        lead = self.pick_lead(set())
        count = (1 if rng.random() < 0.22 else 0) + (1 if rng.random() < 0.04 else 0)
        cos: list[str] = []
        for _ in range(count):
            other = self.pick_lead({lead, *cos}, co=True)
            if other:
                cos.append(other)
        steps: list[Step] = [("assign", self.gap(0.1, 2), {"lead": lead, "co": cos})]
        self.co_planned = len(cos)
        if returned:
            self.co_planned = 0
            steps.append(("return", self.gap(0.2, 2), {}))
            steps.append(("assign", self.gap(0.1, 1.5), {"lead": self.pick_lead({lead}), "co": []}))
        return steps

    def sign_steps(self) -> list[Step]:
        steps: list[Step] = [("sign_lead", self.gap(0.02, 1), {})]
        return steps + [("sign_co", self.gap(0.05, 1.5), {}) for _ in range(self.co_planned)]

    def sessions(self, n: int) -> list[Step]:
        return [("session", self.gap(1, 8) * self.pace, {}) for _ in range(n)]

    def pick_lead(self, exclude: set[str], co: bool = False) -> str:
        """A lead (or co-handling) org for the case, by its domain and where it was received."""
        c, rng, w = self.c, self.rng, self.w
        c6, domain = c.county, KINDS[c.category].domain
        options: dict[str, float] = {}
        t9 = c.region[:9]
        if c.center.startswith(f"ZZ-{t9}") and not co:
            for suffix, weight in TOWNSHIP_LEADS.items():
                options[f"{t9}-{suffix}"] = weight
        for spec, weight in LEADS[domain] + ([(("dept", "司法局"), 1), (("tjs",), 1)] if co else []):
            if spec[0] == "dept":
                codes = [f"{c6}-D{ALL_DEPARTMENTS.index(spec[1]) + 1:02d}"]
            elif spec[0] == "mc":
                codes = [f"{c6}-MC"]
            elif spec[0] == "brand":
                codes = [code for code in (f"{c6}-BR{i}" for i in range(1, 5)) if code in w.orgs]
            elif spec[0] == "tjs":
                codes = [f"{t9}-JS", f"{t9}-PS"]
            else:
                herder = [d for d in places.HERDER_DOMAINS if places.DOMAIN_CODES[d] == domain]
                codes = [f"{c6}-PT{places.HERDER_DOMAINS.index(herder[0]) + 1}"] if herder and c6 == "152526" else []
            for code in codes:
                if code in w.org_users:
                    options[code] = options.get(code, 0) + weight / len(codes)
        options = {k: v for k, v in options.items() if k not in exclude and w.org_users.get(k)}
        if not options:
            options = {f"{c6}-D05": 1.0} if f"{c6}-D05" not in exclude else {f"{c6}-MC": 1.0}
        return str(_weighted(rng, options))

    # -- timing --

    def times(self, steps: list[Step]) -> list[datetime.datetime]:
        """Step times from the nominal gaps, in office hours, squeezed when the case is too young for them."""
        t0 = self.c.registered_at
        total = sum(g for _, g, _ in steps)
        factor = min(1.0, ((self.end - t0).total_seconds() / 86400 - 0.05) / total) if total > 0 else 1.0
        for _attempt in range(6):
            times, t = [t0], t0
            for _, gap, _ in steps[1:]:
                nxt = self.office(t + datetime.timedelta(days=gap * factor))
                t = max(nxt, t + datetime.timedelta(minutes=self.rng.randint(1, 5)))
                times.append(t)
            if t < self.end:
                return times
            factor *= 0.6
        # Still too long for the time left (a busy case registered yesterday): squeeze it as it is.
        squeeze = (self.end - datetime.timedelta(minutes=30) - t0) / (t - t0)
        return [(t0 + (moment - t0) * squeeze).replace(microsecond=0) for moment in times]

    def office(self, moment: datetime.datetime) -> datetime.datetime:
        """People act in office hours: a moment in the evening or at night moves to the next morning."""
        local = _local(moment)
        minutes = local.hour * 60 + local.minute
        if 8 * 60 <= minutes < 18 * 60 + 30:
            return moment.replace(microsecond=0)
        day = local.date() + datetime.timedelta(days=0 if minutes < 8 * 60 else 1)
        return _at(day, datetime.time(8, 30)) + datetime.timedelta(minutes=self.rng.randint(0, 180))

    # -- running it --

    def run(self) -> None:
        steps = self.script()
        for (kind, _gap, args), at in zip(steps, self.times(steps), strict=True):
            self.flush(at)
            getattr(self, f"do_{kind}")(max(at, self.last + datetime.timedelta(seconds=1)), **args)
        self.flush(self.end)
        version = 0
        for event in self.c.events:
            version += event.versioned
            event.version = version
        self.c.version = version

    def later(self, at: datetime.datetime, action: Callable[[datetime.datetime], None]) -> None:
        """Something someone does on their own time (a reply, a payment, a call back)."""
        self.counter += 1
        heapq.heappush(self.queue, (self.office(at), self.counter, action))

    def flush(self, until: datetime.datetime) -> None:
        """What happens before `until`: scheduled replies and payments, and the morning deadline sweeps."""
        while True:
            sweep = self.next_sweep()
            queued = self.queue[0][0] if self.queue else None
            if sweep is not None and (queued is None or sweep[0] <= queued) and sweep[0] < until:
                sweep[1](max(sweep[0], self.last + datetime.timedelta(seconds=1)))
            elif queued is not None and queued < until:
                _at_, _n, action = heapq.heappop(self.queue)
                action(max(_at_, self.last + datetime.timedelta(seconds=1)))
            else:
                return

    def event(
        self, kind: str, actor: str | None, at: datetime.datetime, data: dict[str, Any], *, versioned: bool = False
    ) -> _Event:
        event = _Event(kind, actor, at, "", self.c.state, versioned, data)
        self.c.events.append(event)
        self.last = at
        return event

    def transition(
        self, action: str, actor: str | None, at: datetime.datetime, data: dict[str, Any], reason: str = ""
    ) -> None:
        transition = TRANSITIONS[action]
        assert self.c.state in transition.sources, (self.c.number, action, self.c.state)
        before = self.c.state
        self.c.state = str(transition.target or before)
        payload = {**data, **({"reason": reason} if reason else {})}
        self.c.events.append(_Event(action, actor, at, before, self.c.state, True, payload))
        self.last = at

    def director(self) -> str:
        return self.w.director(self.rng, self.c.center)

    def lead(self) -> _Assignment | None:
        live = (Assignment.Status.PENDING, Assignment.Status.SIGNED)
        return next((a for a in self.c.assignments if a.role == "lead" and a.status in live), None)

    def lead_or_last(self) -> _Assignment | None:
        leads = [a for a in self.c.assignments if a.role == "lead" and a.status != Assignment.Status.RETURNED]
        return leads[-1] if leads else None

    def close_assignments(self, statuses: Iterable[str], to: str, reason: str = "") -> None:
        for a in self.c.assignments:
            if a.status in statuses:
                a.status = to
                if reason:
                    a.return_reason = reason

    # -- steps --

    def do_intake(self, at: datetime.datetime) -> None:
        c = self.c
        c.state = str(S.REGISTERED)
        c.due_at = self.w.acceptance_due(c.category, c.risk, c.registered_at)  # as `services.case_intake`
        data = {"channel": c.channel, "due_at": c.due_at.isoformat(), "risk": c.risk, "risk_reasons": c.risk_reasons}
        data |= {"repeats": [], "related": []}
        self.event("intake", c.owner, c.registered_at, {**data, **c.intake_data}, versioned=True)

    def do_accept(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.7 else self.director()
        self.c.due_at = None  # the acceptance deadline is met
        self.transition("accept", actor, at, {})

    def do_reject(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.6 else self.director()
        self.transition("reject", actor, at, {}, reason=self.rng.choice(REJECT_REASONS))
        self.c.closed_at = at

    def do_withdraw(self, at: datetime.datetime) -> None:
        actor = self.c.owner if self.rng.random() < 0.6 else self.director()
        self.close_assignments((Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.DONE)
        self.transition("withdraw", actor, at, {}, reason=self.rng.choice(WITHDRAW_REASONS))
        self.c.closed_at = at

    def do_assign(self, at: datetime.datetime, lead: str, co: list[str]) -> None:
        c, w = self.c, self.w
        sign_due, handle_due = w.deadlines(c.category, c.risk, at)
        actor = self.director()
        for org, role in [(lead, "lead"), *((o, "co") for o in co)]:
            c.assignments.append(_Assignment(org, role, handle_due, sign_due, actor, at))
        c.due_at, c.awaiting_director = handle_due, False
        data = {"lead": w.orgs[lead].name, "co": [w.orgs[o].name for o in co], "deadline": handle_due.isoformat()}
        self.transition("assign", actor, at, data)

    def do_sign_lead(self, at: datetime.datetime) -> None:
        lead = self.lead()
        assert lead is not None
        actor = self.w.handler(self.rng, lead.org)
        lead.status, lead.signed_by, lead.signed_at = Assignment.Status.SIGNED, actor, at
        self.transition("sign_for", actor, at, {"org": self.w.orgs[lead.org].name, "role": "lead"})

    def do_sign_co(self, at: datetime.datetime) -> None:
        """A co-handler signs for its part: a versioned change without a state change."""
        pending = [a for a in self.c.assignments if a.role == "co" and a.status == Assignment.Status.PENDING]
        # Some co-handlers never sign for a case that is still open; one that moved on, they all did.
        if pending and (self.c.target not in OPEN or self.rng.random() < 0.9):
            a = pending[0]
            actor = self.w.handler(self.rng, a.org)
            a.status, a.signed_by, a.signed_at = Assignment.Status.SIGNED, actor, at
            self.event("sign_for", actor, at, {"org": self.w.orgs[a.org].name, "role": "co"}, versioned=True)

    def do_return(self, at: datetime.datetime) -> None:
        lead = self.lead()
        assert lead is not None
        reason = self.rng.choice(RETURN_REASONS)
        actor = self.w.handler(self.rng, lead.org)
        self.close_assignments(
            (Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.RETURNED, reason
        )
        self.c.due_at = None
        self.transition("return", actor, at, {"org": self.w.orgs[lead.org].name}, reason=reason)

    def do_escalate(
        self, at: datetime.datetime, reason: str = "", system: bool = False, why: Callable[[], str] | None = None
    ) -> bool:
        """上提 to the next center up (重大疑难 cases to the league); False when there is none or the state forbids."""
        c, w = self.c, self.w
        target = w.league_center if c.major else w.centers[c.center].parent
        if target is None or target == c.center or c.state not in TRANSITIONS["escalate"].sources:
            return False
        who = None if system else self.director()
        lead = self.lead()
        data: dict[str, Any] = {"from": w.centers[c.center].name, "to": w.centers[target].name, "major": c.major}
        data["lead"] = w.orgs[lead.org].name if lead else ""
        self.transition("escalate", who, at, data, reason=reason or self.rng.choice(ESCALATE_REASONS))
        if why is not None:
            c.events[-1].data["_reason"] = why
        c.center, c.escalations = target, c.escalations + 1
        if lead is not None:
            # The case waits on the receiving center's director, who keeps the lead (as `case_lead_keep`).
            c.awaiting_director = True
            self.later(at + datetime.timedelta(days=self.gap(0.1, 2)), self.keep_lead)
        return True

    def keep_lead(self, at: datetime.datetime) -> None:
        c, lead = self.c, self.lead()
        if not c.awaiting_director or c.state not in (S.ASSIGNED, S.IN_PROGRESS) or lead is None:
            return
        c.awaiting_director = False
        data: dict[str, Any] = {"org": self.w.orgs[lead.org].name, "center": self.w.centers[c.center].name}
        data["deadline"] = c.due_at.isoformat() if c.due_at else None
        self.event("lead_kept", self.director(), at, data, versioned=True)

    def do_session(self, at: datetime.datetime) -> None:
        c, rng, w = self.c, self.rng, self.w
        lead = self.lead_or_last()
        recorder = w.handler(rng, lead.org) if lead else self.director()
        mediators = [w.actor_name(recorder)]
        if rng.random() < 0.4:
            mediators.append(f"人民调解员{rng.choice(places.SURNAMES)}{rng.choice(places.GIVEN)}")
        center = w.centers[c.center]
        room: tuple[str, str] | None = None
        village = w.regions[c.region[:12]]
        if village.kind == "gacha" and rng.random() < 0.35:
            kind, place = MediationSession.Place.STATION, f"{village.name}蒙古包调解驿站"
        elif rng.random() < 0.2:
            kind, place = MediationSession.Place.ON_SITE, f"{c.location}现场"
        else:
            kind = MediationSession.Place.ROOM
            rooms = [r for r in center.rooms if r[1] == "mediation"]
            own = [
                r for r in center.rooms if (lead and r[3] == lead.org) or (c.foreign and r[1] == "foreign_mediation")
            ]
            chosen = own[0] if own else rng.choice(rooms)
            room, place = (center.code, chosen[2]), chosen[2]
        session = _Session(
            at,
            kind,
            room,
            place,
            "、".join(mediators),
            "、".join(p.name for p in c.parties),
            rng.choice(SESSION_RECORDS),
            recorder,
        )
        c.sessions.append(session)
        self.event("session", recorder, at, {"held_at": at.isoformat(), "place": place, "mediators": session.mediators})

    def do_agreement(self, at: datetime.datetime) -> None:
        c, rng = self.c, self.rng
        lead = self.lead_or_last()
        recorder = self.w.handler(rng, lead.org) if lead else self.director()
        signed = _local(at).date()
        amount = None
        if c.amount is not None:
            amount = (c.amount * Decimal(rng.choice([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]))).quantize(Decimal("100"))
            amount = max(amount, Decimal("100")).quantize(Decimal("0.01"))
        due = signed + datetime.timedelta(days=rng.choice([7, 15, 30, 60, 90]))
        payer = c.parties[-1].name if len(c.parties) > 1 else "被申请人"
        if amount is not None:
            terms = f"一、{payer}于{due:%Y年%m月%d日}前向{c.parties[0].name}支付{int(amount)}元；"
            terms += "二、双方就此纠纷再无其他争议。"
            method = rng.choice(["一次性银行转账", "分期银行转账", "现金支付"])
        else:
            terms = "一、双方按约定恢复原状、停止侵害；二、今后互谅互让，不再因此事发生争执。"
            method = "按约定自行履行"
        agreement = _Agreement(
            f"{c.number}-XY", c.description[:200], terms, amount, method, c.location, due, signed, recorder
        )
        if amount is not None:
            parts = 1 if method != "分期银行转账" else rng.choice([2, 3])
            share = (amount / parts).quantize(Decimal("1"))
            for i in range(parts):
                piece = share if i < parts - 1 else amount - share * (parts - 1)
                due_on = signed + datetime.timedelta(days=round((due - signed).days * (i + 1) / parts))
                instalment = _Instalment(due_on, piece)
                agreement.instalments.append(instalment)
                if rng.random() < 0.9:
                    paid = _at(due_on, datetime.time(10)) - datetime.timedelta(days=rng.randint(0, 3))
                    self.later(paid, functools.partial(self.pay, instalment=instalment, n=i))
        c.agreement = agreement
        self.event("agreement", recorder, at, {"amount": str(amount) if amount is not None else None})

    def pay(self, at: datetime.datetime, instalment: _Instalment, n: int) -> None:
        instalment.paid_on = _local(at).date()
        instalment.paid_amount = instalment.amount
        instalment.receipt_number = f"SJ{self.c.number[6:14]}{self.c.number[-4:]}{n + 1}"
        data = {"due_on": instalment.due_on.isoformat(), "paid": str(instalment.amount)}
        self.event("instalment_paid", self.c.owner, at, {**data, "receipt": instalment.receipt_number})

    def do_resolve(self, at: datetime.datetime, note: str = "") -> None:
        c = self.c
        lead = self.lead()
        actor = self.w.handler(self.rng, lead.org) if lead and self.rng.random() < 0.6 else self.director()
        with_agreement = c.agreement is not None and not note
        self.close_assignments((Assignment.Status.SIGNED,), Assignment.Status.DONE)
        c.outcome = str(Case.Outcome.AGREEMENT if with_agreement else Case.Outcome.RESOLVED_OTHER)
        c.outcome_note = "" if with_agreement else note or self.rng.choice(RESOLVE_NOTES)
        self.transition("resolve", actor, at, {"agreement": with_agreement})

    def do_fail(self, at: datetime.datetime) -> None:
        c = self.c
        lead = self.lead()
        actor = self.w.handler(self.rng, lead.org) if lead and self.rng.random() < 0.6 else self.director()
        domain = KINDS[c.category].domain
        guidance = (
            "arbitration"
            if domain == "labour" and self.rng.random() < 0.6
            else "admin_reconsideration"
            if domain in ("demolition", "land_acquisition") and self.rng.random() < 0.5
            else self.rng.choice(["litigation", "litigation", "other"])
        )
        reason = self.rng.choice(FAIL_REASONS)
        self.close_assignments((Assignment.Status.SIGNED,), Assignment.Status.DONE)
        c.outcome, c.outcome_note = guidance, reason
        self.transition("fail", actor, at, {"guidance": guidance}, reason=reason)

    def do_close(self, at: datetime.datetime) -> None:
        c = self.c
        self.transition("close", self.director(), at, {"outcome": c.outcome})
        c.closed_at = at
        self.schedule_follow_up(at)

    def do_refer_court(self, at: datetime.datetime) -> None:
        c, w, rng = self.c, self.w, self.rng
        court = f"{c.county}-FTC"
        referral = _Referral(court, CourtReferral.Kind.LITIGATION, at, note="调解不成，当事人同意转速裁法庭审理。")
        c.referrals.append(referral)
        actor = self.director()
        self.transition("refer_court", actor, at, {"court": w.orgs[court].name})
        c.closed_at, c.outcome = at, str(Case.Outcome.COURT)
        if rng.random() < 0.8:
            self.later(at + datetime.timedelta(days=self.gap(2, 12)), lambda t: self.decide(t, referral, "accepted"))
        self.schedule_follow_up(at)

    def do_confirm(self, at: datetime.datetime) -> None:
        c = self.c
        court = f"{c.county}-FTC"
        referral = _Referral(court, CourtReferral.Kind.CONFIRMATION, at)
        c.referrals.append(referral)
        actor = c.owner if self.rng.random() < 0.5 else self.director()
        self.event("court_referral", actor, at, {"court": self.w.orgs[court].name, "kind": "confirmation"})
        result = "confirmed" if self.rng.random() < 0.92 else "rejected"
        self.later(at + datetime.timedelta(days=self.gap(3, 15)), lambda t: self.decide(t, referral, result))

    def decide(self, at: datetime.datetime, referral: _Referral, result: str) -> None:
        notes = {"accepted": "已立案，进入速裁程序。", "confirmed": "调解协议合法有效，裁定确认。"}
        note = notes.get(result, "协议内容超出当事人处分范围，不予确认。")
        referral.result, referral.decided_at, referral.note = result, at, note
        judge = self.w.pick_user(self.rng, self.w.org_users[referral.court], 0.5)
        label = str(CourtReferral.Result(result).label)
        self.event("court_result", judge, at, {"result": result, "label": label, "note": note})

    def schedule_follow_up(self, closed: datetime.datetime) -> None:
        if self.rng.random() < 0.85:
            self.later(closed + datetime.timedelta(days=self.gap(2, 20)), self.follow_up)

    def follow_up(self, at: datetime.datetime) -> None:
        c, rng = self.c, self.rng
        if c.state != S.CLOSED:
            return
        paid = [i.paid_on is not None for i in c.agreement.instalments] if c.agreement else []
        if not paid:
            performance = FollowUp.Performance.NOT_APPLICABLE if c.agreement is None else FollowUp.Performance.PERFORMED
        elif all(paid):
            performance = FollowUp.Performance.PERFORMED
        else:
            performance = FollowUp.Performance.PARTLY if any(paid) else FollowUp.Performance.NOT_PERFORMED
        happy = {"satisfied": 75, "basically": 20, "dissatisfied": 5}
        if c.outcome not in (Case.Outcome.AGREEMENT, Case.Outcome.RESOLVED_OTHER):
            happy = {"satisfied": 40, "basically": 40, "dissatisfied": 20}
        satisfaction = str(_weighted(rng, happy))
        by = c.owner if rng.random() < 0.75 else self.director()
        method = rng.choice(["电话", "电话", "上门", "微信"])
        note = {"satisfied": "当事人对调处结果表示满意。", "basically": "当事人表示基本满意。"}.get(
            satisfaction, "当事人对处理结果仍有意见，已做解释工作。"
        )
        c.follow_ups.append(_FollowUp(at, method, str(performance), satisfaction, note, by))
        self.event("follow_up", by, at, {"satisfaction": satisfaction, "performance": str(performance)})

    def do_reopen(self, at: datetime.datetime) -> None:
        c = self.c
        self.close_assignments((Assignment.Status.PENDING, Assignment.Status.SIGNED), Assignment.Status.DONE)
        self.transition("reopen", self.director(), at, {}, reason=self.rng.choice(REOPEN_REASONS))
        c.closed_at, c.outcome, c.due_at = None, "", None

    def do_coordinate(self, at: datetime.datetime) -> None:
        c, w, rng = self.c, self.w, self.rng
        lead = self.lead_or_last()
        spec = COORDINATION.get(c.category.split(".")[0])
        if lead is None or spec is None:
            return
        to_org = f"{c.county}-D{ALL_DEPARTMENTS.index(spec[0]) + 1:02d}"
        if to_org == lead.org:
            to_org = f"{c.county}-D05"
        actor = w.handler(rng, lead.org)
        request = _Coordination(lead.org, to_org, spec[1], actor, at)
        c.coordinations.append(request)
        data = {"from": w.orgs[lead.org].name, "to": w.orgs[to_org].name, "message": spec[1]}
        self.event("coordination", actor, at, data)

        def reply(t: datetime.datetime) -> None:
            request.reply, request.replied_at = spec[2], t
            self.event("coordination_reply", w.handler(rng, to_org), t, {"org": w.orgs[to_org].name, "reply": spec[2]})

        self.later(at + datetime.timedelta(days=self.gap(0.5, 3)), reply)

    def do_supervise(self, at: datetime.datetime, kind: str) -> None:
        """督办 by a leader or the director on a difficult case (not the sweep's)."""
        by_leader = kind in (K.SUPERVISION, K.LETTER) or self.rng.random() < 0.5
        if by_leader:  # a leader over the case's center, acting for their own (county or league) center
            issuer, center = self.w.leader(self.rng, self.c.center), self.w.leader_center(self.c.center)
        else:
            issuer, center = self.director(), self.c.center
        reason = self.rng.choice(["案情复杂、涉及人数较多，请加大调处力度，按期办结。", "请限期化解并反馈办理情况。"])
        self.issue(at, kind, issuer, lambda: reason, days=REPLY_DAYS, issuer_center=center)

    # -- supervision documents, as `services.supervision_issue` writes them --

    def holder(self) -> tuple[str | None, str | None]:
        """As `services.case_holder`: the live lead org, or the case's center (to accept, assign, decide)."""
        lead = self.lead()
        if self.c.state in (S.ASSIGNED, S.IN_PROGRESS) and not self.c.awaiting_director and lead is not None:
            return lead.org, None
        return None, self.c.center

    def sweep_issuer(self, kind: str, target_center: str | None) -> str:
        """As `services._sweep_issuer`: the center above, except a reminder to an org from the case's center."""
        above = self.w.centers[self.c.center].parent or self.c.center
        return above if target_center is not None or kind in (K.SUPERVISION, K.LETTER) else self.c.center

    def issue(
        self,
        at: datetime.datetime,
        kind: str,
        issuer: str | None,
        reason: Callable[[], str],
        *,
        days: int,
        target_org: str | None = None,
        target_center: str | None = None,
        issuer_center: str | None = None,
    ) -> _Supervision:
        c, w = self.c, self.w
        if target_org is None and target_center is None:
            target_org, target_center = self.holder()
        center = issuer_center or self.sweep_issuer(kind, target_center)
        sup = _Supervision(kind, issuer, center, target_org, reason, w.add_working_days(at, days), at)
        sup.target_center = target_center
        c.supervisions.append(sup)
        target = w.orgs[target_org].name if target_org else w.centers[target_center].name if target_center else ""
        event = self.event("supervision", issuer, at, {"issuer": w.centers[center].name, "target": target})
        event.data["_supervision"] = sup  # number, name and reason are filled in once every document is numbered
        chance = {"reminder": 0.7, "supervision": 0.6, "letter": 0.8}.get(kind, 0.75)
        if self.rng.random() < chance:
            self.later(at + datetime.timedelta(days=self.gap(0.2, 6)), lambda t: self.reply(t, sup))
        return sup

    def reply(self, at: datetime.datetime, sup: _Supervision) -> None:
        users = self.w.org_users.get(sup.target_org or "")
        if sup.target_center is not None:  # a center answers through its director or its window
            users = self.w.directors[sup.target_center] + self.w.clerks[sup.target_center]
        actor = self.w.pick_user(self.rng, users, 0.5) if users else self.director()
        sup.status, sup.reply, sup.replied_at = Supervision.Status.REPLIED, self.rng.choice(REPLIES), at
        event = self.event("supervision_reply", actor, at, {"reply": sup.reply})
        event.data["_supervision"] = sup
        if self.rng.random() < 0.6:
            self.later(at + datetime.timedelta(days=self.gap(0.5, 5)), lambda t: self.assess(t, sup))

    def assess(self, at: datetime.datetime, sup: _Supervision) -> None:
        if sup.issuer_center == self.c.center:
            actor = self.w.director(self.rng, sup.issuer_center)
        else:
            actor = self.w.leader(self.rng, sup.issuer_center)
        sup.status = Supervision.Status.ASSESSED
        sup.effect = str(_weighted(self.rng, {"effective": 60, "partly": 30, "ineffective": 10}))
        event = self.event("supervision_assessed", actor, at, {"effect": sup.effect})
        event.data["_supervision"] = sup

    # -- the morning deadline sweep, as `cases/deadlines.py` runs it --

    def next_sweep(self) -> tuple[datetime.datetime, Callable[[datetime.datetime], None]] | None:
        """The sweep's next action on this case and when: the earliest due, the furthest stage first."""
        c = self.c
        if c.state not in OPEN:
            return None
        options: list[tuple[datetime.datetime, int, Callable[[datetime.datetime], None]]] = []
        if c.due_at is not None:
            due = c.due_at
            this_round = [s for s in c.supervisions if s.issued_at >= due]
            reminders = [s for s in this_round if s.kind == K.REMINDER]
            supervisions = [s for s in this_round if s.kind == K.SUPERVISION]
            for sup in supervisions:
                letters = [s for s in c.supervisions if s.kind == K.LETTER and s.issued_at >= sup.issued_at]
                if sup.status == Supervision.Status.OPEN and not letters:
                    options.append((_sweep_after(sup.deadline), 0, functools.partial(self.sweep_letter, sup=sup)))
            if reminders and not supervisions:
                options.append((_sweep_after(min(s.deadline for s in reminders)), 1, self.sweep_supervise))
            if not reminders:
                options.append((_sweep_after(due), 2, self.sweep_remind))
        for a in c.assignments:
            if a.status == Assignment.Status.PENDING and not any(
                s.kind == K.REMINDER and s.target_org == a.org and s.issued_at >= a.sign_for_due for s in c.supervisions
            ):
                options.append((_sweep_after(a.sign_for_due), 3, functools.partial(self.sweep_sign_for, a=a)))
        if not options:
            return None
        at, _priority, action = min(options, key=lambda o: o[:2])
        return at, action

    def late(self, now: datetime.datetime) -> str:
        assert self.c.due_at is not None
        due = _local(self.c.due_at).date()
        day, days = due, 0
        while day < _local(now).date():
            day += datetime.timedelta(days=1)
            days += is_workday(day, self.w.calendar)
        what = "受理期限" if self.c.state == S.REGISTERED else "办理期限"
        if days:
            return f"案件已超过{what}（{due:%Y-%m-%d}）{days} 个工作日"
        return f"案件已超过{what}（{due:%Y-%m-%d}）"

    def sweep_remind(self, at: datetime.datetime) -> None:
        late = self.late(at)
        self.issue(at, K.REMINDER, None, lambda: f"{late}，请于 {REPLY_DAYS} 个工作日内反馈办理情况。", days=REPLY_DAYS)

    def sweep_supervise(self, at: datetime.datetime) -> None:
        late = self.late(at)
        assert self.c.due_at is not None
        reminder = min(
            (s for s in self.c.supervisions if s.kind == K.REMINDER and s.issued_at >= self.c.due_at),
            key=lambda s: s.issued_at,
        )
        self.issue(
            at,
            K.SUPERVISION,
            None,
            lambda: (
                f"{late}，提示函 {reminder.number} 的反馈期限已过，案件仍未办结。"
                f"请于 {REPLY_DAYS} 个工作日内反馈办理情况。"
            ),
            days=REPLY_DAYS,
        )

    def sweep_letter(self, at: datetime.datetime, sup: _Supervision) -> None:
        late = self.late(at)
        self.issue(
            at,
            K.LETTER,
            None,
            lambda: f"督办单 {sup.number} 逾期未反馈，{late}。现发督办函，请于 {REPLY_DAYS} 个工作日内反馈办理情况。",
            days=REPLY_DAYS,
            target_org=sup.target_org,
            target_center=sup.target_center,
        )
        then = "重大疑难案件提请盟级统筹协调。" if self.c.major else "上提至上一级综治中心。"
        if self.do_escalate(
            at + datetime.timedelta(seconds=1),
            reason=f"督办单逾期未反馈，{then}",
            system=True,
            why=lambda: f"督办单 {sup.number} 逾期未反馈，{then}",
        ):
            c = self.c
            if c.due_at is not None and c.due_at <= at:
                _sign, c.due_at = self.w.deadlines(c.category, c.risk, at)
                reason = "上提后按期限规则重新计算办理期限。"
                self.event(
                    "deadline",
                    None,
                    at + datetime.timedelta(seconds=2),
                    {"due_at": c.due_at.isoformat(), "reason": reason},
                    versioned=True,
                )

    def sweep_sign_for(self, at: datetime.datetime, a: _Assignment) -> None:
        due = _local(a.sign_for_due)
        name = self.w.orgs[a.org].name
        self.issue(
            at,
            K.REMINDER,
            None,
            lambda: f"{name}未在签收期限（{due:%Y-%m-%d %H:%M}）前签收案件，请于 1 个工作日内签收办理。",
            days=1,
            target_org=a.org,
        )


def _sweep_after(moment: datetime.datetime) -> datetime.datetime:
    """The first morning sweep after `moment`."""
    local = _local(moment)
    sweep = _at(local.date(), SWEEP_AT)
    return sweep if sweep > local else sweep + datetime.timedelta(days=1)
