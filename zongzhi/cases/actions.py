"""Running the catalogue's actions, for the case page and the API alike.

`run(case=…, actor=…, name="assign", data={"lead": "152502-D05", "version": 3})` checks that the actor
may (`access.require_case`), validates the data against the action's schema (Chinese messages
naming the field), turns references into objects (an org by code or name, a supervision of this
case …), and calls the service the catalogue names. `form(...)` describes the same parameters as
form fields, so the page's action panel is generated from the catalogue too.
"""

import datetime
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pydantic
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic_core import PydanticUndefined

from zongzhi import access, clock, inputs
from zongzhi.accounts.models import User
from zongzhi.cases import catalogue, selectors, services, workflow
from zongzhi.cases.catalogue import ACTIONS, Action, Params
from zongzhi.cases.models import (
    Case,
    CoordinationRequest,
    CourtReferral,
    Instalment,
    Party,
    Supervision,
)
from zongzhi.centers.models import Org, Presence, Room
from zongzhi.centers.selectors import org_serves, orgs_serving
from zongzhi.regions import codes

ROWS = 3  # instalment rows a new form offers (more with 增加一行)
MAX_ROWS = 36  # a schedule of three years by the month


@dataclass
class Done:
    """What an action returned, for the page's message and the API's body."""

    case: Case
    action: Action
    result: Any
    details: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)  # what the service was given (objects resolved)


# ---- references --------------------------------------------------------------------------------


def org_choices(case: Case) -> QuerySet[Org]:
    """The orgs a case can be pushed or addressed to: those of the case's county, and those configured
    as serving it (league departments, listed partners: `ServiceArea`).

    Of the people's mediation committees (one per village and township: hundreds a county), only the
    case's own: those stationed at its center and those of its township and village. So a township
    center or a village station hands a case to its committee.
    """
    code = case.region_code
    own = [codes.full_code(code[:9]), codes.full_code(code[:12])] if len(code) >= 9 else []
    local = Q(pk__in=Presence.objects.filter(center_id=case.center_id).values("org_id")) | Q(region_code__in=own)
    committee = Q(kind="mediation_committee")
    return orgs_serving(code).filter(~committee | (committee & local))


def _my_handling_orgs(case: Case, user: User) -> QuerySet[Org]:
    live = case.assignments.filter(org_id__in=access.org_ids_of(user), status__in=["pending", "signed"])
    return Org.objects.filter(pk__in=live.values("org_id"))


def ref_choices(kind: str, case: Case, user: User) -> list[tuple[str, str]]:
    """What a reference may point at, as (value, label) pairs for a select."""
    if kind == "org":
        return [(o.code, o.name) for o in org_choices(case).order_by("kind", "code")[:300]]
    if kind == "my_org":
        return [(o.code, o.name) for o in _my_handling_orgs(case, user)]
    if kind == "room":
        rooms = Room.objects.filter(center=case.center).exclude(kind__in=["window", "dispatch_hall"])
        return [(str(r.pk), r.name) for r in rooms]
    if kind == "coordination":
        asked = CoordinationRequest.objects.filter(
            case=case, region_code=case.region_code, to_org_id__in=access.org_ids_of(user), replied_at__isnull=True
        ).select_related("from_org")
        return [(str(r.pk), f"{r.from_org.name}：{r.message[:30]}") for r in asked]
    if kind in ("supervision_open", "supervision_replied"):
        status = Supervision.Status.OPEN if kind == "supervision_open" else Supervision.Status.REPLIED
        found = [s for s in case.supervisions.all() if s.status == status]
        if kind == "supervision_open" and "director" not in access.case_roles(user, case):
            mine, centers = access.org_ids_of(user), access.supervised_center_ids(user)
            found = [s for s in found if s.target_org_id in mine or s.target_center_id in centers]
        return [(str(s.pk), f"{s.get_kind_display()} {s.number}") for s in found]
    if kind == "instalment":
        agreement = getattr(case, "agreement", None) if catalogue._has_agreement(case) else None
        rows = list(agreement.instalments.all()) if agreement else []
        return [
            (str(i.pk), _instalment_label(n, i))
            for n, i in enumerate(sorted(rows, key=lambda i: (i.due_on, i.pk)), start=1)
            if i.paid_on is None
        ]
    if kind == "referral":
        pending = [
            r
            for r in case.court_referrals.all()
            if r.result == CourtReferral.Result.PENDING and r.court_id in access.org_ids_of(user)
        ]
        return [(str(r.pk), f"{r.get_kind_display()} · {r.court.name}") for r in pending]
    if kind == "party":
        return [(str(p.pk), f"{p.get_role_display()} {p.name}") for p in case.parties.all()]
    return []  # "case": typed by number


