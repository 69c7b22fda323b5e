// Sortable tables: each heading of a table with class "sortable" becomes a button that
// sorts by that column (numbers by their data-sort value), keyboard operable, with
// aria-sort telling screen readers the order.
"use strict";
(function () {
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) { return Number(raw); }
    return cell.textContent.trim().toLowerCase();
  }
  function sortBy(table, index, heading) {
    var body = table.tBodies[0];
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var order = x < y ? -1 : (x > y ? 1 : 0);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  function prepare(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      button.setAttribute("aria-label", "Sort by " + th.textContent);
      button.addEventListener("click", function () { sortBy(table, index, th); });
      th.textContent = "";
      th.appendChild(button);
    });
  }
  window.prepareSortable = prepare;
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), prepare);
  });
})();

// Live regions: an element with data-poll="N" (a running job or batch) is fetched again
// from the same address every N seconds and replaced by its new version, until the new
// version has no data-poll (it finished). If the address now redirects elsewhere (a job
// that finished opens its result), the browser follows. No page reload, so nothing
// refreshes under the reader (axe's meta-refresh rule); the new status line ([data-status])
// is read out through the page's aria-live element #live-status.
(function () {
  function poll(region) {
    var every = Number(region.getAttribute("data-poll")) * 1000;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (answer) {
          if (answer.redirected && new URL(answer.url).pathname !== window.location.pathname) {
            window.location.assign(answer.url);
            return null;
          }
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) {
          if (html === null) { poll(region); return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (!fresh) { poll(region); return; }
          region.innerHTML = fresh.innerHTML;
          Array.prototype.forEach.call(region.querySelectorAll("table.sortable"), prepareTable);
          var status = region.querySelector("[data-status]");
          var spoken = document.getElementById("live-status");
          if (status && spoken && spoken.textContent !== status.textContent) {
            spoken.textContent = status.textContent;
          }
          if (fresh.hasAttribute("data-poll")) { poll(region); } else { region.removeAttribute("data-poll"); }
        })
        .catch(function () { poll(region); });
    }, every);
  }
  function prepareTable(table) {
    if (window.prepareSortable) { window.prepareSortable(table); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
  });
})();
