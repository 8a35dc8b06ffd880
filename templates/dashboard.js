/* reportgen readiness pack: filters, sortable tables, long lists on demand, evidence records and
   permalinks. Progressive enhancement: every page is complete and readable without this script.
   It fetches nothing, and evidence reaches the page only through textContent, never as markup. */
(function () {
  "use strict";

  var lists = [];
  var byId = new Map();
  var enhanced = new WeakSet();
  var state = { loop: "", provider: "", severity: "", terms: [] };
  var records = null;
  var panels = 0;
  var live = null;

  function fmt(n) {
    return n.toLocaleString("en-US");
  }

  function debounce(fn, ms) {
    var timer = 0;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function announce(words) {
    if (!live) {
      live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      (document.querySelector("main") || document.body).appendChild(live);
    }
    live.textContent = words;
  }

  /* --- packed data: the rest of a long list, and the evidence records, gzip and base85
     (reportgen/output/islands.py) --- */

  var B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

  // RFC 1924 base85, with "<" written as "." (the page's data may hold no "<").
  function fromBase85(text) {
    var digit = new Int16Array(128);
    for (var d = 0; d < 85; d++) digit[B85.charCodeAt(d)] = d;
    digit[46] = digit[60];
    var rest = text.length % 5;
    var out = new Uint8Array(Math.floor(text.length / 5) * 4 + (rest ? rest - 1 : 0));
    for (var i = 0, o = 0; i < text.length; i += 5) {
      var value = 0;
      for (var j = 0; j < 5; j++) value = value * 85 + (i + j < text.length ? digit[text.charCodeAt(i + j)] : 84);
      for (var k = 0; k < 4 && o < out.length; k++) out[o++] = (value >>> (24 - 8 * k)) & 255;
    }
    return out;
  }

  function unpack(text) {
    var stream = new Blob([fromBase85(text.trim())]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  // The rows islands.py wrote as columns; a field of tuples as their count per row and their columns.
  function fromColumns(columns, count) {
    var rows = [];
    for (var i = 0; i < count; i++) rows.push([]);
    columns.forEach(function (column, field) {
      if (Array.isArray(column)) {
        column.forEach(function (value, row) { rows[row][field] = value; });
        return;
      }
      if (column.labels) {
        fromKeyed(column).forEach(function (pairs, row) { rows[row][field] = pairs; });
        return;
      }
      var inner = fromColumns(column.c, column.n.reduce(function (a, b) { return a + b; }, 0));
      var at = 0;
      column.n.forEach(function (n, row) {
        rows[row][field] = inner.slice(at, at + n);
        at += n;
      });
    });
    return rows;
  }

  // Labelled values (a card's facts) as [label, value] pairs, each label's values taken in turn.
  function fromKeyed(column) {
    var next = {};
    return column.k.map(function (index) {
      return column.labels[index].map(function (label) {
        next[label] = (next[label] || 0) + 1;
        return [label, column.v[label][next[label] - 1]];
      });
    });
  }

  /* --- rows of data drawn as the page's own markup (templates/closure-dashboard.html.j2): the
     fields of each kind in the order reportgen/output/islands.py packs them --- */

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] !== null) el.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child === null) return;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  function badge(kind, icon, label) {
    return h("span", { class: "badge " + kind }, [h("span", { "aria-hidden": "true" }, [icon]), " " + label]);
  }

  function evidenceList(refs, hidden) {
    var items = refs.map(function (ref) {
      var children = [h("span", { class: "mono" }, [ref[0]]), " · " + ref[1] + " · ", h("span", { class: "mono" }, [ref[2]])];
      return h("li", { "data-record": ref[3] === 1 ? ref[0] : ref[3] || null }, children);
    });
    if (hidden) items.push(h("li", {}, ["and " + hidden + " more, not listed"]));
    return h("ul", { class: "evidence" }, items);
  }

  function factList(facts, id) {
    var children = [];
    facts.forEach(function (fact) {
      children.push(h("dt", {}, [fact[0]]), h("dd", { class: "wrap" }, [fact[1] === 1 ? id : fact[1]]));
    });
    return h("dl", { class: "facts" }, children);
  }

  function itemCard(r) {
    var link = h("a", { class: "permalink", href: "#" + r[0] }, ["Link", h("span", { class: "visually-hidden" }, [" to item " + r[1]])]);
    var code = h("p", { class: "mono code" }, r[9] ? [r[8], " · ", h("a", { href: "#fix-" + r[9] }, ["group " + r[9]])] : [r[8]]);
    return h("article", { class: "item " + r[2], id: r[0], "data-loop": r[6], "data-provider": r[7], "data-severity": r[2] }, [
      h("div", { class: "item-head" }, [badge(r[2], r[3], r[4]), h("h4", {}, [r[1] + ". " + r[5]]), link]),
      code,
      h("p", {}, [r[10]]),
      factList(r[11], r[0]),
      h("div", { class: "action" }, [h("strong", {}, ["Operator action"]), r[12]]),
      h("p", {}, [h("strong", {}, ["Evidence"])]),
      evidenceList(r[13], r[14]),
    ]);
  }

  function warningCard(r) {
    return h("article", { class: "item warning", "data-severity": "warning" }, [
      h("div", { class: "item-head" }, [badge("warning", "\u26a0", "Warning"), h("h3", {}, [r[0]])]),
      h("p", { class: "mono code" }, [r[1]]),
      h("p", { class: "wrap" }, [r[2]]),
      r[3].length ? evidenceList(r[3], 0) : null,
    ]);
  }

  function chainRow(r) {
    var failed = [];
    r[14].forEach(function (ref, index) {
      if (index) failed.push(h("br"));
      failed.push(h("span", { class: "mono" }, [ref[0]]), " · ", h("span", { class: "mono" }, [ref[1]]));
    });
    return h("tr", { "data-loop": r[0], "data-provider": r[2] }, [
      h("td", {}, [r[1]]),
      h("td", { class: "wrap" }, [r[2]]),
      h("td", { class: "mono" }, [r[3]]),
      h("td", { class: "num" }, [r[4]]),
      h("td", {}, [h("time", { datetime: r[5] }, [r[6]])]),
      h("td", {}, [h("time", { datetime: r[7] }, [r[8]]), h("br"), h("span", { class: "note" }, ["after " + r[9]])]),
      h("td", {}, [r[10] + " ", h("span", { class: "mono" }, [r[11]]), h("br"), r[12] + " · ", h("span", { class: "mono" }, [r[13]])]),
      h("td", {}, failed),
    ]);
  }

  function drawn(draw) {
    return function (row) { return breaks(draw(row), PROSE); };
  }

  var ROWS = {
    item: {
      node: drawn(itemCard),
      id: function (r) { return r[0]; },
      attrs: function (r) { return { loop: r[6], provider: r[7], severity: r[2] }; },
    },
    warning: {
      node: drawn(warningCard),
      id: function () { return ""; },
      attrs: function () { return { severity: "warning" }; },
    },
    chain: {
      node: drawn(chainRow),
      id: function () { return ""; },
      attrs: function (r) { return { loop: r[0], provider: r[2] }; },
    },
  };

  /* --- where long codes, ids and paths may break: the <wbr> the pack puts in its own markup
     (reportgen/output/render.py, `breakable`), put in rows drawn here --- */

  var PROSE = 1;
  var MONO = 2;
  // A run of characters with no break in it ends at these (the pack's markup escapes & < > " ').
  var RUN_END = /[\s_/.&;<>"'-]/;
  var DIGEST = /\b([0-9a-f]{16})([0-9a-f]{16})([0-9a-f]{16})([0-9a-f]{16})\b/g;
  var WORD = /[\p{L}\p{N}_]/u;

  function breaks(node, context) {
    Array.from(node.childNodes).forEach(function (child) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (child.data.trim()) child.replaceWith(brokenText(child.data, context));
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        var mono = context === MONO || child.tagName === "CODE" || /\b(mono|wrap)\b/.test(child.getAttribute("class") || "");
        breaks(child, mono ? MONO : PROSE);
      }
    });
    return node;
  }

  // The text with a <wbr> at each cut, and a sha256 in its four groups.
  function brokenText(text, context) {
    var fragment = document.createDocumentFragment();
    var cuts = context === MONO ? monoCuts(text) : proseCuts(text);
    var digests = context === MONO ? Array.from(text.matchAll(DIGEST)) : [];
    if (!digests.length) cuts = cuts.concat(runCuts(text, context === MONO ? 16 : 32));
    cuts.sort(function (a, b) { return a - b; });
    var at = 0;
    var pieces = [];
    digests.forEach(function (match) {
      cuts.filter(function (cut) { return cut >= at && cut <= match.index; }).forEach(function (cut) {
        pieces.push(text.slice(at, cut), null);
        at = cut;
      });
      pieces.push(text.slice(at, match.index), match);
      at = match.index + match[0].length;
    });
    cuts.filter(function (cut) { return cut >= at; }).forEach(function (cut) {
      pieces.push(text.slice(at, cut), null);
      at = cut;
    });
    pieces.push(text.slice(at));
    pieces.forEach(function (piece) {
      if (typeof piece === "string") {
        if (piece) fragment.appendChild(document.createTextNode(piece));
      } else if (piece === null) {
        fragment.appendChild(document.createElement("wbr"));
      } else {
        for (var g = 1; g <= 4; g++) {
          if (g > 1) fragment.appendChild(document.createElement("wbr"));
          fragment.appendChild(h("span", { class: "digest-part" }, [piece[g]]));
        }
      }
    });
    return fragment;
  }

  function monoCuts(text) {
    var cuts = [];
    for (var i = 0; i < text.length - 1; i++) {
      if ("_/.-".indexOf(text[i]) >= 0 && !/\s/.test(text[i + 1])) cuts.push(i + 1);
    }
    return cuts;
  }

  function proseCuts(text) {
    var cuts = [];
    for (var i = 1; i < text.length - 1; i++) {
      if (text[i] === "_" && WORD.test(text[i - 1]) && WORD.test(text[i + 1])) cuts.push(i + 1);
    }
    return cuts;
  }

  // In a run of LENGTH or more characters with no break, one after every LENGTH of them.
  function runCuts(text, length) {
    var found = [];
    var run = 0;
    for (var i = 0; i < text.length; i++) {
      if (RUN_END.test(text[i])) {
        run = 0;
        continue;
      }
      run += 1;
      if (run > length && (run - 1) % length === 0) found.push(i);
    }
    return found;
  }

  /* --- lists: the first rows are in the page, the rest packed after the list, unpacked on demand --- */

  function nodeEntry(node, order) {
    return { node: node, order: order, text: null, data: null, kind: "" };
  }

  function makeList(el) {
    var entries = Array.from(el.children).map(nodeEntry);
    var packed = el.id ? document.querySelector('script[data-more-for="' + CSS.escape(el.id) + '"]') : null;
    var page = Number(el.getAttribute("data-page")) || entries.length || 1;
    var list = {
      el: el,
      entries: entries,
      total: entries.length + (packed ? Number(packed.getAttribute("data-count")) || 0 : 0),
      packed: packed,
      loading: null,
      page: page,
      start: 0,
      shown: page,
      filter: el.hasAttribute("data-filter"),
      noun: el.getAttribute("data-noun") || "rows",
      tally: el.hasAttribute("data-tally"),
      matched: 0,
      status: document.querySelector('[data-status-for="' + CSS.escape(el.id || "-") + '"]'),
    };
    list.matched = list.total;
    entries.forEach(function (entry) { register(list, entry); });
    lists.push(list);
    return list;
  }

  function register(list, entry) {
    var id = entry.node ? entry.node.id : ROWS[entry.kind].id(entry.data);
    if (id) byId.set(id, { list: list, entry: entry });
  }

  // The list's packed rows, unpacked once: as data its ROWS renderer draws, or as markup.
  function load(list) {
    if (!list.loading) {
      var packed = list.packed;
      // Unpacked inside the promise, so that even a browser without DecompressionStream ends in the catch.
      list.loading = packed ? Promise.resolve(packed.textContent).then(unpack).then(function (text) {
        var kind = packed.getAttribute("data-rows");
        var data = kind === "markup" ? null : JSON.parse(text);
        var more = kind === "markup" ? markupEntries(list.el, text) : fromColumns(data.columns, data.rows).map(function (row) {
          return { node: null, order: 0, text: null, data: row, kind: kind };
        });
        more.forEach(function (entry, index) {
          entry.order = list.entries.length + index;
          register(list, entry);
        });
        list.entries = list.entries.concat(more);
        packed.remove();
        list.packed = null;
      }).catch(function () {
        // A browser without DecompressionStream: the list keeps its first rows and says where the rest are.
        list.total = list.entries.length;
        list.unpacked = false;
      }) : Promise.resolve();
    }
    return list.loading;
  }

  function loadAll() {
    return Promise.all(lists.map(load));
  }

  function markupEntries(el, markup) {
    var tag = el.tagName.toLowerCase();
    var template = document.createElement("template");
    // A parser keeps table rows only inside a table; the markup is the page's own, made by the pack.
    template.innerHTML = tag === "tbody" ? "<table><tbody>" + markup + "</tbody></table>" : "<" + tag + ">" + markup + "</" + tag + ">";
    var holder = template.content.querySelector(tag);
    return Array.from(holder ? holder.children : []).map(nodeEntry);
  }

  function nodeOf(entry) {
    if (!entry.node) entry.node = ROWS[entry.kind].node(entry.data);
    return entry.node;
  }

  function listOf(el) {
    return lists.find(function (list) { return list.el === el; }) || makeList(el);
  }

  function matches(entry) {
    var data = entry.node ? entry.node.dataset : ROWS[entry.kind].attrs(entry.data);
    if (state.loop && data.loop !== state.loop) return false;
    if (state.provider && data.provider !== state.provider) return false;
    if (state.severity && data.severity !== state.severity) return false;
    if (!state.terms.length) return true;
    if (entry.text === null) entry.text = searchText(entry);
    return state.terms.every(function (term) { return entry.text.indexOf(term) >= 0; });
  }

  // A table row is searched by the text of its item's card, so the row and the card always agree;
  // a row still packed, by every text it holds.
  function searchText(entry) {
    if (!entry.node) return flatText(entry.data).toLowerCase();
    var node = entry.node;
    var card = node.getAttribute("data-item") ? byId.get(node.getAttribute("data-item")) : null;
    if (card && !card.entry.node) return searchText(card.entry);
    return (card ? card.entry.node : node).textContent.toLowerCase();
  }

  function flatText(value) {
    return Array.isArray(value) ? value.map(flatText).join(" ") : String(value);
  }

  function filtering() {
    return Boolean(state.loop || state.provider || state.severity || state.terms.length);
  }

  function visible(list) {
    return list.filter ? list.entries.filter(matches) : list.entries;
  }

  // The rows from list.start (past 0 only when a permalink led far into the list), list.shown of them.
  function render(list) {
    var shown = visible(list);
    var fragment = document.createDocumentFragment();
    shown.slice(list.start, list.start + list.shown).forEach(function (entry) {
      fragment.appendChild(nodeOf(entry));
    });
    list.el.replaceChildren(fragment);
    Array.from(list.el.children).forEach(enhance);
    list.matched = shown.length;
    showStatus(list, Math.min(list.start + list.shown, shown.length), shown.length);
  }

  /* --- the line under a list: how much of it is shown, and a button for more --- */

  function statusOf(list) {
    if (list.status) return list.status;
    var status = document.createElement("p");
    status.className = "list-status";
    var anchor = list.el.closest(".table-wrap") || list.el.closest("table") || list.el;
    anchor.after(status);
    list.status = status;
    return status;
  }

  // SHOWN: the position of the last row shown (the rows before list.start are not shown).
  function showStatus(list, shown, matched) {
    var total = list.total;
    if (!list.status && shown === total && !list.start) return;
    var status = statusOf(list);
    var words = [];
    if (list.filter && filtering()) {
      words.push(matched ? fmt(matched) + " of " + fmt(total) + " " + list.noun + " match the filters." : "No " + list.noun.replace(/s$/, "") + " matches the filters.");
    }
    if (list.start) words.push("Showing " + fmt(list.start + 1) + " to " + fmt(shown) + " of " + fmt(matched) + ".");
    else if (shown < matched) words.push("Showing " + fmt(shown) + " of " + fmt(matched) + ".");
    status.hidden = words.length === 0;
    var text = document.createElement("span");
    text.textContent = words.join(" ") + " ";
    status.replaceChildren(text);
    if (shown < matched) status.appendChild(moreButton(list, matched - shown));
    if (list.start) status.appendChild(firstButton(list));
    if (list.unpacked === false) {
      var note = document.createElement("span");
      note.textContent = "This browser could not unpack the other rows of this list; summary.json and open-items.csv hold every one.";
      status.hidden = false;
      status.appendChild(note);
    }
  }

  function firstButton(list) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "more";
    button.textContent = "Show from the first";
    button.addEventListener("click", function () {
      list.start = 0;
      list.start = 0;
      list.shown = list.page;
      render(list);
      checkOverflow();
      var again = list.status.querySelector("button");
      (again || list.status).focus();
    });
    return button;
  }

  function moreButton(list, left) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "more";
    button.textContent = "Show " + fmt(Math.min(left, list.page)) + " more";
    button.addEventListener("click", function () {
      button.disabled = true;
      load(list).then(function () {
        list.shown += list.page;
        render(list);
        checkOverflow();
        var again = list.status.querySelector("button");
        (again || list.status).focus();
      });
    });
    return button;
  }

  /* --- filters: loop, provider, severity and free text, over every filterable list --- */

  function setupFilters() {
    var form = document.querySelector("form[data-filters]");
    if (!form) return;
    form.hidden = false;
    var apply = function () { applyFilters(form); };
    var typed = debounce(apply, 150);
    form.addEventListener("input", function (event) {
      if (event.target.type === "search") typed();
      else apply();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply();
    });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
  }

  function readFilters(form) {
    var value = function (name) {
      var field = form.elements.namedItem(name);
      return field ? field.value : "";
    };
    state.loop = value("loop");
    state.provider = value("provider");
    state.severity = value("severity");
    state.terms = value("text").toLowerCase().split(/\s+/).filter(Boolean);
  }

  // Every row of every list is unpacked first, so a filter always sees all of them.
  function applyFilters(form) {
    return loadAll().then(function () { filterLists(form); });
  }

  function filterLists(form) {
    readFilters(form);
    lists.forEach(function (list) {
      if (!list.filter) return;
      list.start = 0;
      list.shown = list.page;
      render(list);
    });
    document.querySelectorAll("[data-filter-group]").forEach(function (group) {
      var mine = lists.filter(function (list) { return list.filter && group.contains(list.el); });
      group.hidden = mine.length > 0 && mine.every(function (list) { return list.matched === 0; });
    });
    checkOverflow();
    var summary = form.querySelector("[data-filter-summary]");
    if (summary) summary.textContent = tally();
  }

  function tally() {
    var counts = new Map();
    lists.forEach(function (list) {
      if (!list.filter || !list.tally) return;
      var count = counts.get(list.noun) || [0, 0];
      counts.set(list.noun, [count[0] + list.matched, count[1] + list.total]);
    });
    var parts = [];
    counts.forEach(function (count, noun) {
      parts.push(fmt(count[0]) + " of " + fmt(count[1]) + " " + noun);
    });
    return filtering() ? "Showing " + parts.join(", ") + "." : "Showing everything: " + parts.join(", ") + ".";
  }

  /* --- sorting: any table by any column; the rows kept for later are sorted too --- */

  function setupSorting() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.closest(".visually-hidden") || !table.tHead || !table.tBodies.length) return;
      Array.from(table.tHead.rows[0].cells).forEach(function (th, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.append.apply(button, Array.from(th.childNodes));
        var icon = document.createElement("span");
        icon.className = "sort-icon";
        icon.setAttribute("aria-hidden", "true");
        button.appendChild(icon);
        th.appendChild(button);
        button.addEventListener("click", function () {
          var list = listOf(table.tBodies[0]);
          load(list).then(function () { sortBy(table, th, index, list); });
        });
      });
    });
  }

  function sortKey(node, index) {
    var cell = node.cells ? node.cells[index] : null;
    if (!cell) return "";
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var number = /^-?\d[\d,]*(\.\d+)?( B)?$/.test(raw) ? Number(raw.replace(/,|( B)$/g, "")) : NaN;
    return isNaN(number) ? raw : number;
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return a.localeCompare(b, "en", { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, th, index, list) {
    var descending = th.getAttribute("aria-sort") === "ascending";
    Array.from(th.parentNode.cells).forEach(function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var keyed = list.entries.map(function (entry) { return [sortKey(nodeOf(entry), index), entry]; });
    keyed.sort(function (a, b) {
      return (descending ? -1 : 1) * compare(a[0], b[0]) || a[1].order - b[1].order;
    });
    list.entries = keyed.map(function (pair) { return pair[1]; });
    render(list);
    announce("Sorted by " + th.textContent.trim() + (descending ? ", descending." : ", ascending."));
  }

  /* --- tables and wide charts scroll sideways on a narrow screen, and can then be focused --- */

  function wrapTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.closest(".visually-hidden") || table.parentElement.classList.contains("table-wrap")) return;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.before(wrap);
      wrap.appendChild(table);
    });
    window.addEventListener("resize", debounce(checkOverflow, 150));
  }

  function checkOverflow() {
    document.querySelectorAll(".table-wrap, .chart-scroll").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", regionLabel(wrap));
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  function regionLabel(wrap) {
    var figure = wrap.closest("figure");
    var heading = figure ? figure.querySelector("figcaption strong") : null;
    var scope = wrap.closest("[data-filter-group], section");
    heading = heading || (scope ? scope.querySelector("h2, h3") : null);
    return (heading ? heading.textContent.trim() : "Table") + " (scrolls sideways)";
  }

  /* --- evidence records: the full records, embedded as packed JSON, shown as text on demand --- */

  function loadRecords() {
    if (records === null) {
      var island = document.getElementById("evidence-records");
      records = (island ? Promise.resolve(island.textContent).then(unpack).then(JSON.parse) : Promise.resolve({})).catch(function () {
        return {};
      });
    }
    return records;
  }

  function enhance(node) {
    if (!(node instanceof Element) || !document.getElementById("evidence-records")) return;
    var found = node.matches("ul.evidence") ? [node] : Array.from(node.querySelectorAll("ul.evidence"));
    found.forEach(function (list) {
      if (enhanced.has(list)) return;
      enhanced.add(list);
      if (list.querySelector("li[data-record]")) addRecordsButton(list);
    });
  }

  function addRecordsButton(list) {
    var count = list.querySelectorAll("li[data-record]").length;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "show-records";
    button.setAttribute("aria-expanded", "false");
    button.textContent = "Show the evidence records (" + count + ")";
    list.after(button);
    button.addEventListener("click", function () { toggleRecords(button, list, count); });
  }

  function toggleRecords(button, list, count) {
    var panel = button.nextElementSibling;
    if (!panel || !panel.classList.contains("records")) {
      panel = h("div", { class: "records", id: "records-" + (++panels), "aria-busy": "true" });
      button.after(panel);
      button.setAttribute("aria-controls", panel.id);
      loadRecords().then(function (data) { fillRecords(panel, list, data); });
    }
    var open = button.getAttribute("aria-expanded") !== "true";
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = (open ? "Hide" : "Show") + " the evidence records (" + count + ")";
  }

  function fillRecords(panel, list, data) {
    list.querySelectorAll("li[data-record]").forEach(function (li) {
      var id = li.getAttribute("data-record");
      var figure = document.createElement("figure");
      var caption = document.createElement("figcaption");
      caption.textContent = li.textContent;
      figure.appendChild(caption);
      var body = document.createElement(Object.prototype.hasOwnProperty.call(data, id) ? "pre" : "p");
      body.textContent = body.tagName === "PRE" ? JSON.stringify(data[id], null, 2) : "This record is not embedded in the page.";
      if (body.tagName === "PRE") body.tabIndex = 0;
      figure.appendChild(body);
      panel.appendChild(figure);
    });
    panel.removeAttribute("aria-busy");
  }

  /* --- permalinks: #<item id> shows the item, wherever it is in a long or filtered list --- */

  // An id not in the page yet may be packed: every list is unpacked before it is looked for again.
  function reveal(id) {
    var found = byId.get(id);
    var ready = found ? Boolean(found.entry.node && found.entry.node.isConnected) : document.getElementById(id) !== null;
    if (ready) show(id);
    else loadAll().then(function () { show(id); });
  }

  function show(id) {
    var found = byId.get(id);
    if (found && !(found.entry.node && found.entry.node.isConnected)) bringIntoList(found.list, found.entry);
    var target = document.getElementById(id);
    if (!target) return;
    target.scrollIntoView({ block: "start" });
    document.querySelectorAll(".is-target").forEach(function (el) { el.classList.remove("is-target"); });
    target.classList.add("is-target");
    if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
    target.focus({ preventScroll: true });
  }

  function bringIntoList(list, entry) {
    var form = document.querySelector("form[data-filters]");
    if (list.filter && !matches(entry) && form) {
      form.reset();
      filterLists(form);
    }
    // A row far down a long list is shown with the page of rows it is in, not every row before it.
    var index = visible(list).indexOf(entry);
    if (index < list.start || index >= list.start + list.shown) {
      list.start = Math.floor(index / list.page) * list.page;
      list.shown = list.page;
    }
    render(list);
  }

  function hashTarget() {
    try {
      return decodeURIComponent(location.hash.slice(1));
    } catch (error) {
      return "";
    }
  }

  function start() {
    document.documentElement.classList.add("js");
    wrapTables();
    document.querySelectorAll("[data-list]").forEach(function (el) {
      var list = makeList(el);
      showStatus(list, Math.min(list.shown, list.entries.length), list.total);
    });
    setupSorting();
    setupFilters();
    enhance(document.body);
    checkOverflow();
    if (location.hash) reveal(hashTarget());
    window.addEventListener("hashchange", function () { reveal(hashTarget()); });
  }

  start();
})();
