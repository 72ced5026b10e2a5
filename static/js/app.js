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
  // A region row's "+" loads its children once (htmx inserts them after the row).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.matches && event.target.matches("button.toggle")) event.target.disabled = true;
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
