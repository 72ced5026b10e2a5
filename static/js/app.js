/* Small behaviours of the pages, kept out of the HTML so the Content-Security-Policy allows no inline
   script (docs/security.md): print buttons, region rows that open once, the visit's "locate me". */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var print = event.target.closest("[data-print]");
    if (print) {
      event.preventDefault();
      window.print();
    }
  });
  // Rows of a schedule (分期履行): 增加一行 / 删除 in place; without JavaScript the same buttons post the
  // form back with a row more or less. The names are renumbered so the rows stay 0, 1, 2 …
  function renumber(fieldset) {
    var field = fieldset.getAttribute("data-field");
    fieldset.querySelectorAll(".row").forEach(function (row, n) {
      row.setAttribute("data-row", n);
      var no = row.querySelector(".row-no");
      if (no) no.textContent = no.textContent.replace(/\d+/, String(n + 1));
      row.querySelectorAll("[name]").forEach(function (input) {
        var name = input.getAttribute("name");
        if (name.indexOf(field + ".") === 0) input.setAttribute("name", name.replace(/^([^.]+)\.\d+\./, "$1." + n + "."));
        if (input.classList.contains("row-drop")) input.value = field + "." + n;
      });
    });
    showSum(fieldset);
  }
  function showSum(fieldset) {
    var out = fieldset.querySelector(".rows-sum");
    if (!out) return;
    var cents = 0;
    fieldset.querySelectorAll("input[name$='.amount']").forEach(function (input) {
      var v = parseFloat(input.value);
      if (!isNaN(v)) cents += Math.round(v * 100);
    });
    out.textContent = cents ? fieldset.getAttribute("data-sum-label") + " " + (cents / 100).toFixed(2) : "";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("fieldset.rows .row-add, fieldset.rows .row-drop");
    if (!button) return;
    var fieldset = button.closest("fieldset.rows");
    var rows = fieldset.querySelectorAll(".row");
    event.preventDefault();
    if (button.classList.contains("row-add")) {
      if (rows.length >= parseInt(fieldset.getAttribute("data-max") || "36", 10)) return;
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      copy.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
      copy.querySelectorAll("label.invalid").forEach(function (l) { l.classList.remove("invalid"); });
      last.after(copy);
      renumber(fieldset);
      var first = copy.querySelector("input");
      if (first) first.focus();
    } else {
      var row = button.closest(".row");
      if (rows.length > 1) row.remove();
      else row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      renumber(fieldset);
    }
  });
  document.addEventListener("input", function (event) {
    var fieldset = event.target.closest && event.target.closest("fieldset.rows");
    if (fieldset) showSum(fieldset);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset.rows").forEach(showSum);
  });
  // A link of an error summary puts the cursor in the field it names (not only scrolls to it).
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
  // A region row's "+" loads its children once (htmx inserts them after the row).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.matches && event.target.matches("button.toggle")) event.target.disabled = true;
  });
  // The intake's region picker: choosing a level lists the next one, and a region found by name
  // sets every level down to it (the page works without this: a "列出下一级区划" button posts the form
  // back). Focus stays where the clerk is.
  function regionPicker(picker) {
    var url = picker.dataset.optionsUrl;
    var picks = picker.querySelector(".picks");
    var asked = 0;
    function selects() {
      return Array.prototype.slice.call(picks.querySelectorAll("select[data-level]"));
    }
    function empty(select) {
      select.innerHTML = "";
      var none = document.createElement("option");
      none.value = "";
      none.textContent = select.dataset.placeholder || "—";
      select.appendChild(none);
      select.disabled = true;
    }
    picks.addEventListener("change", function (event) {
      var all = selects();
      var index = all.indexOf(event.target);
      if (index < 0) return;
      var below = all.slice(index + 1);
      below.forEach(empty);
      if (!event.target.value || !below.length) return;
      var ticket = ++asked;
      fetch(url + "?parent=" + encodeURIComponent(event.target.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          if (ticket !== asked) return; // an older answer: the clerk has moved on
          below[0].insertAdjacentHTML("beforeend", html);
          below[0].disabled = below[0].options.length < 2;
        });
    });
    var box = document.getElementById("region-search");
    if (!box) return;
    box.hidden = false;
    var search = box.querySelector("input");
    var list = document.getElementById(search.getAttribute("list"));
    var typed = 0;
    search.addEventListener("input", function () {
      var code = /（(\d{12,15})）$/.exec(search.value);
      if (code) {
        var ticket = ++asked;
        fetch(url + "?chosen=" + code[1], { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) {
            if (ticket !== asked || !html) return;
            picks.innerHTML = html;
            picker.closest("form").dispatchEvent(new Event("change", { bubbles: true }));
          });
        return;
      }
      var mine = ++typed;
      if (search.value.trim().length < 2) return;
      fetch(url + "?q=" + encodeURIComponent(search.value.trim()), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (mine === typed) list.innerHTML = html; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.getElementById("region-picker");
    if (picker) regionPicker(picker);
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var locate = document.getElementById("locate");
    if (!locate) return;
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("id_lat").value = p.coords.latitude.toFixed(6);
        document.getElementById("id_lng").value = p.coords.longitude.toFixed(6);
      });
    });
  });
})();
