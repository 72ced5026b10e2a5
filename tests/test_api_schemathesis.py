"""schemathesis over the whole OpenAPI document, against the live server, with a bearer token.

Every operation gets a fixed number of generated requests (valid and invalid bodies, queries, headers),
with its path pointing at a real object of Xilinhot made for this run (else nearly every request would
stop at a 404). Passing means 0 server errors, and every answer's status, media type and body are the
ones the document declares. Bounded: `EXAMPLES` per operation, one worker, a timeout on each request.
"""

import datetime
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import real_files
from tests.api_tokens import service_token
from tests.browsing import ARTIFACTS
from tests.conftest import XILINHOT
from tests.messy_files import write_xlsx
from tests.test_api_platform import household_in, next_month
from tests.test_field import record
from zongzhi.accounts.models import User
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Category
from zongzhi.field import reviews
from zongzhi.field import services as field_services
from zongzhi.field.models import ServiceType
from zongzhi.grid.models import GridWorker
from zongzhi.meetings import services as meeting_services
from zongzhi.meetings.models import DispatchMeeting
from zongzhi.portal.openday import open_day_schedule
from zongzhi.regions.models import Region
from zongzhi.transfer.export_jobs import export_job_create
from zongzhi.transfer.jobs import job_create

EXAMPLES = 6
# Seconds; a run takes well under it (ZONGZHI_SCHEMATHESIS_SECONDS for a machine loaded by other work).
LIMIT = int(os.environ.get("ZONGZHI_SCHEMATHESIS_SECONDS", "240"))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def _objects(tmp: Path) -> dict[str, dict[str, Any]]:
    """Objects of Xilinhot for the director to reach, made for this run; keyed by path pattern."""
    director, gridworker = User.objects.get(username="demo-director"), User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.select_related("grid__parent").get(user=gridworker).grid
    county = Region.objects.get(code=XILINHOT)
    home = household_in(grid, 50)
    visit = record(gridworker, home, photos=[SimpleUploadedFile("p.png", real_files.PNG, content_type="image/png")])
    item = field_services.field_item_raise(visit=visit, actor=gridworker, kind="opinion", title="希望修路")
    review = reviews.risk_review_open(actor=director, village=home.village, held_on=timezone.localdate())
    unit = field_services.mobile_unit_create(actor=director, name="模糊测试乌日特", county=county, households=[home])
    served = {ServiceType.objects.get(name="矛盾调解"): (1, "")}
    stop = field_services.mobile_visit_record(
        unit=unit, actor=director, visited_on=timezone.localdate(), services=served
    )
    # Next month, in a township (this month's county meeting belongs to tests/test_meetings.py); reused when there.
    township = Region.objects.filter(code__startswith="152502", level="township").order_by("-code").first()
    assert township is not None
    held_on = next_month()
    meeting = DispatchMeeting.objects.filter(region=township, month=held_on).first() or meeting_services.meeting_open(
        actor=director, region=township, held_on=held_on
    )
    case = case_services.case_intake(
        actor=User.objects.get(username="demo-intake"),
        category=Category.objects.get(code="grassland"),
        title="模糊测试用纠纷",
        description="两户因草场边界争执。",
        region=grid,
        parties=[case_services.PartyInput(kind="person", role="applicant", name="巴特尔")],
    )
    upload = SimpleUploadedFile("r.xlsx", write_xlsx(tmp / "r.xlsx", ["户编号"], [["X"]]).read_bytes())
    job = job_create(actor=director, kind="residents", upload=upload, dry_run=True, accept_valid=False)
    export = export_job_create(actor=director, list_name="grid_workers", fmt="csv", filters={})
    day = timezone.localdate() + datetime.timedelta(days=160)
    open_day = open_day_schedule(
        center=case.center, day=day, starts=datetime.time(9), ends=datetime.time(11), capacity=10
    )
    risk_item = review.items.values_list("pk", flat=True).first()
    agenda_item = meeting.items.values_list("pk", flat=True).first()
    return {
        r"^/api/v1/cases/\{number\}": {"path.number": case.number},
        r"^/api/v1/(regions|claims|dashboards)/\{code\}": {"path.code": XILINHOT},
        r"^/api/v1/centers/\{code\}": {"path.code": "ZZ-152502"},
        r"^/api/v1/orgs/\{code\}": {"path.code": "152502-D05"},
        r"^/api/v1/households/\{code\}": {"path.code": home.code},
        r"^/api/v1/residents/\{pk\}": {"path.pk": home.residents.get().pk},
        r"^/api/v1/visits/\{pk\}": {"path.pk": visit.pk},
        r"^/api/v1/visit-photos/\{pk\}": {"path.pk": visit.photos.get().pk},
        r"^/api/v1/field-items/\{pk\}": {"path.pk": item.pk},
        r"^/api/v1/risk-reviews/\{pk\}": {"path.pk": review.pk},
        r"^/api/v1/risk-items/\{pk\}": {"path.pk": risk_item or 1},
        r"^/api/v1/mobile-units/\{pk\}": {"path.pk": unit.pk},
        r"^/api/v1/mobile-visits/\{pk\}": {"path.pk": stop.pk},
        r"^/api/v1/meetings/\{pk\}": {"path.pk": meeting.pk},
        r"^/api/v1/meeting-items/\{pk\}": {"path.pk": agenda_item or 1},
        r"^/api/v1/imports/\{pk\}": {"path.pk": job.pk},
        r"^/api/v1/exports/\{pk\}": {"path.pk": export.pk},
        r"^/api/v1/open-days/\{pk\}": {"path.pk": open_day.pk},
    }


def _config(objects: dict[str, dict[str, Any]]) -> str:
    """schemathesis.toml: for each path pattern (a TOML literal string), its real path parameters."""
    lines = []
    for pattern, parameters in objects.items():
        values = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items())
        lines += ["[[operations]]", f"include-path-regex = '{pattern}'", f"parameters = {{ {values} }}", ""]
    return "\n".join(lines)


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(
    server: dict[str, str], django_db_blocker: Any, tmp_path: Path
) -> None:
    with django_db_blocker.unblock():
        token = service_token(f"schemathesis-{uuid.uuid4().hex[:6]}")
        config = tmp_path / "schemathesis.toml"
        config.write_text(_config(_objects(tmp_path)), encoding="utf-8")
    # The document, fetched once with time to spare (schemathesis allows a loaded machine 10 s for it).
    document = tmp_path / "openapi.json"
    with urllib.request.urlopen(f"{server['url']}/api/v1/openapi.json", timeout=300) as answer:  # noqa: S310
        document.write_bytes(answer.read())
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        str(document),
        "--url",
        server["url"],
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "2026",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--no-shrink",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=LIMIT, check=False)
    except subprocess.TimeoutExpired as late:
        said = late.stdout.decode() if isinstance(late.stdout, bytes) else late.stdout or ""
        (ARTIFACTS / "schemathesis.txt").write_text(said, encoding="utf-8")
        raise AssertionError(f"schemathesis ran past {LIMIT} s:\n{said[-6000:]}") from None
    (ARTIFACTS / "schemathesis.txt").write_text(done.stdout + done.stderr, encoding="utf-8")  # the whole report
    report = done.stdout[-12000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert " passed" in done.stdout and "failures" not in done.stdout.split("Test cases:")[-1], report
