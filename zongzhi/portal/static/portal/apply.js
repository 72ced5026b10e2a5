/* The apply form: the township list follows the county chosen, in place (the server does the same
   without JavaScript, through the "list the townships" button, which is then not needed). */
(function () {
  "use strict";
  var data = document.getElementById("townships-by-county");
  var county = document.getElementById("id_county");
  var township = document.getElementById("id_township");
  if (!data || !county || !township) return;
  var byCounty = JSON.parse(data.textContent);
  var step = document.getElementById("county-step");
  if (step) step.style.display = "none";
  function fill() {
    var keep = township.value;
    var first = township.options[0];
    township.textContent = "";
    township.appendChild(first);
    (byCounty[county.value] || []).forEach(function (t) {
      var option = document.createElement("option");
      option.value = t[0];
      option.textContent = t[1];
      if (t[2]) option.lang = t[2];
      if (t[0] === keep) option.selected = true;
      township.appendChild(option);
    });
    var hint = document.getElementById("township-hint");
    if (hint) hint.style.display = county.value ? "none" : "";
  }
  county.addEventListener("change", fill);
  fill();
})();
