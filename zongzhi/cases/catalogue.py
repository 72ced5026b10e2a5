"""The catalogue of case actions: every change to a case is one entry here.

An entry says what the action is called (name, Chinese label), in which states it is offered, which
case roles may perform it (`access.case_may` is the one check, used by the page, the API and the
service alike), its typed parameters (one schema: the page's form and the API body are both built
from it, so OpenAPI documents every parameter), and the service that performs it (the service
registers itself with `@catalogue.performs("assign")`).

The case page's action panel, its form handler and the API's action endpoints are generated from
this table (`cases/actions.py`, `cases/views.py`, `cases/api.py`); state changes go only through the
transition table (`workflow.TRANSITIONS`), which the transition entries take their states from.

Case roles (computed by `access.case_roles`): intake (首问 / the center's window), director (of the
case's center), leader (in jurisdiction), handler (an org of the user holds a pending or signed
assignment), pending (… a pending one: may sign for), lead / co (… the signed lead or a signed
co-handler), asked (a coordination request to the user's org awaits an answer), supervised (an open
督办 addresses the user's org), judge (a referral to the user's court awaits its decision).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import Field, create_model, field_validator
from pydantic_core import PydanticCustomError

from zongzhi.cases.models import (
    OPEN_STATES,
    Agreement,
    Assignment,
    Case,
    CourtReferral,
    FollowUp,
    Instalment,
    MediationSession,
    State,
    Supervision,
)
from zongzhi.cases.workflow import TRANSITIONS

ALL_STATES = tuple(State.values)
GUIDANCE = (Case.Outcome.LITIGATION, Case.Outcome.ARBITRATION, Case.Outcome.ADMIN_RECONSIDERATION, Case.Outcome.OTHER)
DECISIONS = (CourtReferral.Result.CONFIRMED, CourtReferral.Result.REJECTED, CourtReferral.Result.ACCEPTED)


def _max(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


def text(title: Any, *, model: type[models.Model] | None = None, name: str = "", long: bool = False, **kw: Any) -> Any:
    """A text parameter; its length limit is the model column's, so the database never sees more."""
    limit = kw.pop("max_length", None) or (_max(model, name) if model is not None else None)
    extra: dict[str, Any] = {"widget": "textarea"} if long else {}
    return Field(kw.pop("default", ""), title=str(title), max_length=limit or 10_000, json_schema_extra=extra, **kw)


def choice(title: Any, choices: Any, *, default: Any = ..., only: tuple[str, ...] = ()) -> Any:
    """One of a fixed list: a select on the page, an enum in OpenAPI (checked before the service)."""
    pairs = [(str(v), str(label)) for v, label in choices if not only or v in only]
    return Field(
        default,
        title=str(title),
        json_schema_extra={"enum": [v for v, _l in pairs], "x-labels": dict(pairs)},
    )


def ref(title: Any, kind: str, *, default: Any = ..., **kw: Any) -> Any:
    """A reference to another object (an org by code or name, a room, a supervision of this case …)."""
    return Field(default, title=str(title), json_schema_extra={"ref": kind}, **kw)


