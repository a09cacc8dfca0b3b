/* analyze-sos HTML report: guest table filter and sort. Plain JS, no data embedded here:
   everything is read from the table's DOM once. Report text never becomes markup. */
(function () {
  "use strict";
  var table = document.getElementById("guest-table");
  if (!table || !table.tBodies.length) { return; }
  var tbody = table.tBodies[0];
  var input = document.getElementById("guest-filter");
  var count = document.getElementById("guest-count");
  var none = document.getElementById("guest-none");
  var heads = table.tHead.rows[0].cells;
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // One item per row, its lower-case text computed once: a keystroke touches no layout.
  // data-search holds what has no column (IPs, MACs, port and volume IDs): found, not shown.
  var items = [];
  for (var i = 0; i < tbody.rows.length; i++) {
    var row = tbody.rows[i];
    var text = row.textContent + " " + (row.getAttribute("data-search") || "");
    items.push({ row: row, text: text.toLowerCase(), index: i, keys: null, shown: true });
  }

  var pending = 0;
  function applyFilter() {
    pending = 0;
    var q = input.value.toLowerCase().trim();
    var terms = q ? q.split(/\s+/) : [];
    var n = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i], ok = true;
      for (var j = 0; j < terms.length; j++) {
        if (it.text.indexOf(terms[j]) === -1) { ok = false; break; }
      }
      if (ok !== it.shown) { it.row.hidden = !ok; it.shown = ok; }
      if (ok) { n++; }
    }
    count.textContent = (n === items.length)
      ? items.length + (items.length === 1 ? " row" : " rows")
      : n + " of " + items.length + " rows shown";
    if (none) { none.hidden = !(n === 0 && items.length > 0); }
  }
  if (input) {
    input.addEventListener("input", function () {
      if (!pending) { pending = window.requestAnimationFrame(applyFilter); }
    });
    // A value kept by the browser on reload still applies.
    if (input.value) { applyFilter(); }
  }

  function cellKey(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) { return null; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    raw = raw.trim();
    if (raw === "" || raw === "\u2013") { return null; }
    if (numeric) {
      var x = parseFloat(raw);
      return isNaN(x) ? null : x;
    }
    return raw;
  }

  var sortCol = -1, sortDir = 1;
  function sortBy(col) {
    var numeric = heads[col].getAttribute("data-type") === "num";
    sortDir = (col === sortCol) ? -sortDir : 1;
    sortCol = col;
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (!it.keys) { it.keys = []; }
      if (it.keys[col] === undefined) { it.keys[col] = cellKey(it.row, col, numeric); }
    }
    var dir = sortDir;
    items.sort(function (a, b) {
      var x = a.keys[col], y = b.keys[col];
      if (x === null || y === null) {
        if (x === y) { return a.index - b.index; }
        return x === null ? 1 : -1; // unknown values last, whichever the direction
      }
      var c = numeric ? (x - y) : collator.compare(x, y);
      return c !== 0 ? c * dir : a.index - b.index;
    });
    var frag = document.createDocumentFragment();
    for (var k = 0; k < items.length; k++) { frag.appendChild(items[k].row); }
    tbody.appendChild(frag);
    for (var h = 0; h < heads.length; h++) {
      heads[h].setAttribute("aria-sort", h === col ? (dir === 1 ? "ascending" : "descending") : "none");
    }
  }
  for (var c = 0; c < heads.length; c++) {
    heads[c].tabIndex = 0;
    heads[c].addEventListener("click", sortBy.bind(null, c));
    heads[c].addEventListener("keydown", (function (col) {
      return function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); } };
    })(c));
  }
})();