def _instalment_label(n: int, instalment: Instalment) -> str:
    label = _("第 %(n)d 期 %(d)s 应付 %(a)s 元") % {
        "n": n,
        "d": f"{instalment.due_on:%Y-%m-%d}",
        "a": instalment.amount,
    }
    if instalment.paid_amount:
        label += _("（尚欠 %(o)s 元）") % {"o": instalment.outstanding}
    return label


def _not_here(title: str, value: Any) -> ValidationError:
    return ValidationError(_("%(t)s“%(v)s”不存在或不在可选范围内。") % {"t": title, "v": value})


def _resolve(kind: str, value: Any, title: str, case: Case, user: User) -> Any:
    """One reference's object; a ValidationError (message only) when it is not one the action may use."""
    if value in (None, ""):
        return None
    raw = str(value).strip()
    found: Model | None = None
    if kind in ("org", "my_org"):
        orgs = org_choices(case) if kind == "org" else _my_handling_orgs(case, user)
        found = orgs.filter(code=raw).first()
        if found is None:
            named = list(orgs.filter(name=raw)[:2])
            found = named[0] if len(named) == 1 else None
    elif kind == "case":
        found = selectors.cases_visible(user).filter(number=raw).first()
    else:
        if not raw.isdigit():
            raise _not_here(title, raw)
        pk = int(raw)
        if kind == "room":
            found = Room.objects.select_related("center").filter(pk=pk).first()
        elif kind == "coordination":
            found = (
                CoordinationRequest.objects.select_related("to_org")
                .filter(case=case, region_code=case.region_code, pk=pk)
                .first()
            )
        elif kind in ("supervision_open", "supervision_replied"):
            found = Supervision.objects.filter(case=case, region_code=case.region_code, pk=pk).first()
        elif kind == "instalment":
            found = (
                Instalment.objects.select_related("agreement")
                .filter(
                    agreement__case=case, agreement__region_code=case.region_code, region_code=case.region_code, pk=pk
                )
                .first()
            )
        elif kind == "referral":
            found = CourtReferral.objects.filter(case=case, region_code=case.region_code, pk=pk).first()
        elif kind == "party":
            # one row by its id: ordered by it, not by its case's date (a join to the case without its region)
            found = Party.objects.filter(case=case, region_code=case.region_code, pk=pk).order_by("pk").first()
    if found is None and kind == "org":
        elsewhere = Org.objects.filter(code=raw).first()
        if elsewhere is not None and not org_serves(elsewhere, case.region_code):
            raise not_serving(title, elsewhere, case)
    if found is None:
        raise _not_here(title, raw)
    return found


def not_serving(title: str, org: Org, case: Case) -> ValidationError:
    """The refusal of an org outside the case's county that is not configured as serving it."""
    return ValidationError(
        _("%(t)s“%(o)s”不在本案所在旗县，也未设置为服务本旗县，不能接收本案；请选择本旗县的单位或服务本旗县的单位。")
        % {"t": title, "o": org.name}
    )


def _extra(info: Any) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _bind(entry: Action, params: Params, case: Case, user: User) -> dict[str, Any]:
    """The service's keyword arguments: references resolved, naive times read as local time."""
    kwargs: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, info in type(params).model_fields.items():
        value = getattr(params, name)
        kind = _extra(info).get("ref")
        try:
            if kind and isinstance(value, list):
                value = [_resolve(kind, v, info.title or name, case, user) for v in value if str(v).strip()]
            elif kind:
                value = _resolve(kind, value, info.title or name, case, user)
                if value is None and info.is_required():  # sent empty: a required reference left blank
                    raise ValidationError(_("请填写%(t)s。") % {"t": info.title or name})
        except ValidationError as error:
            errors[name] = error.messages
            continue
        if isinstance(value, datetime.datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value)
        if name == "version":
            kwargs[name] = value
            continue
        if name == "instalments":
            value = [services.InstalmentInput(i.due_on, i.amount) for i in value]
        if name == "co" and entry.name == "assign":
            kwargs["co"] = _co_handlers(value, case, user, errors)
            continue
        enum = _extra(info).get("enum")
        if enum and value not in enum and not (value in ("", None) and not info.is_required()):
            errors[name] = [_("请选择%(t)s。") % {"t": info.title or name}]
            continue
        kwargs[name] = value
    if errors:
        raise ValidationError(errors)
    return kwargs