class Params(Schema):
    """Parameters of an action; a NUL byte in any text is refused naming the field."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_byte", "NUL")
        return value


class NoParams(Params):
    pass


class ReasonParams(Params):
    reason: str = text(_("理由"), model=Assignment, name="return_reason")


class OptionalReason(Params):
    reason: str = text(_("说明"), model=Assignment, name="return_reason")


class CoHandlerIn(Params):
    """A co-handler (联合调处) with its own handling deadline."""

    org: str = ref(_("协办单位"), "org")
    handle_days: int | None = Field(None, title=str(_("协办时限（工作日，不填同主办）")), ge=1, le=90)


class AssignParams(Params):
    lead: str = ref(_("主办单位"), "org")
    handle_days: int | None = Field(None, title=str(_("主办时限（工作日，不填按规则）")), ge=1, le=90)
    # Each co-handler with its own deadline; a bare org code or name (the earlier form) is accepted too.
    co: list[CoHandlerIn] = Field(
        [], title=str(_("协办单位（联合调处）")), max_length=10, json_schema_extra={"rows": 3}
    )

    @field_validator("co", mode="before")
    @classmethod
    def _bare_orgs(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"org": v} if isinstance(v, str) else v for v in value]
        return value


class HandlerOrgParams(Params):
    org: str = ref(_("以哪个单位的名义"), "my_org", default="")


class ReturnParams(HandlerOrgParams):
    reason: str = text(_("理由"), model=Assignment, name="return_reason")


class TransferParams(Params):
    to_org: str = ref(_("转至单位"), "org")
    reason: str = text(_("理由"), model=Assignment, name="return_reason")
    handle_days: int | None = Field(None, title=str(_("办理时限（工作日，不填沿用主任所定或按规则）")), ge=1, le=90)


class KeepLeadParams(Params):
    handle_days: int | None = Field(None, title=str(_("新的办理时限（工作日，不填沿用）")), ge=1, le=90)


class InstalmentIn(Params):
    due_on: datetime.date = Field(title=str(_("应付日期")))
    amount: Decimal = Field(title=str(_("金额（元）")), ge=0, max_digits=14, decimal_places=2)


class ResolveParams(Params):
    facts: str = text(_("纠纷事实"), long=True)
    terms: str = text(_("协议内容（每条一行；不填则为口头化解）"), long=True)
    amount: Decimal | None = Field(None, title=str(_("协议金额（元）")), ge=0, max_digits=14, decimal_places=2)
    performance_method: str = text(_("履行方式"), model=Agreement, name="performance_method")
    performance_place: str = text(_("履行地点"), model=Agreement, name="performance_place")
    performance_due: datetime.date | None = Field(None, title=str(_("履行期限")))
    signed_on: datetime.date | None = Field(None, title=str(_("签订日期")), json_schema_extra={"prefill": "today"})
    instalments: list[InstalmentIn] = Field([], title=str(_("分期履行")), max_length=36)
    note: str = text(_("化解说明（口头化解时必填）"))


class FailParams(Params):
    guidance: str = choice(_("给当事人的引导"), Case.Outcome.choices, only=GUIDANCE)
    reason: str = text(_("理由"), model=Assignment, name="return_reason")


class CloseParams(Params):
    note: str = text(_("结案说明"))


class OrgParams(Params):
    org: str = ref(_("协办单位"), "org")
    handle_days: int | None = Field(None, title=str(_("协办时限（工作日，不填同本案办理期限）")), ge=1, le=90)


class PartParams(HandlerOrgParams):
    part: str = text(_("承办情况"), long=True)


class CoordinationParams(Params):
    to_org: str = ref(_("请求协调的单位"), "org")
    message: str = text(_("请求事项"), long=True)


class CoordinationReplyParams(Params):
    coordination: int = ref(_("协调请求"), "coordination")
    reply: str = text(_("答复内容"), long=True)


class SessionParams(Params):
    held_at: datetime.datetime = Field(title=str(_("调解时间")))
    place_kind: str = choice(_("地点类型"), MediationSession.Place.choices)
    room: int | None = ref(_("功能室"), "room", default=None)
    place: str = text(_("地点（驿站或现场）"), model=MediationSession, name="place")
    mediators: str = text(_("调解员"), model=MediationSession, name="mediators")
    attendees: str = text(_("参加人员"), model=MediationSession, name="attendees")
    record: str = text(_("调解记录"), long=True)


class BookingParams(Params):
    room: int = ref(_("功能室"), "room")
    starts_at: datetime.datetime = Field(title=str(_("开始")))
    ends_at: datetime.datetime = Field(title=str(_("结束")))


class PaymentParams(Params):
    instalment: int = ref(_("分期"), "instalment")
    paid_on: datetime.date = Field(title=str(_("实付日期")))
    paid_amount: Decimal = Field(title=str(_("实付金额（元）")), ge=0, max_digits=14, decimal_places=2)
    receipt: str = text(_("收据号"), model=Instalment, name="receipt_number")


class DecisionParams(Params):
    referral: int = ref(_("诉调对接事项"), "referral")
    result: str = choice(_("审查结果"), CourtReferral.Result.choices, only=DECISIONS)
    note: str = text(_("说明"))


class FollowUpParams(Params):
    method: str = text(_("回访方式"), model=FollowUp, name="method", default="电话")
    performance: str = choice(_("履行情况"), FollowUp.Performance.choices)
    satisfaction: str = choice(_("满意度"), FollowUp.Satisfaction.choices)
    note: str = text(_("记录"))


class SuperviseParams(Params):
    kind: str = choice(_("文书"), Supervision.Kind.choices)
    reason: str = text(_("督办事由"), long=True)
    target_org: str = ref(_("被督办单位（不填为主办单位）"), "org", default="")
    days: int = Field(5, title=str(_("反馈期限（工作日）")), ge=1, le=30)


class SupervisionReplyParams(Params):
    supervision: int = ref(_("督办事项"), "supervision_open")
    reply: str = text(_("反馈内容"), long=True)


class SupervisionAssessParams(Params):
    supervision: int = ref(_("督办事项"), "supervision_replied")
    effect: str = choice(_("督办成效"), Supervision.Effect.choices)


class AttachmentParams(Params):
    """The file itself comes as the multipart part `file`."""


class LinkParams(Params):
    other: str = ref(_("关联案件编号"), "case")


class UnmaskParams(Params):
    party: int = ref(_("当事人"), "party")
    reason: str = text(_("用途"), max_length=200)


Service = Callable[..., Any]
F = TypeVar("F", bound=Service)


@dataclass
class Action:
    """One thing that can be done to a case."""

    name: str
    label: Any
    states: tuple[str, ...]
    roles: frozenset[str]
    params: type[Params]
    versioned: bool = False  # the caller sends the version it saw (state changes and other bumps)
    when: Callable[[Case], Any] | None = None  # a reason (str) it is not available on this case now
    upload: bool = False  # takes a file (multipart `file`)
    primary: bool = False  # the usual next step: its form is the one opened on the case page
    service: Service | None = field(default=None, repr=False)
    body: type[Params] = field(init=False, repr=False)  # the parameters, plus `version` when versioned

    def __post_init__(self) -> None:
        self.primary = self.primary or self.name in PRIMARY
        self.body = self.params
        if self.versioned:
            version = (int, Field(title=str(_("版本（您看到的案件版本号）")), ge=1))
            self.body = create_model(f"{self.params.__name__}Versioned", __base__=self.params, version=version)

    @property
    def rank(self) -> int:
        """Where the case page lists it: the usual next step first, refusals and reversals last."""
        return 0 if self.primary else 2 if self.name in RARE else 1

    @property
    def is_transition(self) -> bool:
        return self.name in TRANSITIONS


def _own(owner: models.Model, name: str) -> Any:
    """The rows of a case (or its agreement) a condition reads: those prefetched with the case page, or
    read with its region code, so the query names the region its rows are distributed on
    (docs/national.md); the same rows either way, as each copies its case's code."""
    cached = getattr(owner, "_prefetched_objects_cache", {})
    if name in cached:
        return cached[name]
    rows = getattr(owner, name).filter(region_code=owner.region_code)  # type: ignore[attr-defined]
    if "case" in rows.model._meta.ordering:  # ordered by their case: the joined case is read on its shard too
        rows = rows.filter(case__region_code=owner.region_code)  # type: ignore[attr-defined]
    return rows


