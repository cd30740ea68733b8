// etlscope view: the page. Plain DOM, no framework, no request to any other
// origin. Text from the trace is only ever set with textContent.
"use strict";

(function () {
  const token = document.querySelector('meta[name="etlscope-token"]').content;
  const pageSize = 200;
  const state = { filter: "", start: 0, total: 0, complete: false, selected: -1 };

  function $(id) { return document.getElementById(id); }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  async function api(path, params) {
    const q = new URLSearchParams(params || {});
    q.set("token", token);
    const r = await fetch(path + "?" + q.toString(), { headers: { "X-Etlscope-Token": token } });
    let body = null;
    try { body = await r.json(); } catch (e) { body = { error: r.statusText }; }
    return { ok: r.ok, status: r.status, body };
  }

  // ---- verdicts ------------------------------------------------------------


  function renderVerdicts(d) {
    const box = $("verdicts");
    box.replaceChildren();
    for (const v of d.verdicts) {
      const div = el("div", { class: "verdict", "data-kind": v.kind, "data-severity": v.severity },
        el("span", { class: "severity", text: v.severity }),
        el("span", { class: "title", text: v.title }),
        el("span", { class: "kind", text: v.kind }));
      if (v.detail) div.append(el("div", { class: "detail", text: v.detail }));
      if (v.believed) div.append(el("div", { class: "muted", text: "rests on a believed fact: " + v.believed }));
      const more = el("details", {});
      let n = 0;
      if (v.evidence && v.evidence.length) {
        const ul = el("ul", { class: "evidence" });
        for (const e of v.evidence) {
          const li = el("li", {});
          if (e.time && !e.time.startsWith("0001-")) {
            const a = el("a", { href: "#", text: e.time.replace("T", " ") });
            a.addEventListener("click", (ev) => { ev.preventDefault(); jumpToTime(e.time); });
            li.append(a, " ");
          }
          li.append(el("span", { class: "muted", text: e.source + ": " }), el("span", { text: e.text }));
          ul.append(li);
        }
        more.append(ul);
        n += v.evidence.length;
      }
      if (v.fix && v.fix.length) more.append(el("pre", { class: "fix", text: v.fix.join("\n") }));
      if (n || (v.fix && v.fix.length)) {
        more.prepend(el("summary", { text: `evidence (${n})` + (v.fix && v.fix.length ? " and fix" : "") }));
        div.append(more);
      }
      box.append(div);
    }
    const issues = (d.integrity && d.integrity.issues) || [];
    if (issues.length) {
      const ul = el("ul", {});
      for (const is of issues) ul.append(el("li", { text: is.kind + ": " + is.message }));
      const more = el("details", {}, el("summary", { text: `integrity findings (${issues.length}${d.integrity.omitted ? "+" + d.integrity.omitted : ""})` }), ul);
      box.append(el("div", { class: "integrity", "data-complete": String(d.complete) },
        el("span", { class: "title", text: d.complete ? "The file was read completely; notes from the reader:" : "The trace is incomplete: data is missing, damaged or lost, so an absence of events proves less." }), more));
    }
    box.prepend(el("div", { class: "result", "data-result": d.result, text: "Result: " + d.result }));
  }

  async function loadVerdicts() {
    const r = await api("/api/verdicts");
    if (!r.ok) {
      $("verdicts").replaceChildren(el("div", { class: "verdict", "data-severity": "unknown" },
        el("span", { class: "severity", text: "error" }), el("span", { class: "title", text: r.body.error || "diagnosis failed" })));
      return;
    }
    renderVerdicts(r.body);
  }

  // ---- events --------------------------------------------------------------

  function showFilterError(fe) {
    const box = $("filter-error");
    if (!fe) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false;
    box.textContent = fe.message + (fe.column ? "\n(column " + fe.column + ")" : "");
    const input = $("filter");
    if (fe.column) {
      input.focus();
      input.setSelectionRange(fe.column - 1, fe.column);
    }
  }

  function renderRows(p) {
    const tbody = $("events").tBodies[0];
    const rows = [];
    for (const r of p.rows) {
      const tr = el("tr", { "data-event-index": String(r.index), class: "level-" + r.level },
        el("td", { text: String(r.index) }),
        el("td", { class: "time", text: r.time.replace("T", " ") }),
        el("td", { class: "nowrap", text: r.provider }),
        el("td", { text: String(r.id) }),
        el("td", { text: String(r.pid) }),
        el("td", { text: r.description }));
      if (r.index === state.selected) tr.classList.add("selected");
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    state.total = p.total;
    state.complete = p.complete;
    const what = p.filter ? "matching events" : "events";
    const more = p.complete ? "" : "+ (still reading the trace; page on to update)";
    $("range").textContent = p.rows.length
      ? `${p.start + 1}–${p.start + p.rows.length} of ${p.total}${more} ${what}`
      : `no ${what}` + (p.complete ? "" : " yet");
    $("prev").disabled = p.start === 0;
    $("next").disabled = p.complete && p.start + p.rows.length >= p.total;
  }

  async function loadEvents(start) {
    state.start = Math.max(0, start);
    const params = { start: state.start, limit: pageSize };
    if (state.filter) params.filter = state.filter;
    const r = await api("/api/events", params);
    if (r.status === 400 && r.body.filter_error) {
      showFilterError(r.body.filter_error);
      $("events").tBodies[0].replaceChildren();
      $("range").textContent = "";
      return false;
    }
    showFilterError(null);
    if (!r.ok) { $("range").textContent = r.body.error || "error"; return false; }
    renderRows(r.body);
    return true;
  }

  function setURL() {
    const u = new URL(location.href);
    if (state.filter) u.searchParams.set("filter", state.filter); else u.searchParams.delete("filter");
    history.replaceState(null, "", u.toString());
  }

  async function selectEvent(index) {
    state.selected = index;
    for (const tr of $("events").tBodies[0].rows) {
      tr.classList.toggle("selected", Number(tr.getAttribute("data-event-index")) === index);
    }
    const r = await api("/api/event/" + index);
    const box = $("details");
    if (!r.ok) { box.replaceChildren(el("p", { text: r.body.error || "error" })); return; }
    const d = r.body;
    const head = el("table", {});
    for (const f of d.header) head.append(el("tr", {}, el("td", { text: f.name }), el("td", { text: f.value })));
    const props = el("table", {});
    for (const f of d.properties) props.append(el("tr", {}, el("td", { text: f.name }), el("td", { text: f.value })));
    box.replaceChildren(
      el("h3", { text: "Event " + d.index }),
      el("p", { text: d.description }),
      d.warning ? el("p", { class: "muted", text: "decoder: " + d.warning }) : null,
      el("h4", { text: "Header" }), head,
      el("h4", { text: "Properties (" + d.properties.length + ")" }), props,
      el("h4", { text: "Payload" }),
      d.hex_hidden ? el("p", { class: "muted", text: d.hex_hidden }) : el("pre", { class: "hex", text: d.hex || "(empty)" }));
  }

  async function jumpToIndex(index) {
    showTab("events");
    if (state.filter) { state.filter = ""; $("filter").value = ""; setURL(); }
    const start = Math.floor(index / pageSize) * pageSize;
    if (await loadEvents(start)) {
      await selectEvent(index);
      const tr = document.querySelector(`#events tr[data-event-index="${index}"]`);
      if (tr) tr.scrollIntoView({ block: "center" });
    }
  }

  async function jumpToTime(t) {
    const r = await api("/api/locate", { time: t });
    if (r.ok) await jumpToIndex(r.body.index);
  }

  // ---- conversations -------------------------------------------------------

  let convStart = -1;
  async function loadConversations(start) {
    start = Math.max(0, start || 0);
    if (convStart === start) return;
    convStart = start;
    const r = await api("/api/conversations", { start: start, limit: 500 });
    if (!r.ok) { $("conv-status").textContent = r.body.error || "error"; return; }
    const cs = r.body.conversations;
    $("conv-status").textContent = (cs.length ? `${start + 1}–${start + cs.length} of ` : "") + r.body.total + " TCP conversations" +
      (r.body.dropped ? `; ${r.body.dropped} beyond the tracker's limit were ignored` : "");
    $("conv-prev").disabled = start === 0;
    $("conv-next").disabled = start + cs.length >= r.body.total;
    const rows = [];
    for (const c of cs) {
      const first = el("a", { href: "#", text: "first packet" });
      first.addEventListener("click", (e) => { e.preventDefault(); jumpToTime(c.first_seen); });
      const during = el("a", { href: "#", text: "events during" });
      during.addEventListener("click", (e) => {
        e.preventDefault();
        applyFilter(`time >= "${c.first_seen}" && time <= "${c.last_seen}"`);
      });
      rows.push(el("tr", { class: c.failed ? "failed" : "" },
        el("td", { class: "time", text: c.first_seen.replace("T", " ") }),
        el("td", { text: c.client }), el("td", { text: c.server }), el("td", { text: c.pid }),
        el("td", { text: c.sni }), el("td", { text: c.client_max }), el("td", { text: c.offered }),
        el("td", { text: c.selected }), el("td", { text: c.cipher }), el("td", { text: c.outcome }),
        el("td", {}, first, " · ", during)));
    }
    $("conversations").tBodies[0].replaceChildren(...rows);
  }

  function showTab(name) {
    $("view-events").hidden = name !== "events";
    $("view-conversations").hidden = name !== "conversations";
    $("tab-events").classList.toggle("active", name === "events");
    $("tab-conversations").classList.toggle("active", name === "conversations");
    if (name === "conversations") loadConversations(Math.max(convStart, 0));
  }

  async function applyFilter(expr) {
    showTab("events");
    state.filter = expr.trim();
    $("filter").value = state.filter;
    setURL();
    await loadEvents(0);
  }

  async function loadSummary() {
    const r = await api("/api/summary");
    if (!r.ok) return;
    const s = r.body;
    let t = `OS build ${s.os_build} · ${s.start.replace("T", " ")} – ${s.end.replace("T", " ")} · ${(s.size / 1048576).toFixed(1)} MB`;
    t += s.done ? ` · ${s.indexed} events` : ` · indexing (${s.indexed} events so far)`;
    if (s.redacted) t += " · redacted";
    $("summary").textContent = t;
  }

  // ---- wiring --------------------------------------------------------------

  $("filter-form").addEventListener("submit", (e) => { e.preventDefault(); applyFilter($("filter").value); });
  $("filter-clear").addEventListener("click", () => applyFilter(""));
  $("prev").addEventListener("click", () => loadEvents(state.start - pageSize));
  $("next").addEventListener("click", () => loadEvents(state.start + pageSize));
  $("tab-events").addEventListener("click", () => showTab("events"));
  $("conv-prev").addEventListener("click", () => loadConversations(convStart - 500));
  $("conv-next").addEventListener("click", () => loadConversations(convStart + 500));
  $("tab-conversations").addEventListener("click", () => showTab("conversations"));
  $("events").tBodies[0].addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-event-index]");
    if (tr) selectEvent(Number(tr.getAttribute("data-event-index")));
  });

  state.filter = new URLSearchParams(location.search).get("filter") || "";
  $("filter").value = state.filter;
  loadSummary();
  loadVerdicts();
  loadEvents(0);
})();
