"""The upload page in a real headless Chromium: a director uploads 20,000 residents and watches the
progress bar move while a real task worker (`manage.py db_worker`) imports them.

The file is made before the browser starts, and the rows are removed afterwards by a separate
process (the ORM is not used while Playwright's event loop runs in this one).
"""

import datetime
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browsing import ROOT, login, shot
from tests.messy_files import write_xlsx
from zongzhi.identity import make_resident_id

pytestmark = pytest.mark.browser
ROWS = 20_000
PREFIX = "HWEB-"
# Born before 1950: the tests that make random resident IDs draw births from 1950 on (field_phone,
# persona_day, test_intake_forgives), so none of them can already hold one of this file's numbers.
BORN = datetime.date(1946, 1, 1)
CLEANUP = (
    "from zongzhi.grid.models import Household, Resident; "
    f"Resident.objects.filter(household__code__startswith='{PREFIX}').delete(); "
    f"Household.objects.filter(code__startswith='{PREFIX}').delete()"
)


@pytest.fixture(scope="module")
def residents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = []
    for i in range(ROWS):
        birth = BORN + datetime.timedelta(days=i // 400)
        number = make_resident_id("152502", birth, 100 + i % 400)
        rows.append(
            [f"{PREFIX}{i // 4:05d}", "152502001001002", f"牧民{i}", "户主" if i % 4 == 0 else "子女", "蒙古族", number]
        )
    path = tmp_path_factory.mktemp("upload") / "锡林浩特居民.xlsx"
    return write_xlsx(path, ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"], rows, title="居民登记表")


@pytest.fixture
def worker(server: dict[str, str], residents_file: Path) -> Iterator[None]:
    env = {**os.environ, "DATABASE_URL": server["database_url"]}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield
    process.terminate()
    process.wait(30)
    subprocess.run([sys.executable, "manage.py", "shell", "-c", CLEANUP], cwd=ROOT, env=env, check=True)


def test_upload_shows_progress_then_the_report(
    page: Page, server: dict[str, str], worker: None, residents_file: Path
) -> None:
    login(page, server, "demo-director")
    page.goto(f"{server['url']}/staff/transfer/import/")
    page.select_option("#id_kind", "residents")
    page.set_input_files("#id_file", str(residents_file))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/staff/transfer/import/jobs/*/")
    # The bar really moves: caught part way, neither empty nor full.
    page.wait_for_function(
        "() => { const b = document.querySelector('#bar'); return b && b.value > 0 && b.value < 100; }",
        timeout=120_000,
        polling=100,
    )
    assert (
        "已检查" in page.locator("#progress-text").inner_text()
        or "写入" in page.locator("#job-progress h2").inner_text()
    )
    shot(page, "import-progress")
    page.wait_for_selector("#report", timeout=300_000)
    report = page.locator("#report").inner_text()  # its problems, should a row be refused
    assert page.locator("#inserted").inner_text() == str(ROWS), report
    assert page.locator("#rejected").inner_text() == "0"
    assert page.locator("#bar").get_attribute("value") == "100"
    assert "全部导入完成" in page.locator("#report").inner_text()
    shot(page, "import-done")