def _co_handlers(rows: list[Any], case: Case, user: User, errors: dict[str, list[str]]) -> list[services.CoHandler]:
    """The co-handlers' orgs, each with the deadline set for it; refusals keyed `co.<row>.org`."""
    handlers = []
    for i, row in enumerate(rows):
        try:
            org = _resolve("org", row.org, str(_("协办单位")), case, user)
        except ValidationError as error:
            errors[f"co.{i}.org"] = error.messages
            continue
        if org is None:
            if row.handle_days is not None:
                errors[f"co.{i}.org"] = [_("填写了协办时限，请选择协办单位。")]
            continue
        handlers.append(services.CoHandler(org, row.handle_days))
    return handlers


# ---- validation messages -----------------------------------------------------------------------


def _title(schema: type[pydantic.BaseModel] | None, loc: tuple[Any, ...]) -> str:
    """The Chinese title of the field at `loc` (nested models and list items included)."""
    model: Any = schema
    title = ""
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        if info is None:
            break
        title = info.title or str(part)
        model = _inner_model(info.annotation)
    return title or ".".join(str(p) for p in loc)


def _inner_model(annotation: Any) -> Any:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
            return arg
    return None


def messages_of(schema: type[pydantic.BaseModel] | None, errors: list[Any]) -> dict[str, list[str]]:
    """Pydantic's errors as Chinese messages keyed by the dotted field path (`instalments.0.amount`)."""
    result: dict[str, list[str]] = {}
    for error in errors:
        loc = tuple(p for p in error.get("loc", ()) if p not in ("body", "payload", "form", "query"))
        key = ".".join(str(p) for p in loc) or "__all__"
        title = _title(schema, loc)
        rows = [i for i, p in enumerate(loc) if isinstance(p, int)]
        if rows:
            where = rows[-1]
            listed = _title(schema, loc[:where])
            row = _("%(t)s第 %(n)d 行") % {"t": listed, "n": int(loc[where]) + 1}
            title = row if where == len(loc) - 1 else _("%(r)s的%(t)s") % {"r": row, "t": title}
        result.setdefault(key, []).append(_message(error, title))
    return result


def _message(error: Any, title: str) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    # No echo of the value: ninja drops it from its errors, and the page and the API must say the same.
    if kind == "missing":
        return _("请填写%(t)s。") % {"t": title}
    if kind == "nul_byte":
        return inputs.nul_message(title)
    if kind == "string_too_long":
        if isinstance(value, str):
            return _("%(t)s最多 %(m)s 个字（现为 %(n)d 个）。") % {
                "t": title,
                "m": ctx.get("max_length"),
                "n": len(value),
            }
        return _("%(t)s最多 %(m)s 个字。") % {"t": title, "m": ctx.get("max_length")}
    if kind == "too_long":
        return _("%(t)s最多 %(m)s 项。") % {"t": title, "m": ctx.get("max_length")}
    if kind.startswith("int_"):
        return _("%(t)s应为整数。") % {"t": title}
    if kind.startswith("decimal_") or kind.startswith("float_"):
        if kind in ("decimal_max_digits", "decimal_whole_digits"):
            return _("%(t)s超出合理范围。") % {"t": title}
        if kind == "decimal_max_places":
            return _("%(t)s最多两位小数。") % {"t": title}
        return _("%(t)s应为数字。") % {"t": title}
    if kind.startswith("datetime_"):
        return _("%(t)s格式应为 YYYY-MM-DD HH:MM。") % {"t": title}
    if kind.startswith("date_"):
        return _("%(t)s格式应为 YYYY-MM-DD。") % {"t": title}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        low = ctx.get("ge", ctx.get("gt"))
        high = ctx.get("le", ctx.get("lt"))
        if low is not None and high is not None:
            return _("%(t)s应在 %(a)s 到 %(b)s 之间。") % {"t": title, "a": low, "b": high}
        if low is not None:
            return _("%(t)s不能小于 %(a)s。") % {"t": title, "a": low}
        return _("%(t)s不能大于 %(b)s。") % {"t": title, "b": high}
    if kind.startswith("list_"):
        return _("%(t)s应为列表。") % {"t": title}
    return _("%(t)s无效。") % {"t": title}


def validate(entry: Action, data: dict[str, Any]) -> Params:
    """The action's body from `data`, or a ValidationError with Chinese messages by field."""
    try:
        return entry.body.model_validate(data)
    except pydantic.ValidationError as error:
        raise ValidationError(messages_of(entry.body, error.errors())) from None


