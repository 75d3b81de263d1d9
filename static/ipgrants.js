// Label each table cell with its column's header, so that on a narrow screen (where the CSS
// stacks a table's rows as cards) every value says what it is. No inline script is needed.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.table").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!headers.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && headers[i] && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", headers[i]);
        }
      });
    });
  });
});

// A select marked data-autosubmit (the language, the institution applying) submits its form
// when changed; without script the form's own button does.
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
