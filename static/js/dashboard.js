/* Dashboards: draws the charts and the map with the vendored ECharts from the JSON endpoints.
   Clicking a child region (bar, map area, table row or breadcrumb) drills down in place:
   the figures, charts, map and the report form are fetched again for that region and the address
   follows (history.pushState); Back and Forward re-render the region of the address (popstate).
   A chart with nothing to show says so (暂无数据) instead of drawing an empty ring. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.echarts) return;
  var wall = root.dataset.wall === "1";
  var base = root.dataset.base;
  var code = root.dataset.code;
  var since = root.dataset.since;
  var empty = root.dataset.empty || "暂无数据";
  var charts = {};
  var latest = 0;  // the newest drill-down asked for: older answers arriving late are dropped
  var text = wall ? "#e5edff" : "#1f2937";
  var palette = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

  function url(c, tail) {
    return base + c + "/" + tail + (since ? (tail.indexOf("?") < 0 ? "?" : "&") + "since=" + since : "");
  }
  function fmt(n) {
    if (n === null || n === undefined) return "—";
    return Number(n).toLocaleString("zh-CN", { maximumFractionDigits: 1 });
  }
  function chart(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (!charts[id]) charts[id] = echarts.init(el, null, { renderer: "canvas" });
    return charts[id];
  }
  // Shows the chart, or in its place the 暂无数据 note; returns whether there is something to draw.
  function shown(id, something) {
    var el = document.getElementById(id);
    if (!el) return false;
    var note = el.parentNode.querySelector(".chart-empty[data-for='" + id + "']");
    if (!note) {
      note = document.createElement("p");
      note.className = "chart-empty";
      note.dataset.for = id;
      note.textContent = empty;
      el.parentNode.insertBefore(note, el);
    }
    note.hidden = something;
    var wasHidden = el.hidden;
    el.hidden = !something;
    el.dataset.empty = something ? "0" : "1";
    if (something && wasHidden && charts[id]) charts[id].resize();
    return something;
  }
  function anything(values) {
    return values.some(function (v) { return v !== null && v !== undefined && Number(v) !== 0; });
  }
  function base_option(extra) {
    var o = { color: palette, textStyle: { color: text, fontFamily: "Zongzhi Sans, sans-serif" }, tooltip: { trigger: "item" }, animation: false };
    for (var k in extra) o[k] = extra[k];
    return o;
  }
  function pie(id, rows) {
    var data = rows.filter(function (r) { return r.value; });
    if (!shown(id, data.length > 0)) return;
    var c = chart(id);
    c.setOption(base_option({
      legend: { bottom: 0, textStyle: { color: text }, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], label: { color: text },
                 avoidLabelOverlap: true, labelLayout: { hideOverlap: true },
                 data: data.map(function (r) { return { name: r.name, value: r.value }; }) }]
    }), true);
  }
  function bars(id, rows, opts) {
    var series = (opts && opts.series) || [{ type: "bar", data: rows.map(function (r) { return r.value; }) }];
    var values = [];
    series.forEach(function (s) { s.data.forEach(function (v) { values.push(v && typeof v === "object" ? v.value : v); }); });
    if (!shown(id, rows.length > 0 && anything(values))) return;
    var c = chart(id);
    c.setOption(base_option({
      tooltip: { trigger: "axis" },
      grid: { left: 110, right: 24, top: 16, bottom: 28 },
      xAxis: { type: "value", axisLabel: { color: text } },
      yAxis: { type: "category", inverse: true, axisLabel: { color: text }, data: rows.map(function (r) { return r.name; }) },
      series: series
    }), true);
  }
  function headline(d) {
    document.querySelectorAll("[data-figure]").forEach(function (el) { el.textContent = fmt(d.totals[el.dataset.figure]); });
    document.querySelectorAll("[data-rate]").forEach(function (el) { el.textContent = fmt(d.rates[el.dataset.rate]); });
    document.getElementById("region-name").textContent = d.region.name;
    var level = document.getElementById("region-level");
    if (level) level.textContent = d.region.level_name;
    var report = document.getElementById("report-form");
    if (report) report.action = base + d.region.code + "/report.xlsx";
    var crumbs = document.getElementById("crumbs");
    crumbs.textContent = "";
    d.ancestors.forEach(function (a) {
      var link = document.createElement("a");
      link.href = base + a.code + (wall ? "/wall/" : "/");
      link.dataset.code = a.code;
      link.textContent = a.name;
      crumbs.appendChild(link);
      crumbs.appendChild(document.createTextNode(" › "));
    });
    var here = document.createElement("span");
    here.textContent = d.region.name;
    crumbs.appendChild(here);
    var leave = document.getElementById("wall-link") || document.getElementById("leave-wall");
    if (leave) leave.href = base + d.region.code + (wall ? "/" : "/wall/");
  }
  function table(d) {
    var body = document.querySelector("#children-table tbody");
    if (!body) return;
    body.textContent = "";
    if (!d.children.length) {
      var none = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 10;
      cell.className = "muted";
      cell.textContent = root.dataset.noChildren || "";
      none.appendChild(cell);
      body.appendChild(none);
    }
    d.children.forEach(function (c) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = base + c.code + "/";
      a.dataset.code = c.code;
      a.textContent = c.name;
      td.appendChild(a);
      tr.appendChild(td);
      [c.cases, c.open, c.closed, c.overdue, c.supervised, c.agreements, c.amount_agreed, c.per_thousand, c.claim_rate].forEach(function (v) {
        var cell = document.createElement("td");
        cell.className = "num";
        cell.textContent = fmt(v);
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
  }
  function render(d) {
    headline(d);
    table(d);
    var kids = d.children;
    bars("chart-children", kids, { series: [
      { name: "纠纷", type: "bar", data: kids.map(function (c) { return { value: c.cases, code: c.code }; }) }
    ] });
    var monthly = shown("chart-monthly", anything(d.monthly.map(function (m) { return m.cases + m.closed; }))) && chart("chart-monthly");
    if (monthly) monthly.setOption(base_option({
      tooltip: { trigger: "axis" }, legend: { textStyle: { color: text } },
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", axisLabel: { color: text }, data: d.monthly.map(function (m) { return m.month; }) },
      yAxis: { type: "value", axisLabel: { color: text } },
      series: [{ name: "登记", type: "line", smooth: true, data: d.monthly.map(function (m) { return m.cases; }) },
               { name: "已结案", type: "line", smooth: true, data: d.monthly.map(function (m) { return m.closed; }) }]
    }), true);
    var daily = shown("chart-daily", anything(d.daily.map(function (m) { return m.registered + m.closed; }))) && chart("chart-daily");
    if (daily) daily.setOption(base_option({
      tooltip: { trigger: "axis" }, legend: { textStyle: { color: text } },
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", axisLabel: { color: text }, data: d.daily.map(function (m) { return m.day; }) },
      yAxis: { type: "value", axisLabel: { color: text } },
      series: [{ name: "登记", type: "bar", data: d.daily.map(function (m) { return m.registered; }) },
               { name: "结案", type: "bar", data: d.daily.map(function (m) { return m.closed; }) }]
    }), true);
    pie("chart-state", d.by_state);
    bars("chart-category", d.by_category.slice(0, 10));
    pie("chart-domain", d.by_domain);
    pie("chart-channel", d.by_channel);
    pie("chart-level", d.by_level);
    pie("chart-risk", d.by_risk);
    pie("chart-satisfaction", d.satisfaction);
    var rooms = d.brand_rooms.slice(0, 12);
    bars("chart-brand", rooms, { series: [
      { name: "主办案件", type: "bar", data: rooms.map(function (r) { return r.cases; }) },
      { name: "书面协议", type: "bar", data: rooms.map(function (r) { return r.agreements; }) }
    ] });
  }
  function drawMap(m) {
    if (m.region.code !== code) return;  // the user has drilled elsewhere meanwhile
    var el = document.getElementById("chart-map");
    if (el) el.dataset.region = m.region.code;  // which region the map shows now
    if (!shown("chart-map", m.features.length > 0)) return;
    var c = chart("chart-map");
    var name = "region-" + m.region.code;
    echarts.registerMap(name, { type: "FeatureCollection", features: m.features });
    c.setOption(base_option({
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "<br>" + m.label + "：" + fmt(p.value); } },
      visualMap: { min: m.min, max: m.max > m.min ? m.max : m.min + 1, calculable: true, left: 8, bottom: 8,
                   text: [m.label, ""], textStyle: { color: text }, inRange: { color: ["#e0f2fe", "#38bdf8", "#1d4ed8", "#7f1d1d"] } },
      series: [{ type: "map", map: name, roam: true, nameProperty: "name", selectedMode: false,
                 // Every name that fits: where two would overlap, the later one is left out (zoom in to see it).
                 label: { show: true, color: "#111827", fontSize: 11 },
                 labelLayout: { hideOverlap: true },
                 itemStyle: { borderColor: "#ffffff", borderWidth: 1 },
                 data: m.features.map(function (f) { return { name: f.properties.name, value: f.properties.value, code: f.properties.code, drill: f.properties.drill }; }) }]
    }), true);
  }
  function loadMap(c) {
    if (!document.getElementById("chart-map")) return;
    var select = document.getElementById("map-figure");
    var figure = select ? select.value : "per_thousand";
    fetch(url(c, "map.json?figure=" + figure), { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(drawMap);
  }
  function address(c) {
    return base + c + (wall ? "/wall/" : "/") + (since ? "?since=" + encodeURIComponent(since) : "");
  }
  function load(c, push) {
    var ticket = ++latest;
    if (push) history.pushState({ code: c, since: since }, "", address(c));
    code = c;
    root.dataset.code = c;
    root.dataset.loading = "1";
    return fetch(url(c, "data.json"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        if (ticket !== latest) return;
        render(d);
        loadMap(c);
        root.dataset.shown = c;  // the figures on the page are this region's
        root.dataset.loading = "0";
      });
  }
  // The entry the page was opened at gets its state too, so Back to it re-renders it.
  history.replaceState({ code: code, since: since }, "", location.href);
  function drill(params) {
    if (params.data && params.data.code && params.data.drill !== false) load(params.data.code, true);
  }
  load(code, false).then(function () {
    chart("chart-children") && chart("chart-children").on("click", drill);
    chart("chart-map") && chart("chart-map").on("click", drill);
  });
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("#crumbs a[data-code], #children-table a[data-code]");
    if (!a) return;
    e.preventDefault();
    load(a.dataset.code, true);
  });
  var select = document.getElementById("map-figure");
  if (select) select.addEventListener("change", function () { loadMap(code); });
  window.addEventListener("popstate", function (e) {
    var state = e.state || {};
    var match = location.pathname.match(/\/(\d{12,15})\/(wall\/)?$/);
    var target = state.code || (match && match[1]);
    if (!target) return;
    since = state.since !== undefined ? state.since : (new URLSearchParams(location.search).get("since") || "");
    load(target, false);
  });
  window.addEventListener("resize", function () { for (var k in charts) charts[k].resize(); });
  if (wall) {
    var clock = document.getElementById("clock");
    setInterval(function () { if (clock) clock.textContent = new Date().toLocaleString("zh-CN"); }, 1000);
    setInterval(function () { load(code, false); }, 1000 * Number(root.dataset.refresh || 60));
  }
})();
