"""The league leader opens the dispatch dashboard in Chromium: charts and map are drawn, and
clicking a county (a bar, then an area of the map) drills down and changes the figures."""

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browsing import login, shot

pytestmark = pytest.mark.browser

INKED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
  return inked;
}"""

# Where, in page coordinates, ECharts draws a data point of series 0 of the chart in `selector`.
POINT = """([selector, value]) => {
  const el = document.querySelector(selector);
  el.scrollIntoView({block: "center"});
  const chart = echarts.getInstanceByDom(el);
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, value);
  const box = el.getBoundingClientRect();
  return [box.left + x, box.top + y];
}"""


def figure(page: Page, name: str) -> str:
    return page.inner_text(f"#headline [data-figure={name}]")


def wait_for_charts(page: Page) -> None:
    for selector in ("#chart-children", "#chart-monthly", "#chart-state", "#chart-map"):
        # A function, not an expression: Playwright evaluates expressions with eval, which the CSP refuses.
        page.wait_for_function(f"(selector) => ({INKED})(selector) > 500", arg=selector, timeout=15000)


def test_charts_and_map_draw_and_drill_down(server: dict[str, str], page: Page) -> None:
    login(page, server, "demo-league")
    page.click("text=指挥调度")
    page.wait_for_url("**/staff/dashboards/152500000000/")
    wait_for_charts(page)
    shot(page, "dashboard-league")
    league_cases = figure(page, "cases")

    # The first county of the bar chart (the bars follow the code order, as the table does).
    first: Any = page.evaluate("() => document.querySelector('#children-table tbody a').textContent")
    x, y = page.evaluate(POINT, ["#chart-children", [1, 0]])
    page.mouse.click(x + 3, y)
    page.wait_for_function("(name) => document.getElementById('region-name').textContent === name", arg=first)
    assert figure(page, "cases") != league_cases
    assert page.url.endswith("/staff/dashboards/152501000000/")
    wait_for_charts(page)
    shot(page, "dashboard-county-by-bar")

    # Back to the league by the breadcrumb, then into Xilinhot by its area on the map.
    page.click("#crumbs a[data-code='152500000000']")
    page.wait_for_function("() => document.getElementById('region-name').textContent.includes('锡林郭勒')")
    page.wait_for_selector("#chart-map[data-region='152500000000']")
    wait_for_charts(page)
    x, y = page.evaluate(POINT, ["#chart-map", [116.08, 43.94]])  # Xilinhot's centre
    page.mouse.click(x, y)
    page.wait_for_function("() => document.getElementById('region-name').textContent === '锡林浩特市'")
    assert figure(page, "cases") != league_cases
    wait_for_charts(page)
    page.select_option("#map-figure", "claim_rate")
    page.wait_for_timeout(500)
    shot(page, "dashboard-xilinhot-map")


def test_the_wall_view_fills_the_screen(server: dict[str, str], page: Page) -> None:
    login(page, server, "demo-league")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server['url']}/staff/dashboards/152502000000/wall/")
    for selector in ("#chart-monthly", "#chart-map", "#chart-category"):
        # A function, not an expression: Playwright evaluates expressions with eval, which the CSP refuses.
        page.wait_for_function(f"(selector) => ({INKED})(selector) > 500", arg=selector, timeout=15000)
    assert page.inner_text("#region-name") == "锡林浩特市"
    assert page.query_selector("header.top") is None  # no navigation bar on the wall
    shot(page, "dashboard-wall")