# ---- running -----------------------------------------------------------------------------------


def run(
    *,
    case: Case,
    actor: User,
    name: str,
    data: dict[str, Any] | Params,
    upload: Any = None,
    request: Any = None,
) -> Done:
    """Perform the catalogue's action `name` with `data` (its body: parameters and, if versioned, `version`).

    The order is the API's: the body is validated first (422), then who may and when (403 / 422),
    then the references, then the service (which checks again, and 409 on a stale version).
    """
    entry = ACTIONS.get(name)
    if entry is None or entry.service is None:
        raise ValidationError({"action": [_("未知操作“%(a)s”。") % {"a": name}]})
    body = data if isinstance(data, Params) else validate(entry, data)
    access.read_supervisions(case)  # once for the whole action (roles, conditions, the outbox, the answer)
    access.require_case(actor, case, name, version=getattr(body, "version", None))
    kwargs = _bind(entry, body, case, actor)
    if entry.upload:
        if upload is None:
            raise ValidationError({"file": [_("请选择文件。")]})
        kwargs["upload"] = upload
    if name == "unmask":
        kwargs["request"] = request
    # One transaction for the whole action, and the dashboards follow the case once at its end, however
    # many events the action appends (a transfer, say, is a transition and new assignments).
    with workflow.action_transaction():
        result = entry.service(case=case, actor=actor, **kwargs)
    fresh = result if isinstance(result, Case) else case
    return Done(case=fresh, action=entry, result=result, details=_details(name, result), kwargs=kwargs)


def _details(name: str, result: Any) -> dict[str, Any]:
    """What the API tells about the record an action made (its id, a document number …)."""
    if isinstance(result, Case):
        return {}
    if name == "unmask":
        id_number, phone = result
        return {"id_number": id_number, "phone": phone}
    details: dict[str, Any] = {"id": getattr(result, "pk", None)}
    for attribute in ("number", "content_type", "size"):
        if isinstance(getattr(result, attribute, None), str | int):
            details[attribute] = getattr(result, attribute)
    return details


# ---- the page's forms --------------------------------------------------------------------------


@dataclass
class FormField:
    """One input of an action's form on the case page."""

    name: str
    label: str
    widget: str  # text, textarea, number, decimal, date, datetime, select, multiselect, checkbox, rows
    required: bool
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    rows: list[list["FormField"]] = field(default_factory=list)


