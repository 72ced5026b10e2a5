"""The Xilinhot leader's dashboard follows her in Chromium: she drills into a township, downloads
its monthly report (the township's figures, not the county's), goes Back to the county and sees the
county again under the county's address, and Forward to the township. A grid with nothing to show
says 暂无数据 instead of drawing empty rings, and no two names on a township's map overlap."""

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page

from tests.browsing import login, shot
from tests.test_dashboard_browser import figure, wait_for_charts

pytestmark = pytest.mark.browser
XILINHOT = "152502000000"

# The names ECharts draws on the map now, with their boxes in the canvas's pixels (hidden ones left out).
MAP_LABELS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-map'));
  const shown = [];
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    // A label's text is drawn by its tspans; hideOverlap takes the overlapping ones out of the list.
    if (el.type !== 'tspan' || el.ignore || el.invisible || !el.style || !el.style.text) continue;
    if (el.style.opacity === 0) continue;
    const box = el.getBoundingRect().clone();
    box.applyTransform(el.getComputedTransform());
    shown.push({text: String(el.style.text), x: box.x, y: box.y, w: box.width, h: box.height});
  }
  return shown;
}"""


def json_of(page: Page, server: dict[str, str], path: str) -> Any:
    response = page.request.get(f"{server['url']}{path}")
    assert response.status == 200, path
    return response.json()


def region_shown(page: Page, name: str) -> None:
    page.wait_for_function(
        "(name) => document.getElementById('region-name').textContent === name"
        " && document.getElementById('dashboard').dataset.loading === '0'",
        arg=name,
    )


def test_back_downloads_and_the_map_follow_the_drill_down(server: dict[str, str], page: Page) -> None:
    login(page, server, "demo-leader")
    page.goto(f"{server['url']}/staff/dashboards/{XILINHOT}/")
    wait_for_charts(page)
    county_cases = figure(page, "cases")
    county = json_of(page, server, f"/staff/dashboards/{XILINHOT}/data.json")
    busiest = max(county["children"], key=lambda c: c["cases"])
    assert busiest["cases"] > 0

    page.click(f"#children-table a[data-code='{busiest['code']}']")
    region_shown(page, busiest["name"])
    assert page.url.endswith(f"/staff/dashboards/{busiest['code']}/")
    page.wait_for_selector(f"#chart-map[data-region='{busiest['code']}']")
    assert figure(page, "cases") == f"{busiest['cases']:,}" != county_cases

    # The report form now asks for the township's table, for the last complete month by default.
    today = datetime.date.today()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    assert page.input_value("#report-form input[name=period]") == f"{last_month:%Y-%m}"
    with page.expect_download() as download:
        page.click("#report-form button[type=submit]")
    assert busiest["code"] in download.value.suggested_filename
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active.iter_rows(values_only=True)
    ]
    assert busiest["name"] in rows[0][0] and XILINHOT not in download.value.suggested_filename
    township = json_of(page, server, f"/staff/dashboards/{busiest['code']}/data.json")
    month = {m["month"]: m for m in township["monthly"]}.get(f"{last_month:%Y-%m}", {"cases": 0})
    total = rows[-1]
    assert total[0] == "合计" and total[1] == month["cases"]
    villages = {c["name"] for c in township["children"]}
    assert {r[0] for r in rows[3:-1]} == villages  # by village, not by the county's townships
    assert total[3] <= total[2]  # 化解成功 never above 已结案 in the same period
    shot(page, "dashboard-township-drilled")

    page.go_back()
    region_shown(page, "锡林浩特市")
    assert page.url.endswith(f"/staff/dashboards/{XILINHOT}/")
    assert figure(page, "cases") == county_cases
    page.wait_for_selector(f"#chart-map[data-region='{XILINHOT}']")
    assert (page.get_attribute("#report-form", "action") or "").endswith(f"/{XILINHOT}/report.xlsx")
    shown = page.eval_on_selector_all("#children-table tbody a", "links => links.map(a => a.dataset.code)")
    assert busiest["code"] in shown

    page.go_forward()
    region_shown(page, busiest["name"])
    assert page.url.endswith(f"/staff/dashboards/{busiest['code']}/")


def test_a_township_map_shows_names_that_never_overlap(server: dict[str, str], page: Page) -> None:
    login(page, server, "demo-leader")
    county = json_of(page, server, f"/staff/dashboards/{XILINHOT}/data.json")
    crowded = max(
        county["children"],
        key=lambda c: len(json_of(page, server, f"/staff/dashboards/{c['code']}/data.json")["children"]),
    )
    page.goto(f"{server['url']}/staff/dashboards/{crowded['code']}/")
    page.wait_for_selector(f"#chart-map[data-region='{crowded['code']}']")
    wait_for_charts(page)
    page.wait_for_timeout(300)  # the label layout runs after the first frame
    labels = page.evaluate(MAP_LABELS)
    assert labels, "no names drawn on the map"
    overlaps = [
        (a["text"], b["text"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    ]
    assert overlaps == []
    shot(page, "dashboard-township-map")


def test_a_grid_with_nothing_to_show_says_so(server: dict[str, str], page: Page) -> None:
    login(page, server, "demo-leader")
    code = XILINHOT
    while True:  # down the first children to a grid
        board = json_of(page, server, f"/staff/dashboards/{code}/data.json")
        if not board["children"]:
            break
        code = board["children"][0]["code"]
    assert board["region"]["level"] == "grid"
    page.goto(f"{server['url']}/staff/dashboards/{code}/")
    page.wait_for_function("() => document.getElementById('dashboard').dataset.loading === '0'")
    pies = {
        "chart-state": board["by_state"],
        "chart-domain": board["by_domain"],
        "chart-channel": board["by_channel"],
        "chart-level": board["by_level"],
        "chart-risk": board["by_risk"],
        "chart-satisfaction": board["satisfaction"],
    }
    empty = [chart for chart, rows in pies.items() if not any(r["value"] for r in rows)]
    empty += ["chart-children"] + (["chart-brand"] if not board["brand_rooms"] else [])
    for chart in pies.keys() | {"chart-children", "chart-brand"}:
        note = page.locator(f".chart-empty[data-for='{chart}']")
        if chart in empty:
            assert note.is_visible() and note.inner_text() == "暂无数据", chart
            assert not page.locator(f"#{chart}").is_visible(), chart
        else:
            assert not note.is_visible() and page.locator(f"#{chart}").is_visible(), chart
    assert "chart-children" in empty
    assert page.inner_text("#children-table tbody") == "没有下级区划"
    shot(page, "dashboard-grid-empty")
