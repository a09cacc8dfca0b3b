/* analyze-sos HTML report: one filter for the whole page, table sort, instance details opened on
   demand (deep links #guest-UUID too), finding cards expanded on demand, raw XML on a click.
   No data is embedded here: everything is read from the DOM. Report text reaches the page only
   as the page's own escaped markup (a big page keeps each detail gzip-compressed in data-body
   and parses it as the browser parses the page) or as textContent. */
(function () {
  "use strict";
  var table = document.getElementById("guest-table");
  var tbody = table && table.tBodies.length ? table.tBodies[0] : null;
  var input = document.getElementById("guest-filter");
  var count = document.getElementById("guest-count");
  var none = document.getElementById("guest-none");
  var instCount = document.getElementById("instance-count");
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function words(s) { return s ? s.split(/\s+/).filter(Boolean) : []; }
  function matches(text, terms) {
    for (var j = 0; j < terms.length; j++) { if (text.indexOf(terms[j]) === -1) { return false; } }
    return true;
  }

  // One item per row, its lower-case text computed once: a keystroke touches no layout.
  // data-search holds what has no column (IPs, MACs, port and volume IDs): found, not shown.
  var items = [];
  if (tbody) {
    for (var i = 0; i < tbody.rows.length; i++) {
      var row = tbody.rows[i];
      var text = row.textContent + " " + (row.getAttribute("data-search") || "");
      items.push({ row: row, text: text.toLowerCase(), index: i, keys: null, shown: true,
                   uuid: row.getAttribute("data-uuid"), host: row.getAttribute("data-host") });
    }
  }
  var hasRows = {};
  for (var r = 0; r < items.length; r++) { hasRows[items[r].uuid] = true; }

  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  var sections = all("section.instance").map(function (el) {
    var own = el.getAttribute("data-search");
    return { el: el, uuid: el.getAttribute("data-uuid"), text: own ? own.toLowerCase() : null, shown: true };
  });
  var marks = all("#timeline a.ti").map(function (el) { return { el: el, uuid: el.getAttribute("data-uuid"), shown: true }; });
  var cards = all("details.fgroup").map(function (el) {
    return { el: el, guests: words(el.getAttribute("data-guests")),
             hosts: (el.getAttribute("data-hosts") || "").split("\n").filter(Boolean),
             text: (el.getAttribute("data-search") || "").toLowerCase(),
             counts: all(".fcount", el).concat(all('#finding-summary li[data-for="' + el.id + '"] .fcount')),
             line: document.querySelector('#finding-summary li[data-for="' + el.id + '"]'),
             initial: null, shown: true };
  });
  cards.forEach(function (c) { c.initial = c.counts.length ? c.counts[0].textContent : ""; });
  var changeRows = all("#changes tr[data-for]").map(function (el) {
    return { el: el, uuid: el.getAttribute("data-for"), host: el.getAttribute("data-host"),
             text: el.textContent.toLowerCase(), shown: true };
  });

  // setAttribute, not .hidden: the timeline's links are SVG elements, which have no such property
  function show(it, ok) {
    if (ok === it.shown) { return; }
    if (ok) { it.el.removeAttribute("hidden"); } else { it.el.setAttribute("hidden", ""); }
    it.shown = ok;
  }

  // At most WINDOW rows and instances are laid out at once, the rest follow on a click or when
  // scrolled to: a keystroke costs the same on 100 guests and on 2,000.
  var WINDOW = 100;
  var rowLimit = WINDOW, secLimit = WINDOW;
  var moreRows = document.getElementById("guest-more");
  var moreSecs = document.getElementById("instance-more");
  var state = { terms: [], uuids: null, hosts: null };
  var matchedRows = items.length;
  var pending = 0;

  function windowRows() {
    var listed = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      var vis = it.match !== false && listed < rowLimit;
      if (vis) { listed++; }
      if (vis !== it.shown) { it.row.hidden = !vis; it.shown = vis; }
    }
    var rest = matchedRows - listed;
    if (count) {
      count.textContent = (matchedRows === items.length ? plural(items.length, "guest")
        : matchedRows + " of " + plural(items.length, "guest") + " shown") +
        (rest > 0 ? " (" + listed + " listed so far)" : "");
    }
    if (moreRows) {
      moreRows.hidden = rest <= 0;
      moreRows.textContent = "List " + Math.min(rest, WINDOW) + " more (" + rest + " not listed yet)";
    }
    if (none) { none.hidden = !(matchedRows === 0 && items.length > 0); }
  }

  function windowSections() {
    var listed = 0, matched = 0;
    for (var s = 0; s < sections.length; s++) {
      var sec = sections[s];
      if (sec.match === false) { show(sec, false); continue; }
      matched++;
      var vis = listed < secLimit || sec.forced;
      if (vis) { listed++; }
      show(sec, vis);
    }
    if (instCount) {
      instCount.textContent = matched === sections.length ? plural(sections.length, "instance")
        : matched + " of " + plural(sections.length, "instance") + " shown";
    }
    if (moreSecs) {
      var rest = matched - listed;
      moreSecs.hidden = rest <= 0;
      moreSecs.textContent = "List " + Math.min(rest, WINDOW) + " more instances (" + rest + " not listed yet)";
    }
  }

  function applyFilter() {
    pending = 0;
    var terms = words(input ? input.value.toLowerCase().trim() : "");
    var active = terms.length > 0;
    var uuids = {}, hosts = {}, n = 0;
    rowLimit = secLimit = WINDOW;
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      it.match = !active || matches(it.text, terms);
      if (it.match) { n++; uuids[it.uuid] = true; hosts[it.host] = true; }
    }
    matchedRows = n;
    state = { terms: terms, uuids: active ? uuids : null, hosts: active ? hosts : null };
    windowRows();
    for (var s = 0; s < sections.length; s++) {
      var sec = sections[s];
      sec.forced = false;
      sec.match = !active || (hasRows[sec.uuid] ? !!uuids[sec.uuid] : (sec.text !== null && matches(sec.text, terms)));
      if (sec.match) { uuids[sec.uuid] = true; }
    }
    windowSections();
    for (var k = 0; k < marks.length; k++) { show(marks[k], !active || !!uuids[marks[k].uuid]); }
    for (var c = 0; c < cards.length; c++) { filterCard(cards[c]); }
    for (var x = 0; x < changeRows.length; x++) {
      var ch = changeRows[x];
      show(ch, !active || (ch.uuid ? !!uuids[ch.uuid] : (!!hosts[ch.host] || matches(ch.text, terms))));
    }
  }
  // the page arrives with the first WINDOW rows and instances listed: start from that
  items.forEach(function (it) { it.match = true; it.shown = !it.row.hidden; });
  sections.forEach(function (sec) { sec.match = true; sec.shown = !sec.el.hidden; });
  windowRows();
  windowSections();
  if (moreRows) {
    moreRows.addEventListener("click", function () { rowLimit += WINDOW; windowRows(); });
  }
  if (moreSecs) {
    moreSecs.addEventListener("click", function () { secLimit += WINDOW; windowSections(); });
  }
  if (typeof IntersectionObserver !== "undefined") {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting && !e.target.hidden) { e.target.click(); } });
    }, { rootMargin: "300px" });
    // rows only: more instances listed by themselves would push a deep-linked one away
    if (moreRows) { seen.observe(moreRows); }
  }

  function cardShows(card) {
    if (!state.uuids) { return card.guests.length; }
    if (card.guests.length) {
      var n = 0;
      for (var i = 0; i < card.guests.length; i++) { if (state.uuids[card.guests[i]]) { n++; } }
      return n;
    }
    // a host-level finding: kept for a host of a guest shown, or when its own text matches
    for (var h = 0; h < card.hosts.length; h++) { if (state.hosts[card.hosts[h]]) { return 1; } }
    return matches(card.text, state.terms) ? 1 : 0;
  }
  function filterCard(card) {
    var n = cardShows(card);
    var ok = !state.uuids || n > 0;
    card.el.hidden = !ok;
    if (card.line) { card.line.hidden = !ok; }
    var label = !state.uuids || !card.guests.length ? card.initial
      : n + " of " + plural(card.guests.length, "guest");
    for (var i = 0; i < card.counts.length; i++) { card.counts[i].textContent = label; }
    all("li.fitem", card.el).forEach(function (li) {
      var us = words(li.getAttribute("data-uuids"));
      var keep = !state.uuids || !us.length || us.some(function (u) { return state.uuids[u]; });
      li.hidden = !keep;
    });
  }

  if (input) {
    input.addEventListener("input", function () {
      if (!pending) { pending = window.requestAnimationFrame(applyFilter); }
    });
    // A value kept by the browser on reload still applies.
    if (input.value) { applyFilter(); }
  }

  // --- sorting ---------------------------------------------------------------------------------
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
  var heads = table && table.tHead ? table.tHead.rows[0].cells : [];
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
    windowRows();
    for (var h = 0; h < heads.length; h++) {
      heads[h].setAttribute("aria-sort", h === col ? (dir === 1 ? "ascending" : "descending") : "none");
    }
  }
  for (var hc = 0; hc < heads.length; hc++) {
    heads[hc].tabIndex = 0;
    heads[hc].addEventListener("click", sortBy.bind(null, hc));
    heads[hc].addEventListener("keydown", (function (col) {
      return function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); } };
    })(hc));
  }

  // --- instance details ----------------------------------------------------------------------
  function unpack(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot expand compressed details"));
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  // A template's markup: its own content, or its data-z (gzip, base64) parsed the way the page
  // was parsed: it is the page's own autoescaped markup, report text inside it is text.
  function contentOf(tpl) {
    var packed = tpl.getAttribute("data-z");
    if (!packed) { return Promise.resolve(tpl.content); }
    return unpack(packed).then(function (markup) {
      var t = document.createElement("template");
      t.innerHTML = markup;
      return t.content;
    });
  }
  var chunks = {};
  function expand(sec) {
    if (sec._ready) { return sec._ready; }
    var cid = sec.getAttribute("data-chunk");
    var tpl = cid ? document.getElementById(cid) : null;
    if (!tpl) { sec._ready = Promise.resolve(sec); return sec._ready; }
    if (!chunks[cid]) { chunks[cid] = contentOf(tpl); }
    sec._ready = chunks[cid].then(function (frag) {
      var body = frag.querySelector('[data-body-of="' + sec.id + '"]');
      if (body) {
        // the block keeps raw XML and log lines together at its end (they compress better so)
        var refs = body.querySelectorAll("i[data-zref]");
        for (var r = 0; r < refs.length; r++) {
          var src = frag.querySelector('[data-zid="' + refs[r].getAttribute("data-zref") + '"]');
          if (src && src.firstElementChild) { refs[r].replaceWith(src.firstElementChild); }
        }
        sec.appendChild(body);
      }
      sec.removeAttribute("data-chunk");
      return sec;
    }, function (err) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = "Detail not shown: " + err.message + ". analyze-sos --format text --guest " +
        sec.getAttribute("data-uuid") + " prints it.";
      sec.appendChild(p);
      return sec;
    });
    return sec._ready;
  }
  function setOpen(sec, open) {
    var btn = sec.querySelector(".ihead .toggle");
    if (open) {
      return expand(sec).then(function () {
        sec.classList.add("open");
        if (btn) { btn.setAttribute("aria-expanded", "true"); }
        return sec;
      });
    }
    sec.classList.remove("open");
    if (btn) { btn.setAttribute("aria-expanded", "false"); }
    return Promise.resolve(sec);
  }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) { return; }
    var toggle = t.closest(".ihead .toggle");
    if (toggle) {
      var sec = toggle.closest("section.instance");
      setOpen(sec, !sec.classList.contains("open"));
      return;
    }
    var xml = t.closest("[data-show-xml]");
    if (xml) {
      var box = xml.parentNode, shown = box.querySelector("pre.xml");
      if (shown) {
        shown.hidden = !shown.hidden;
      } else {
        var tpl = box.querySelector("template.xml-src");
        if (tpl) { box.appendChild(tpl.content.cloneNode(true)); }
      }
      var pre = box.querySelector("pre.xml");
      xml.setAttribute("aria-expanded", pre && !pre.hidden ? "true" : "false");
    }
  });

  // A finding card's list is built when it is first opened, then follows the filter.
  cards.forEach(function (card) {
    card.el.addEventListener("toggle", function () {
      if (!card.el.open) { return; }
      var tpl = card.el.querySelector("template.fitems");
      if (tpl && !card.loading) {
        card.loading = contentOf(tpl).then(function (frag) {
          card.el.appendChild(document.importNode(frag, true));
          tpl.parentNode.removeChild(tpl);
          filterCard(card);
        });
      }
    });
  });

  // Deep links: #guest-UUID opens that instance (shown even when the filter hid it).
  function follow() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    var sec = el.closest("section.instance");
    if (el.tagName === "DETAILS" && !el.open) { el.open = true; }
    if (!sec) { return; }
    var item = null;
    for (var i = 0; i < sections.length; i++) { if (sections[i].el === sec) { item = sections[i]; } }
    if (item && item.match === false && input) { input.value = ""; applyFilter(); }
    if (item && !item.shown) { item.forced = true; show(item, true); }
    setOpen(sec, true).then(function () { el.scrollIntoView({ block: "start" }); });
  }
  window.addEventListener("hashchange", follow);
  if (location.hash) { follow(); }
})();
