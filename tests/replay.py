"""The timeline replay check: each case's events, replayed through the transition table, must reach
the case's state and version. `conftest.replay_each_test` runs it over the cases every test creates or
changes; `test_case_history` over the demo's whole history.
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet

from zongzhi.cases.models import Case, CaseEvent, State
from zongzhi.cases.workflow import transition_of


@dataclass(frozen=True)
class ReplayProblem:
    """One thing in a case's timeline that does not fit the transition table (`kind`: the event at fault)."""

    case_id: int
    kind: str
    text: str

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.text}"


def replay_problems(cases: QuerySet[Case] | None = None) -> list[ReplayProblem]:
    """Replay the timelines of these cases (all by default) through the transition table; say what does not fit."""
    cases = Case.objects.all() if cases is None else cases
    final = {pk: (state, version) for pk, state, version in cases.values_list("pk", "state", "version")}
    timelines = defaultdict(list)
    rows = CaseEvent.objects.filter(case__in=cases.values("pk")).order_by("case_id", "id")
    for row in rows.values_list("case_id", "kind", "from_state", "to_state", "version", "at"):
        timelines[row[0]].append(row[1:])
    problems = []
    for pk, events in timelines.items():
        state, seen = "", []
        for kind, from_state, to_state, version, _at in events:
            if kind == "intake":
                ok = not state and to_state == State.REGISTERED
            elif from_state:
                transition = transition_of(kind)
                ok = (
                    transition is not None
                    and from_state == state
                    and from_state in transition.sources
                    and to_state == (transition.target or from_state)
                )
            else:  # a record that changes no state (a session, a reply, a co-handler signing for)
                ok = to_state == state
            if not ok:
                problems.append(ReplayProblem(pk, kind, f"{kind} {from_state}->{to_state} after {state}"))
            state = to_state
            seen.append(version)
        # Transitions bump the version by one; the records in between share the version they found.
        steps = {b - a for a, b in itertools.pairwise(seen)}
        if seen[0] != 1 or not steps <= {0, 1} or seen[-1] != final[pk][1]:
            problems.append(ReplayProblem(pk, "", f"versions {seen} for case version {final[pk][1]}"))
        if [e[-1] for e in events] != sorted(e[-1] for e in events):
            problems.append(ReplayProblem(pk, "", "events out of time order"))
        if state != final[pk][0]:
            problems.append(ReplayProblem(pk, "", f"timeline ends {state}, case is {final[pk][0]}"))
    problems += [ReplayProblem(pk, "", "no timeline") for pk in set(final) - set(timelines)]
    return problems


@dataclass(frozen=True)
class Mark:
    """The cases as they were (state and version) and where the event table ended."""

    cases: dict[int, tuple[str, int]]
    event: int

    @classmethod
    def now(cls) -> "Mark":
        return cls(_states(), CaseEvent.objects.aggregate(last=Max("pk"))["last"] or 0)

    def cases_since(self) -> QuerySet[Case]:
        """The cases created or changed since: new, with a new event, or another state or version
        (a write that left no event, as a re-import that rebuilt the state used to)."""
        last = max(self.cases, default=0)
        changed = [pk for pk, now in _states().items() if pk <= last and self.cases.get(pk, now) != now]
        touched = CaseEvent.objects.filter(pk__gt=self.event).values("case_id")
        return Case.objects.filter(Q(pk__gt=last) | Q(pk__in=touched) | Q(pk__in=changed))


def _states() -> dict[int, tuple[str, int]]:
    return {pk: (state, version) for pk, state, version in Case.objects.values_list("pk", "state", "version")}
