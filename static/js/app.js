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
