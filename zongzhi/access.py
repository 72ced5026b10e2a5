"""Who may see and do what. Every selector and every page asks here, and nowhere else.

A user's *scope* is the set of region-code prefixes of their jurisdictions. Business content
(regions' figures, centers, grid people; later cases and residents) is visible when its region
code starts with one of the prefixes. The three administrators (三员分立) hold no business scope
by default: they manage accounts, security and the audit log, and read no business content.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BigIntegerField, CharField, Prefetch, Q, Value, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext as _

from zongzhi.accounts.models import ADMIN_ROLES, BUSINESS_ROLES, MEMBERSHIP_COLUMNS, Role
from zongzhi.cases import catalogue, workflow
from zongzhi.cases.models import Assignment, CoordinationRequest, CourtReferral, Supervision
from zongzhi.regions import codes


@dataclass(frozen=True)
class Scope:
    """The region-code prefixes an actor may see under."""

    prefixes: tuple[str, ...]

    @classmethod
    def everything(cls) -> "Scope":
        return cls(prefixes=("",))

    @classmethod
    def of_region(cls, code: str, level: str) -> "Scope":
        return cls(prefixes=(codes.prefix_of(code, level),))

    def covers(self, region_code: str) -> bool:
        return any(region_code.startswith(p) for p in self.prefixes)

    def q(self, field: str = "region_code") -> Q:
        return codes.prefix_q(self.prefixes, field)

    @property
    def is_empty(self) -> bool:
        return not self.prefixes


@dataclass(frozen=True)
class Held:
    """A user's memberships, read once per request: roles, and the orgs and centers they hold them at."""

    roles: frozenset[str]
    orgs: frozenset[tuple[str, int]]  # (role, org id)
    centers: frozenset[tuple[str, int]]  # (role, center id)
    prefixes: frozenset[str]  # the region-code prefixes of the user's jurisdictions (read with the memberships)
    reaches: frozenset[tuple[int, str, str]]  # (org id, low, high): the region codes each org may be given cases of


def _held(user: Any) -> Held:
    cached = getattr(user, "_zongzhi_held", None)
    if cached is None:
        if hasattr(user, "held_memberships"):  # read with the user (`accounts.backends.held_columns`)
            held = [tuple(row) for row in json.loads(user.held_memberships or "[]")]
            prefixes = [prefix for (prefix,) in json.loads(user.held_prefixes or "[]")]
        else:
            held, prefixes = _memberships_and_prefixes(user)
        cached = Held(
            roles=frozenset(r for r, _o, _c, *_reach in held),
            orgs=frozenset((r, o) for r, o, _c, *_reach in held if o is not None),
            centers=frozenset((r, c) for r, _o, c, *_reach in held if c is not None),
            prefixes=frozenset(prefixes),
            reaches=frozenset(_org_reach(o, *reach) for _r, o, _c, *reach in held if o is not None),
        )
        user._zongzhi_held = cached
    return cached


def _org_reach(org: int, county_code: str | None, reach_from: str | None, reach_to: str | None) -> tuple[int, str, str]:
    """(org, low, high): the range of region codes of every case the org may be pushed, asked or referred.

    Its own county (`centers.selectors.org_serves`), a court its county's cases, and the service areas it
    ever had (`Org.reach_from`/`reach_to`, kept after an area is removed: its cases stay with it)."""
    spans = [codes.span([(county_code or "")[:6]])] + ([(reach_from, reach_to)] if reach_from and reach_to else [])
    return (org, *codes.widest(spans))