def _agreement(case: Case) -> Agreement | None:
    """The case's agreement, as `case.agreement` gives it (and caches), read with the case's region code."""
    descriptor = type(case).agreement
    if not descriptor.is_cached(case):
        found = Agreement.objects.filter(case=case, region_code=case.region_code).first()
        descriptor.related.set_cached_value(case, found)
    try:
        return case.agreement
    except Agreement.DoesNotExist:
        return None


def _unpaid(case: Case) -> Any:
    agreement = _agreement(case)
    if agreement is None or not any(i.paid_on is None for i in _own(agreement, "instalments")):
        return _("该案件没有待履行的分期。")
    return None


def _has_agreement(case: Case) -> bool:
    return _agreement(case) is not None


def _confirmable(case: Case) -> Any:
    if not _has_agreement(case):
        return _("只有达成书面调解协议的案件可以申请司法确认。")
    live = [
        r
        for r in _own(case, "court_referrals")
        if r.kind == CourtReferral.Kind.CONFIRMATION and r.result != CourtReferral.Result.REJECTED
    ]
    return _("该协议已申请司法确认。") if live else None


def _open_supervision(case: Case) -> Any:
    if not any(s.status == Supervision.Status.OPEN for s in _own(case, "supervisions")):
        return _("该案件没有待反馈的督办事项。")
    return None


def _replied_supervision(case: Case) -> Any:
    if not any(s.status == Supervision.Status.REPLIED for s in _own(case, "supervisions")):
        return _("该案件没有待问效的督办事项。")
    return None


def _awaiting_director(case: Case) -> Any:
    if not case.awaiting_director:
        return _("该案件没有待确定的承办单位。")
    return None


def _maskable(case: Case) -> Any:
    contact = case.__dict__.get("has_contact_parties")  # read with the case to act on (`case_for_action`)
    if contact is None or "parties" in getattr(case, "_prefetched_objects_cache", {}):
        contact = any(p.id_number or p.phone for p in _own(case, "parties"))
    if not contact:
        return _("当事人没有登记证件号或电话。")
    return None


