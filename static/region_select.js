/* Region of an institution: the page sends one select of 区县 grouped by 市州 (it works without
   JavaScript). With JavaScript, a 市州 select is put before it and the 区县 select lists only the
   chosen 市州's options. */
(function () {
  "use strict";
  function enhance(county) {
    var groups = Array.prototype.slice.call(county.querySelectorAll("optgroup"));
    if (!groups.length) { return; }
    var placeholder = county.querySelector("option[value='']");
    var city = document.createElement("select");
    city.setAttribute("aria-label", county.dataset.cityLabel || "市州");
    city.className = "region-city";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = county.dataset.cityPrompt || "—";
    city.appendChild(first);
    var options = {};
    groups.forEach(function (group) {
      var item = document.createElement("option");
      item.value = group.label;
      item.textContent = group.label;
      city.appendChild(item);
      options[group.label] = Array.prototype.slice.call(group.querySelectorAll("option"));
      if (group.querySelector("option:checked")) { item.selected = true; }
    });
    function show() {
      var chosen = county.value;
      while (county.firstChild) { county.removeChild(county.firstChild); }
      if (placeholder) { county.appendChild(placeholder); }
      (options[city.value] || []).forEach(function (option) { county.appendChild(option); });
      county.value = (options[city.value] || []).some(function (o) { return o.value === chosen; })
        ? chosen : "";
      county.disabled = !city.value;
    }
    county.parentNode.insertBefore(city, county);
    city.addEventListener("change", show);
    show();
  }
  document.querySelectorAll("select.region-select").forEach(enhance);
}());