def _memberships_and_prefixes(user: Any) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Memberships (with their org's reach) and jurisdictions in one statement: every staff request needs both."""
    text: CharField[str, str] = CharField()
    memberships = user.memberships.values_list(Value("m", output_field=text), *MEMBERSHIP_COLUMNS, Value("", text))
    jurisdictions = user.jurisdictions.values_list(
        Value("j", output_field=text),
        Value("", output_field=text),
        Value(None, output_field=BigIntegerField()),
        Value(None, output_field=BigIntegerField()),
        Value("", output_field=text),
        Value("", output_field=text),
        Value("", output_field=text),
        "prefix",
    )
    rows = list(memberships.union(jurisdictions, all=True))
    return [tuple(m) for kind, *m, _p in rows if kind == "m"], [p for kind, *_m, p in rows if kind == "j"]


def roles_of(user: Any) -> frozenset[str]:
    """The roles the user holds (memberships are read once per request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return _held(user).roles


def scope_of(user: Any) -> Scope:
    """The business scope of a user: their jurisdictions, provided they hold a business role."""
    cached = getattr(user, "_zongzhi_scope", None)
    if cached is not None:
        return cached
    if not roles_of(user) & BUSINESS_ROLES:
        scope = Scope(prefixes=())
    else:
        prefixes = sorted(_held(user).prefixes)
        # Drop prefixes covered by a shorter one, so range scans never overlap.
        kept: list[str] = []
        for p in sorted(prefixes, key=len):
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        scope = Scope(prefixes=tuple(sorted(kept)))
    user._zongzhi_scope = scope
    return scope


def is_admin(user: Any) -> bool:
    return bool(roles_of(user) & ADMIN_ROLES)


def may_read_business(user: Any) -> bool:
    """Whether the user sees business pages at all (the region tree, centers, later cases)."""
    return bool(roles_of(user) & BUSINESS_ROLES) and not scope_of(user).is_empty


def business_scope(user: Any) -> Scope:
    """The user's scope, or PermissionDenied for a user who reads no business content (the administrators)."""
    if not may_read_business(user):
        raise PermissionDenied(_("您的角色无权读取业务数据。"))
    return scope_of(user)


def may_manage_accounts(user: Any) -> bool:
    """The system administrator: opens accounts, edits them, sets initial passwords, runs the configuration."""
    return Role.SYS_ADMIN in roles_of(user)


def may_grant_rights(user: Any) -> bool:
    """The security administrator: grants and revokes roles, jurisdictions and service-account rights."""
    return Role.SEC_ADMIN in roles_of(user)


def may_manage_security(user: Any) -> bool:
    """The security administrator: lockouts and login failures."""
    return Role.SEC_ADMIN in roles_of(user)


def may_manage_service_accounts(user: Any) -> bool:
    """Service accounts' org, jurisdiction, rights and tokens: the administrator who grants rights."""
    return may_grant_rights(user)


def is_service_account(user: Any) -> bool:
    """A non-human account of another system (zongzhi.integration): it never logs in, it holds no token of a person."""
    return getattr(user, "pk", None) is not None and hasattr(user, "service_account")


def system_may(user: Any, permission: str) -> bool:
    """Whether `user` is a service account granted `permission` (`meetings:write`, …; zongzhi.api_access).

    Another system does the writes of a resource it was granted within its jurisdiction where the pages
    ask a person for a role (a director convening a meeting, a grid worker recording a visit); it is the
    actor the audit, the timelines and the event feed show. No permission is an administrator's right:
    a service account never manages accounts, security or the audit (三员分立).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active or not is_service_account(user):
        return False
    account = user.service_account
    return bool(account.active) and permission in account.permissions


def may_set_sms_notices(user: Any) -> bool:
    """A center's window and its director stop or restart a party's SMS notices (the party asked them)."""
    return may_read_business(user) and bool(roles_of(user) & {Role.INTAKE_CLERK, Role.CENTER_DIRECTOR})


def may_read_audit(user: Any) -> bool:
    return Role.AUDIT_ADMIN in roles_of(user)


def may_handle_credential_resets(user: Any) -> bool:
    """Any of the three administrators requests a credential reset, or confirms another's request."""
    return is_admin(user)


def may_grant_role(user: Any, role: str) -> bool:
    """The security administrator grants business roles; administrator roles only from the command line."""
    return may_grant_rights(user) and role in BUSINESS_ROLES


def holds_admin_role(account: Any) -> bool:
    """Whether an account (not the acting user: read fresh, active or not) holds an administrator role."""
    return account.memberships.filter(role__in=ADMIN_ROLES).exists()


def require(allowed: bool) -> None:
    """Refuse with the same 404 whether the thing is missing or not the user's."""
    if not allowed:
        raise Http404


# ---- cases -------------------------------------------------------------------------------------

HANDLER_ROLES = frozenset({Role.DEPT_LIAISON, Role.MEDIATOR, Role.JUDGE})


def org_ids_of(user: Any) -> frozenset[int]:
    """The orgs the user handles cases for (liaison, mediator, judge memberships)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(org for role, org in _held(user).orgs if role in HANDLER_ROLES)


def center_ids_of(user: Any, role: str) -> frozenset[int]:
    """The centers where the user holds `role`."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(center for held, center in _held(user).centers if held == role)


def supervised_center_ids(user: Any) -> frozenset[int]:
    """The centers whose 督办 documents the user answers: where they direct or keep the window."""
    return center_ids_of(user, Role.CENTER_DIRECTOR) | center_ids_of(user, Role.INTAKE_CLERK)


def reach_of(user: Any) -> tuple[str, str] | None:
    """The one range [low, high] of region codes that holds every case the user may read (`cases_q`):
    their jurisdictions' prefixes (with a business role) and the reach of each org they handle cases
    for (`_org_reach`); None when they read no case.

    It changes no answer: "pushed to my org" is bounded by it too, so each case-side statement of a
    department's, committee's or court's user names the region code it is distributed on."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_zongzhi_reach"):
        cached: tuple[str, str] | None = user._zongzhi_reach
        return cached
    spans = [codes.span(scope_of(user).prefixes)] if scope_of(user).prefixes else []
    orgs = org_ids_of(user)
    spans += [(low, high) for org, low, high in _held(user).reaches if org in orgs]
    user._zongzhi_reach = reach = codes.widest(spans) if spans else None
    return reach


def reach_q(user: Any, field: str = "region_code") -> Q:
    """Rows whose `field` lies in the user's reach (`reach_of`); none when they have none."""
    return codes.range_q(reach_of(user), field)


def cases_q(user: Any) -> Q:
    """The cases a user may see: inside their jurisdiction, or pushed, put or referred to one of their
    orgs, all of them within the user's reach (`reach_q`)."""
    q = Q(pk__in=[])
    if roles_of(user) & BUSINESS_ROLES:
        q |= scope_of(user).q()
    orgs = org_ids_of(user)
    if orgs:
        within = reach_q(user)
        live = [Assignment.Status.PENDING, Assignment.Status.SIGNED, Assignment.Status.DONE]
        q |= Q(pk__in=Assignment.objects.filter(within, org_id__in=orgs, status__in=live).values("case_id"))
        q |= Q(pk__in=CoordinationRequest.objects.filter(within, to_org_id__in=orgs).values("case_id"))
        # A court reads what was referred to it (诉调对接, 司法确认), wherever in its reach the case lies.
        q |= Q(pk__in=CourtReferral.objects.filter(within, court_id__in=orgs).values("case_id"))
        q &= within
    return q


def case_roles(user: Any, case: Any) -> set[str]:
    """What the user is to this case (see the catalogue's docstring for the vocabulary).

    Cached on the user per case version: every change bumps the version, so a cached answer is never stale.
    Records that bump no version (a co-handler's part, a reply) clear the cache (`forget_case_roles`).
    """
    cache = getattr(user, "_zongzhi_case_roles", None)
    if cache is None:
        cache = user._zongzhi_case_roles = {}
    key = (case.pk, case.version, case.center_id)
    if key not in cache:
        cache[key] = _case_roles(user, case)
    return set(cache[key])


def my_assignments(user: Any, case: Any) -> list[Any] | None:
    """The assignments of the case to the user's orgs (with their org) that its cached roles were read
    from at this version, by role then id; None when the roles were not read at this version."""
    found = getattr(user, "_zongzhi_case_assignments", {}).get((case.pk, case.version, case.center_id))
    return None if found is None else list(found)


ASSIGNMENT_ROLES = frozenset({"handler", "pending", "lead", "co"})  # the roles an org's assignments give


def carry_case_roles(user: Any, case: Any, before: int, mine: list[Any]) -> None:
    """Keep the user's roles across a change of their own that altered nothing they are read from but the
    user's assignments, now `mine` as written (a sign-for: the version moved from `before`): the answer's
    allowed actions then need no second read of them. Does nothing when the roles were not read at
    `before`."""
    old = (case.pk, before, case.center_id)
    roles = getattr(user, "_zongzhi_case_roles", {}).get(old)
    if roles is None:
        return
    key = (case.pk, case.version, case.center_id)
    user._zongzhi_case_roles[key] = (roles - ASSIGNMENT_ROLES) | _assignment_roles(mine)
    if not hasattr(user, "_zongzhi_case_assignments"):
        user._zongzhi_case_assignments = {}
    user._zongzhi_case_assignments[key] = sorted(mine, key=lambda a: (a.role, a.id))


def _assignment_roles(mine: list[Any]) -> set[str]:
    roles: set[str] = set()
    for assignment in mine:
        if assignment.status == Assignment.Status.PENDING:
            roles |= {"handler", "pending"}
        elif assignment.status == Assignment.Status.SIGNED:
            roles |= {"handler", "lead" if assignment.role == Assignment.Role.LEAD else "co"}
    return roles


def forget_case_roles(user: Any) -> None:
    """Drop the cached case roles after a change that bumps no version."""
    if user is not None and hasattr(user, "_zongzhi_case_roles"):
        user._zongzhi_case_roles = {}
        user._zongzhi_case_assignments = {}


def _case_roles(user: Any, case: Any) -> set[str]:
    roles: set[str] = set()
    held = roles_of(user)
    if Role.INTAKE_CLERK in held and (
        case.owner_id == user.pk or case.center_id in center_ids_of(user, Role.INTAKE_CLERK)
    ):
        roles.add("intake")
    if Role.CENTER_DIRECTOR in held and case.center_id in center_ids_of(user, Role.CENTER_DIRECTOR):
        roles.add("director")
    if Role.LEADER in held and scope_of(user).covers(case.region_code):
        roles.add("leader")
    centers = supervised_center_ids(user)
    if centers and _open_supervision_to(case, centers=centers):
        roles.add("supervised")  # a document addressed to the user's center (no org holds the case)
    orgs = org_ids_of(user)
    if not orgs:
        return roles
    # Ordered as the model orders them within one case (its own `case` ordering is a join to the case
    # without its region code).
    cached = getattr(case, "_prefetched_objects_cache", {})
    if "assignments" in cached:  # all of the case's, read with it (a page) or known to be none (a fresh intake)
        mine = sorted((a for a in cached["assignments"] if a.org_id in orgs), key=lambda a: (a.role, a.id))
    else:
        mine = list(
            case.assignments.filter(region_code=case.region_code, org_id__in=orgs)
            .select_related("org")
            .order_by("role", "id")
        )
        # Kept with the roles (and dropped with them): the service's own assignment is among these.
        kept = getattr(user, "_zongzhi_case_assignments", None)
        if kept is None:
            kept = user._zongzhi_case_assignments = {}
        kept[(case.pk, case.version, case.center_id)] = mine
    roles |= _assignment_roles(mine)
    if "coordination_requests" in cached:
        asked = any(r.to_org_id in orgs and r.replied_at is None for r in cached["coordination_requests"])
    elif case.__dict__.get("has_open_coordination") is False:  # read with the case (`case_for_action`)
        asked = False
    else:
        asked = CoordinationRequest.objects.filter(
            case=case, region_code=case.region_code, to_org_id__in=orgs, replied_at__isnull=True
        ).exists()
    if asked:
        roles.add("asked")
    if _open_supervision_to(case, orgs=orgs):
        roles.add("supervised")
    if (
        Role.JUDGE in held
        and CourtReferral.objects.filter(
            case=case, region_code=case.region_code, court_id__in=orgs, result=CourtReferral.Result.PENDING
        ).exists()
    ):
        roles.add("judge")
    return roles


def _open_supervision_to(case: Any, *, centers: frozenset[int] = frozenset(), orgs: Any = ()) -> bool:
    """Whether an open 督办 document of the case is addressed to one of the centers or orgs; from the
    case's prefetched supervisions when it has them (the page's, `allowed_actions`'), else one query."""
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("supervisions")
    if prefetched is not None:
        return any(
            s.status == Supervision.Status.OPEN and (s.target_center_id in centers or s.target_org_id in orgs)
            for s in prefetched
        )
    found = Supervision.objects.filter(case=case, region_code=case.region_code, status=Supervision.Status.OPEN)
    if centers:
        return found.filter(target_center_id__in=centers).exists()
    return found.filter(target_org_id__in=orgs).exists()


def case_may(user: Any, case: Any, action: str) -> bool:
    """Whether the user may perform the catalogue's `action` on the case now (page, API and service alike)."""
    return case_refusal(user, case, action) is None


def case_refusal(user: Any, case: Any, action: str) -> Exception | None:
    """Why the user may not perform `action` now: PermissionDenied (not theirs) or ValidationError (not now)."""
    entry = catalogue.ACTIONS.get(action)
    if entry is None:
        return ValidationError({"action": [_("未知操作“%(a)s”。") % {"a": action}]})
    if not case_roles(user, case) & entry.roles:
        return PermissionDenied(_("您无权对该案件执行“%(a)s”。") % {"a": entry.label})
    if case.state not in entry.states:
        return ValidationError(
            {
                "action": [
                    _("案件当前状态为“%(s)s”，不能执行“%(a)s”。") % {"s": case.get_state_display(), "a": entry.label}
                ]
            }
        )
    unavailable = entry.when(case) if entry.when is not None else None
    if unavailable:
        return ValidationError({"action": [str(unavailable)]})
    return None


def allowed_actions(user: Any, case: Any) -> list[str]:
    """The catalogue's actions the user may perform on the case now, in the catalogue's order.

    The case's supervisions are read once (its roles and the 督办 actions' conditions all look at them)
    when the user's roles would look at them at all; a page that prefetched them keeps its own.
    """
    if supervised_center_ids(user) or org_ids_of(user):
        read_supervisions(case)
    return [name for name in catalogue.ACTIONS if case_may(user, case, name)]


def read_supervisions(case: Any) -> None:
    """Read the case's supervisions once, unless they are in hand: an action's roles, its 督办 conditions,
    the outbox's 重大 and the answer's allowed actions all look at them (`forget_supervisions` after a
    service writes one)."""
    if "supervisions" in getattr(case, "_prefetched_objects_cache", {}):
        return
    if case.__dict__.get("has_supervisions") is False:  # read with the case (`case_for_action`): none
        hold_rows(case, supervisions=[])
        return
    mine = Supervision.objects.filter(region_code=case.region_code)  # the case's own region
    prefetch_related_objects([case], Prefetch("supervisions", queryset=mine))


def hold_rows(case: Any, **related: Any) -> None:
    """Hold rows of the case known without reading them (just written, or known to be none) as a
    prefetch would hold them."""
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(case, name).get_queryset()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset


def forget_supervisions(case: Any) -> None:
    """Drop the case's supervisions read before a service wrote one of them (and what the case's own
    read said of them)."""
    getattr(case, "_prefetched_objects_cache", {}).pop("supervisions", None)
    case.__dict__.pop("has_supervisions", None)


def require_case(user: Any, case: Any, action: str, *, version: int | None = None) -> None:
    """Raise the reason the user may not perform `action` now (called first by every case service).

    With the `version` the actor saw, a case changed since is a Conflict first: whatever else is
    wrong, the actor is looking at an old page.
    """
    if version is not None and version != case.version:
        raise workflow.Conflict(case)
    refusal = case_refusal(user, case, action)
    if refusal is not None:
        raise refusal