HANDLING = (State.ASSIGNED, State.IN_PROGRESS)
AFTER_AGREEMENT = (State.RESOLVED, State.CLOSED)


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PRIMARY = {
    "accept",
    "assign",
    "sign_for",
    "part_done",
    "coordination_reply",
    "resolve",
    "close",
    "payment",
    "court_decision",
    "follow_up",
    "supervision_reply",
    "supervision_assess",
    "keep_lead",
}
# Rare or undoing steps: listed after the others on the case page, so the first form is never one of them.
RARE = {"reject", "return", "transfer", "escalate", "withdraw", "fail", "reopen", "refer_court", "unmask"}


def _transition(name: str, roles: frozenset[str], params: type[Params], **kw: Any) -> Action:
    t = TRANSITIONS[name]
    return Action(name, t.label, t.sources, roles, params, versioned=True, **kw)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        _transition("accept", _roles("intake", "director"), NoParams),
        _transition("reject", _roles("intake", "director"), ReasonParams),
        _transition("assign", _roles("director"), AssignParams),
        Action("sign_for", _("签收"), HANDLING, _roles("pending"), HandlerOrgParams, versioned=True),
        Action("return", _("退回"), HANDLING, _roles("handler"), ReturnParams, versioned=True),
        _transition("transfer", _roles("director"), TransferParams),
        Action("co_handler", _("增加协办单位"), HANDLING, _roles("director"), OrgParams, versioned=True),
        Action("part_done", _("协办完成"), HANDLING, _roles("co"), PartParams),
        Action("coordination", _("请求协调"), HANDLING, _roles("handler", "director"), CoordinationParams),
        Action("coordination_reply", _("答复协调"), ALL_STATES, _roles("asked"), CoordinationReplyParams),
        Action("booking", _("预约功能室"), HANDLING, _roles("handler", "director", "intake"), BookingParams),
        Action("session", _("记录调解"), (State.IN_PROGRESS,), _roles("handler", "director"), SessionParams),
        _transition("resolve", _roles("lead", "director"), ResolveParams),
        _transition("fail", _roles("lead", "director"), FailParams),
        _transition("close", _roles("director"), CloseParams),
        _transition("refer_court", _roles("director", "lead"), OptionalReason),
        _transition("escalate", _roles("director"), ReasonParams),
        Action(
            "keep_lead",
            _("维持承办单位"),
            HANDLING,
            _roles("director"),
            KeepLeadParams,
            versioned=True,
            when=_awaiting_director,
        ),
        _transition("withdraw", _roles("intake", "director"), ReasonParams),
        _transition("reopen", _roles("director"), ReasonParams),
        Action("payment", _("登记履行"), AFTER_AGREEMENT, _roles("director", "intake"), PaymentParams, when=_unpaid),
        Action(
            "confirmation",
            _("申请司法确认"),
            AFTER_AGREEMENT,
            _roles("director", "intake"),
            NoParams,
            when=_confirmable,
        ),
        Action("court_decision", _("登记司法审查结果"), ALL_STATES, _roles("judge"), DecisionParams),
        Action("follow_up", _("回访"), (State.CLOSED,), _roles("intake", "director"), FollowUpParams),
        Action("supervise", _("督办"), OPEN_STATES, _roles("director", "leader"), SuperviseParams),
        Action(
            "supervision_reply",
            _("督办反馈"),
            ALL_STATES,
            _roles("supervised", "director"),
            SupervisionReplyParams,
            when=_open_supervision,
        ),
        Action(
            "supervision_assess",
            _("督办问效"),
            ALL_STATES,
            _roles("director", "leader"),
            SupervisionAssessParams,
            when=_replied_supervision,
        ),
        Action(
            "attachment",
            _("上传附件"),
            ALL_STATES,
            _roles("intake", "director", "handler"),
            AttachmentParams,
            upload=True,
        ),
        Action("link", _("关联案件"), ALL_STATES, _roles("intake", "director"), LinkParams),
        Action(
            "unmask", _("查看完整号码"), ALL_STATES, _roles("intake", "director", "lead"), UnmaskParams, when=_maskable
        ),
    ]
}

# The transitions that have an action of their own in the catalogue; a test checks none is missing.
assert set(TRANSITIONS) <= set(ACTIONS), set(TRANSITIONS) - set(ACTIONS)


def performs(name: str) -> Callable[[F], F]:
    """Register a service as the one that performs the catalogue's action `name`."""

    def register(service: F) -> F:
        ACTIONS[name].service = service
        return service

    return register