def _base(annotation: Any) -> Any:
    """`int | None` → int; `list[X]` stays a list."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _widget(annotation: Any, extra: dict[str, Any]) -> str:
    base = _base(annotation)
    if extra.get("ref") or extra.get("enum"):
        return "multiselect" if typing.get_origin(base) is list else "select"
    if typing.get_origin(base) is list:
        return "rows"
    if base is bool:
        return "checkbox"
    if base is int:
        return "number"
    if base is Decimal:
        return "decimal"
    if base is datetime.datetime:
        return "datetime"
    if base is datetime.date:
        return "date"
    return "textarea" if extra.get("widget") == "textarea" else "text"


def _max_length(info: Any) -> int | None:
    for item in info.metadata:
        limit = getattr(item, "max_length", None)
        if limit is not None:
            return int(limit)
    return None


def form(
    entry: Action, case: Case, user: User, values: dict[str, Any] | None = None, prefix: str = ""
) -> list[FormField]:
    """The form fields of an action, with its choices for this case and user and what was typed."""
    return _fields(entry.params, case, user, values or {}, prefix)


def _fields(
    schema: type[pydantic.BaseModel],
    case: Case,
    user: User,
    values: dict[str, Any],
    prefix: str,
    in_row: bool = False,  # a row of a list (an instalment, a co-handler): the whole row may stay empty
) -> list[FormField]:
    fields = []
    for name, info in schema.model_fields.items():
        extra = _extra(info)
        widget = _widget(info.annotation, extra)
        key = f"{prefix}{name}"
        default = "" if info.is_required() or info.default in (None, [], PydanticUndefined) else info.default
        if extra.get("prefill") == "today":
            default = clock.localdate().isoformat()
        item = FormField(
            name=key,
            label=info.title or name,
            widget=widget,
            required=info.is_required() and widget not in ("checkbox", "multiselect") and not in_row,
            value=values.get(key, default),
            max_length=_max_length(info),
        )
        if extra.get("ref"):
            item.choices = ref_choices(extra["ref"], case, user)
            item.required = item.required or (extra["ref"] != "my_org" and info.is_required() and not in_row)
        elif extra.get("enum"):
            item.choices = list(extra.get("x-labels", {}).items())
        if widget == "multiselect":
            chosen = values.get(key, [])
            item.value = [chosen] if isinstance(chosen, str) else list(chosen)
        if widget == "rows":
            inner = _inner_model(_base(info.annotation))
            item.rows = [
                _fields(inner, case, user, values, f"{key}.{i}.", in_row=True) for i in range(_row_count(values, key))
            ]
            item.max_length = _max_length(info) or MAX_ROWS
        fields.append(item)
    return fields


def _row_indexes(keys: Any, key: str) -> list[int]:
    """The row numbers posted for the rows field `key` (`instalments.3.amount` → 3), in order."""
    found = set()
    for name in keys:
        head, _sep, rest = str(name).partition(".")
        number = rest.partition(".")[0]
        if head == key and number.isdigit() and int(number) < MAX_ROWS:
            found.add(int(number))
    return sorted(found)


def _row_count(values: dict[str, Any], key: str) -> int:
    """How many rows the form shows: those typed (or asked for with 增加一行), at least ROWS."""
    asked = values.get(f"{key}.__n")
    if isinstance(asked, int):
        return max(1, min(asked, MAX_ROWS))
    typed = _row_indexes(values, key)
    return max(ROWS, (typed[-1] + 1) if typed else 0)


def rows_edit(entry: Action, post: Any) -> dict[str, Any] | None:
    """增加一行 / 删除 (the buttons work without JavaScript): what was typed, with a row added or dropped.

    None when the post is the action itself. The rows are renumbered, so what was typed stays in its row.
    """
    add, drop = post.get("_add_row", ""), post.get("_drop_row", "")
    if not add and not drop:
        return None
    values = values_of(post)
    for name in (add, drop.rpartition(".")[0]):
        if not name or name not in entry.params.model_fields:
            continue
        kept = [i for i in _row_indexes(post, name) if f"{name}.{i}" != drop]
        shown = max(_row_count(values, name), (kept[-1] + 1) if kept else 0)
        renumbered = {k: v for k, v in values.items() if not k.startswith(f"{name}.")}
        for new, old in enumerate(kept):
            for k, v in values.items():
                if k.startswith(f"{name}.{old}."):
                    renumbered[f"{name}.{new}.{k.split('.', 2)[2]}"] = v
        count = shown + 1 if add else max(len(kept), shown - 1)
        renumbered[f"{name}.__n"] = max(1, min(count, MAX_ROWS))
        values = renumbered
    return values


def from_post(entry: Action, post: Any) -> dict[str, Any]:
    """The action's body from a posted form: empty optional inputs left out, lists and rows gathered."""
    return _gather(entry.body, post, "")


def _gather(schema: type[pydantic.BaseModel], post: Any, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        key = f"{prefix}{name}"
        base = _base(info.annotation)
        if typing.get_origin(base) is list:
            inner = _inner_model(base)
            if inner is None:
                data[name] = [v for v in post.getlist(key) if v.strip()]
                continue
            rows = []
            for i in _row_indexes(post, key):
                row = _gather(inner, post, f"{key}.{i}.")
                if any(str(v).strip() for v in row.values()):
                    rows.append(row)
            data[name] = rows
        elif base is bool:
            data[name] = key in post
        else:
            value = post.get(key)
            if value is None or (value == "" and not (base is str and info.is_required())):
                continue
            data[name] = value
    return data


def values_of(post: Any, entry: Action | None = None) -> dict[str, Any]:
    """What was typed, to put back into the form after an error (lists kept as lists).

    With the action, its rows are numbered as the service saw them (empty rows left out), so an
    error about 第 2 行 is shown under the second row.
    """
    values = {k: (post.getlist(k) if len(post.getlist(k)) > 1 else post.get(k)) for k in post}
    if entry is None:
        return values
    for name, info in entry.params.model_fields.items():
        if _widget(info.annotation, _extra(info)) != "rows":
            continue
        filled = [
            i
            for i in _row_indexes(post, name)
            if any(str(v).strip() for k, v in values.items() if k.startswith(f"{name}.{i}."))
        ]
        compact = {k: v for k, v in values.items() if not k.startswith(f"{name}.")}
        for new, old in enumerate(filled):
            for k, v in values.items():
                if k.startswith(f"{name}.{old}."):
                    compact[f"{name}.{new}.{k.split('.', 2)[2]}"] = v
        values = compact
    return values
