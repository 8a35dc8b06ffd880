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

  /* --- lists: the first rows are in the page, the rest wait in a <template> after the list --- */

  function entriesOf(el) {
    var nodes = Array.from(el.children);
    var tpl = el.id ? document.querySelector('template[data-more-for="' + CSS.escape(el.id) + '"]') : null;
    if (tpl) {
      // The template holds a whole table (or list) so that every HTML parser keeps the rows inside it.
      var holder = tpl.content.querySelector("tbody") || tpl.content.firstElementChild;
      nodes = nodes.concat(Array.from(holder ? holder.children : []));
      tpl.remove();
    }
    return nodes.map(function (node, order) {
      return { node: node, order: order, text: null };
    });
  }

  function makeList(el) {
    var entries = entriesOf(el);
    var page = Number(el.getAttribute("data-page")) || entries.length || 1;
    var list = {
      el: el,
      entries: entries,
      page: page,
      shown: page,
      filter: el.hasAttribute("data-filter"),
      noun: el.getAttribute("data-noun") || "rows",
      tally: el.hasAttribute("data-tally"),
      matched: entries.length,
      status: document.querySelector('[data-status-for="' + CSS.escape(el.id || "-") + '"]'),
    };
    entries.forEach(function (entry) {
      if (entry.node.id) byId.set(entry.node.id, { list: list, entry: entry });
    });
    lists.push(list);
    return list;
  }

  function listOf(el) {
    return lists.find(function (list) { return list.el === el; }) || makeList(el);
  }

  function matches(entry) {
    var data = entry.node.dataset;
    if (state.loop && data.loop !== state.loop) return false;
    if (state.provider && data.provider !== state.provider) return false;
    if (state.severity && data.severity !== state.severity) return false;
    if (!state.terms.length) return true;
    if (entry.text === null) entry.text = searchText(entry.node);
    return state.terms.every(function (term) { return entry.text.indexOf(term) >= 0; });
  }

  // A table row is searched by the text of its item's card, so the row and the card always agree.
  function searchText(node) {
    var card = node.getAttribute("data-item") ? byId.get(node.getAttribute("data-item")) : null;
    return (card ? card.entry.node : node).textContent.toLowerCase();
  }

  function filtering() {
    return Boolean(state.loop || state.provider || state.severity || state.terms.length);
  }

  function visible(list) {
    return list.filter ? list.entries.filter(matches) : list.entries;
  }

  function render(list) {
    var shown = visible(list);
    var fragment = document.createDocumentFragment();
    shown.slice(0, list.shown).forEach(function (entry) {
      fragment.appendChild(entry.node);
    });
    list.el.replaceChildren(fragment);
    Array.from(list.el.children).forEach(enhance);
    list.matched = shown.length;
    showStatus(list, Math.min(list.shown, shown.length), shown.length);
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

  function showStatus(list, shown, matched) {
    var total = list.entries.length;
    if (!list.status && shown === total) return;
    var status = statusOf(list);
    var words = [];
    if (list.filter && filtering()) {
      words.push(matched ? fmt(matched) + " of " + fmt(total) + " " + list.noun + " match the filters." : "No " + list.noun.replace(/s$/, "") + " matches the filters.");
    }
    if (shown < matched) words.push("Showing " + fmt(shown) + " of " + fmt(matched) + ".");
    status.hidden = words.length === 0;
    var text = document.createElement("span");
    text.textContent = words.join(" ") + " ";
    status.replaceChildren(text);
    if (shown < matched) status.appendChild(moreButton(list, matched - shown));
  }

  function moreButton(list, left) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "more";
    button.textContent = "Show " + fmt(Math.min(left, list.page)) + " more";
    button.addEventListener("click", function () {
      list.shown += list.page;
      render(list);
      checkOverflow();
      var again = list.status.querySelector("button");
      (again || list.status).focus();
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

  function applyFilters(form) {
    readFilters(form);
    lists.forEach(function (list) {
      if (!list.filter) return;
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
      counts.set(list.noun, [count[0] + list.matched, count[1] + list.entries.length]);
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
        button.addEventListener("click", function () { sortBy(table, th, index); });
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

  function sortBy(table, th, index) {
    var descending = th.getAttribute("aria-sort") === "ascending";
    Array.from(th.parentNode.cells).forEach(function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var list = listOf(table.tBodies[0]);
    var keyed = list.entries.map(function (entry) { return [sortKey(entry.node, index), entry]; });
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

  /* --- evidence records: the full records, embedded as JSON, shown as text on demand --- */

  function loadRecords() {
    if (records === null) {
      var island = document.getElementById("evidence-records");
      try {
        records = island ? JSON.parse(island.textContent) : {};
      } catch (error) {
        records = {};
      }
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
      panel = recordsPanel(list);
      button.after(panel);
      button.setAttribute("aria-controls", panel.id);
    }
    var open = button.getAttribute("aria-expanded") !== "true";
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = (open ? "Hide" : "Show") + " the evidence records (" + count + ")";
  }

  function recordsPanel(list) {
    var data = loadRecords();
    var panel = document.createElement("div");
    panel.className = "records";
    panel.id = "records-" + (++panels);
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
    return panel;
  }

  /* --- permalinks: #<item id> shows the item, wherever it is in a long or filtered list --- */

  function reveal(id) {
    var found = byId.get(id);
    if (found && !found.entry.node.isConnected) bringIntoList(found.list, found.entry);
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
      applyFilters(form);
    }
    var index = visible(list).indexOf(entry);
    if (index >= list.shown) list.shown = Math.ceil((index + 1) / list.page) * list.page;
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
      showStatus(list, Math.min(list.shown, list.entries.length), list.entries.length);
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
