"""Run by test_admin_race.py in a separate process against the test database (committed data).

admin_race grants N:  for each of N new accounts, two threads start at once: one grants an
    administrator role from the command line, the other a business role (odd accounts: a
    jurisdiction) as the security administrator.
admin_race confirm N: N password-reset requests by the system administrator, each confirmed at
    once by the security and the audit administrator.
Prints one JSON object: what each thread got, and what each account holds (or was sent) after.
"""

import json
import os
import sys
import threading
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
django.setup()

from django.core.exceptions import PermissionDenied  # noqa: E402
from django.db import connection  # noqa: E402

from zongzhi.accounts import services  # noqa: E402
from zongzhi.accounts.models import CredentialReset, Role, User  # noqa: E402
from zongzhi.audit.models import AuditEntry  # noqa: E402
from zongzhi.regions.models import Region  # noqa: E402


def main() -> None:
    what, n = sys.argv[1], int(sys.argv[2])
    if what == "confirm":
        confirm(n)
        return
    tag = uuid.uuid4().hex[:6]
    accounts = [
        services.user_create(actor=None, username=f"race-{tag}-{i}", full_name="并发", password=None) for i in range(n)
    ]
    barrier = threading.Barrier(2 * n)
    results: dict[str, list[str]] = {a.username: [] for a in accounts}
    lock = threading.Lock()

    def admin(account: User) -> None:
        services.membership_grant(actor=None, user=account, role=Role.SYS_ADMIN, cli=True)

    def business(account: User, index: int) -> None:
        secadmin = User.objects.get(username="demo-secadmin")
        if index % 2:
            services.jurisdiction_grant(actor=secadmin, user=account, region=Region.objects.get(code="152502000000"))
        else:
            services.membership_grant(actor=secadmin, user=account, role=Role.LEADER)

    def run(kind: str, index: int) -> None:
        account = User.objects.get(pk=accounts[index].pk)
        barrier.wait()
        try:
            admin(account) if kind == "admin" else business(account, index)
            outcome = f"{kind}: ok"
        except PermissionDenied as refused:
            outcome = f"{kind}: refused: {refused}"
        except Exception as exc:
            outcome = f"{kind}: error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            results[accounts[index].username].append(outcome)

    threads = [threading.Thread(target=run, args=(kind, i)) for i in range(n) for kind in ("admin", "business")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = {
        a.username: {
            "roles": sorted(User.objects.get(pk=a.pk).memberships.values_list("role", flat=True)),
            "jurisdictions": User.objects.get(pk=a.pk).jurisdictions.count(),
        }
        for a in accounts
    }
    print(json.dumps({"results": results, "held": held}, ensure_ascii=False))


def confirm(n: int) -> None:
    tag = uuid.uuid4().hex[:6]
    sysadmin = User.objects.get(username="demo-sysadmin")
    resets = []
    for i in range(n):
        target = services.user_create(actor=None, username=f"race-{tag}-{i}", full_name="并发", password=None)
        services.membership_grant(actor=None, user=target, role=Role.AUDIT_ADMIN, cli=True)
        resets.append(services.credential_reset_request(actor=sysadmin, target=target, kind="password", reason="并发"))
    barrier = threading.Barrier(2 * n)
    results: dict[str, list[str]] = {str(r.pk): [] for r in resets}
    lock = threading.Lock()

    def run(confirmer: str, index: int) -> None:
        actor = User.objects.get(username=confirmer)
        reset = CredentialReset.objects.get(pk=resets[index].pk)
        barrier.wait()
        try:
            services.credential_reset_confirm(actor=actor, reset=reset)
            outcome = f"{confirmer}: ok"
        except PermissionDenied as refused:
            outcome = f"{confirmer}: refused: {refused}"
        except Exception as exc:
            outcome = f"{confirmer}: error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            results[str(resets[index].pk)].append(outcome)

    names = ("demo-secadmin", "demo-auditor")
    threads = [threading.Thread(target=run, args=(name, i)) for i in range(n) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    confirmed = {
        str(r.pk): AuditEntry.objects.filter(action="credential_reset_confirmed", detail__reset=r.pk).count()
        for r in resets
    }
    print(json.dumps({"results": results, "confirmed": confirmed}, ensure_ascii=False))


if __name__ == "__main__":
    main()
