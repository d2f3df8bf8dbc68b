// verifier-diff report: sort and filter the programs table. Plain JS, no dependencies, works from file://.
(function () {
  "use strict";
  var table = document.getElementById("programs");
  if (!table) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var q = document.getElementById("q");
  var shown = document.getElementById("shown");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var total = rows.length;

  // Search text of each row: its visible text plus the verdict messages in the tooltips.
  var text = rows.map(function (tr) {
    var s = tr.textContent;
    var titled = tr.querySelectorAll("[title]");
    for (var i = 0; i < titled.length; i++) s += " " + titled[i].getAttribute("title");
    return s.toLowerCase();
  });
  rows.forEach(function (tr, i) { tr._i = i; });

  function sortKey(tr, col, type) {
    var td = tr.cells[col];
    if (type === "num") {
      var v = td.getAttribute("data-v");
      return v === null || v === "" ? null : parseFloat(v);
    }
    var t = td.textContent.trim().toLowerCase();
    return t === "" ? null : t;
  }

  var sortCol = -1, sortDir = 1;
  function sortBy(col) {
    var type = heads[col].getAttribute("data-type");
    sortDir = col === sortCol ? -sortDir : 1;
    sortCol = col;
    var keyed = rows.map(function (tr) { return [sortKey(tr, col, type), tr]; });
    keyed.sort(function (a, b) {
      var x = a[0], y = b[0];
      if (x === null && y === null) return a[1]._i - b[1]._i;
      if (x === null) return 1;  // missing values last in both directions
      if (y === null) return -1;
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a[1]._i - b[1]._i;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[1]); });
    tbody.appendChild(frag);
    heads.forEach(function (th, i) {
      th.classList.toggle("sorted-asc", i === col && sortDir === 1);
      th.classList.toggle("sorted-desc", i === col && sortDir === -1);
    });
  }
  heads.forEach(function (th, i) { th.addEventListener("click", function () { sortBy(i); }); });

  function apply() {
    var needle = q.value.trim().toLowerCase();
    var terms = needle ? needle.split(/\s+/) : [];
    var wanted = selects.map(function (s) { return [s.getAttribute("data-filter"), s.value]; })
      .filter(function (f) { return f[1] !== "*"; });
    var n = 0;
    rows.forEach(function (tr, i) {
      var ok = true;
      for (var j = 0; ok && j < wanted.length; j++) ok = tr.getAttribute("data-" + wanted[j][0]) === wanted[j][1];
      for (var k = 0; ok && k < terms.length; k++) ok = text[i].indexOf(terms[k]) !== -1;
      tr.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n === total ? total + " programs" : n + " of " + total + " programs";
    writeHash();
  }

  // The filters live in the URL fragment (#class=py_stricter&q=stack) so a view can be linked.
  var applyingHash = false;
  function writeHash() {
    if (applyingHash) return;
    var parts = [];
    selects.forEach(function (s) {
      if (s.value !== "*") parts.push(s.getAttribute("data-filter") + "=" + encodeURIComponent(s.value));
    });
    if (q.value.trim()) parts.push("q=" + encodeURIComponent(q.value.trim()));
    var h = parts.length ? "#" + parts.join("&") : "";
    if (h !== location.hash && !(h === "" && location.hash === "")) history.replaceState(null, "", h || location.pathname + location.search);
  }
  function readHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (p) {
      if (!p) return;
      var eq = p.indexOf("=");
      if (eq > 0) params[p.slice(0, eq)] = decodeURIComponent(p.slice(eq + 1));
    });
    applyingHash = true;
    selects.forEach(function (s) {
      var v = params[s.getAttribute("data-filter")];
      s.value = "*";
      if (v !== undefined) {
        for (var i = 0; i < s.options.length; i++) if (s.options[i].value === v) s.value = v;
      }
    });
    q.value = params.q || "";
    apply();
    applyingHash = false;
  }

  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.getElementById("reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = "*"; });
    q.value = "";
    apply();
  });
  window.addEventListener("hashchange", function () {
    readHash();
    if (/class=/.test(location.hash)) table.scrollIntoView({ block: "start" });
  });
  readHash();
  table.setAttribute("data-ready", "1");  // lets a headless browser check that this script ran
})();
