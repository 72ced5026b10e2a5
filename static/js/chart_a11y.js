/* Charts for everyone. Each ECharts chart (a `.chart` element) is named by its card's heading
   (role="img") and gets its figures as a table under it, folded in a <details> whose summary is
   this script tag's data-label; the table is drawn again whenever the chart is (drill-down).
   The map is described by the table of child regions already on the page, so it gets a name only. */
(function () {
  "use strict";
  var script = document.currentScript;
  var label = (script && script.dataset.label) || "";

  function heading(el) {
    var box = el.closest("section");
    var h = box && box.querySelector("h2");
    if (!h) return el.id;
    var text = "";
    h.childNodes.forEach(function (n) { if (n.nodeType === 3) text += n.textContent; });
    return text.trim() || h.textContent.trim();
  }

  function cell(tag, text, scope) {
    var c = document.createElement(tag);
    c.textContent = text === null || text === undefined ? "—" : String(text);
    if (scope) c.scope = scope;
    return c;
  }

  function value(v) {
    if (v && typeof v === "object" && !Array.isArray(v)) v = v.value;
    if (Array.isArray(v)) v = v[v.length - 1];
    return v === null || v === undefined || v === "" ? "—" : Number(v).toLocaleString("zh-CN", { maximumFractionDigits: 1 });
  }

  /* [column names, rows of [name, values...]] from a chart's option: categories × series, or a pie. */
  function figures(option) {
    var series = (option.series || []).filter(function (s) { return s.type !== "map"; });
    if (!series.length) return null;
    if (series[0].type === "pie") {
      return [[""], (series[0].data || []).map(function (d) { return [d.name, value(d)]; })];
    }
    var axes = [].concat(option.xAxis || [], option.yAxis || []);
    var category = axes.filter(function (a) { return a.type === "category" && a.data; })[0];
    if (!category) return null;
    var names = series.map(function (s, i) { return s.name || (series.length > 1 ? String(i + 1) : ""); });
    var rows = category.data.map(function (c, i) {
      var name = c && typeof c === "object" ? c.value : c;
      return [name].concat(series.map(function (s) { return value((s.data || [])[i]); }));
    });
    return [names, rows];
  }

  function table(el, chart) {
    var found = figures(chart.getOption());
    var holder = el.nextElementSibling;
    if (!holder || !holder.classList.contains("chart-data")) {
      holder = document.createElement("details");
      holder.className = "chart-data";
      var summary = document.createElement("summary");
      summary.textContent = label;
      holder.appendChild(summary);
      el.insertAdjacentElement("afterend", holder);
    }
    var signature = JSON.stringify(found);
    if (holder.dataset.signature === signature) return;  // "finished" comes after every redraw
    holder.dataset.signature = signature;
    var old = holder.querySelector("table");
    if (old) old.remove();
    if (!found) return;
    var t = document.createElement("table");
    t.appendChild(document.createElement("caption")).textContent = heading(el);
    var head = t.createTHead().insertRow();
    head.appendChild(cell("th", "", "col"));
    found[0].forEach(function (n) { head.appendChild(cell("th", n || heading(el), "col")); });
    var body = t.createTBody();
    found[1].forEach(function (r) {
      var row = body.insertRow();
      row.appendChild(cell("th", r[0], "row"));
      r.slice(1).forEach(function (v) { row.appendChild(cell("td", v)); });
    });
    holder.appendChild(t);
  }

  function watch(el) {
    el.setAttribute("role", "img");
    el.setAttribute("aria-label", heading(el));
    var attached = false;
    function attach() {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (!chart || attached) return;
      attached = true;
      if (!el.classList.contains("map")) chart.on("finished", function () { table(el, chart); });
    }
    new MutationObserver(attach).observe(el, { childList: true });
    attach();
  }

  function start() { document.querySelectorAll(".chart").forEach(watch); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
