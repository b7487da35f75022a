// SLA board: plain JavaScript + SVG over the GraphQL API at /graphql (no libraries, no build).
// Each panel loads and fails on its own; a missing or refused token shows one clear banner.
"use strict";

const TOKEN_KEY = "slarules.token";
const PAGE_SIZE = 50;
const MET_TODAY_PAGE = 500;
const MET_TODAY_MAX_PAGES = 10;
const SVG_NS = "http://www.w3.org/2000/svg";
const METRIC_NAMES = {
  FIRST_RESPONSE: "First response", NEXT_RESPONSE: "Next response",
  PERIODIC_RESPONSE: "Periodic response", REQUESTER_WAIT: "Requester wait",
  AGENT_WORK: "Agent work", RESOLUTION: "Resolution",
};
const TONES = {
  breached: "Breached", warned: "At risk", fine: "On track", paused: "Paused", met: "Met",
};
const MARK_NAMES = {
  started: "started", paused: "paused", resumed: "resumed", warned: "warned",
  breached: "breached", stopped: "stopped",
};

const board = {
  token: localStorage.getItem(TOKEN_KEY) || "",
  levels: new Map(),        // name -> {name, title, calendar}
  rows: new Map(),          // ticket id -> {tr, ticket, cycle, deadline}
  endCursor: null,
  listGeneration: 0,
  selected: null,
  ws: null,
  wsRetry: 0,
  wsTimer: null,
  countsTimer: null,
  firstRenderMs: null,
  alertsSeen: new Set(),
};
window.slaBoard = board; // for tests and the curious (board.refresh reloads every panel)

// -- small helpers --------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
}

function $(sel) { return document.querySelector(sel); }

class BoardError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

function authHeaders() {
  return board.token ? { Authorization: `Bearer ${board.token}` } : {};
}

async function gql(query, variables) {
  let resp;
  try {
    resp = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch (e) {
    throw new BoardError("NETWORK", `the server cannot be reached (${e.message})`);
  }
  let body;
  try {
    body = await resp.json();
  } catch (e) {
    throw new BoardError("HTTP", `the server answered HTTP ${resp.status} without GraphQL data`);
  }
  if (body.errors && body.errors.length) {
    const err = body.errors[0];
    const code = (err.extensions && err.extensions.code) || "ERROR";
    throw new BoardError(code, err.message);
  }
  if (!resp.ok || !body.data) throw new BoardError("HTTP", `the server answered HTTP ${resp.status}`);
  return body.data;
}

function isAuthError(e) { return e && (e.code === "UNAUTHENTICATED" || e.code === "FORBIDDEN"); }

function showAuth(e) {
  const banner = $("#auth-message");
  if (!e) { banner.hidden = true; banner.textContent = ""; return; }
  let text;
  if (e.code === "FORBIDDEN") {
    text = "This token may not read the board (it needs the read role). Enter another token above.";
  } else if (board.token) {
    text = "The server refused the token: it is unknown or has expired. Enter a valid API token above.";
  } else {
    text = "This server needs an API token. Enter one above to see the board.";
  }
  banner.textContent = text;
  banner.dataset.code = e.code;
  banner.hidden = false;
}

function panelStatus(panel, text, isError) {
  const p = typeof panel === "string" ? $(`#${panel} .panel-status`) : panel;
  p.textContent = text || "";
  p.classList.toggle("error", Boolean(isError));
}

function panelError(panel, what, e) {
  if (isAuthError(e)) showAuth(e);
  const why = isAuthError(e) ? "not authorised (see the message at the top)" : e.message;
  panelStatus(panel, `Could not load ${what}: ${why}`, true);
}

function pad(n) { return String(n).padStart(2, "0"); }

function localIso(d) {
  // RFC 3339 with the browser's offset (the API rejects naive date-times)
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
    `${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }
function dateInput(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function parseDateInput(s) { const [y, m, d] = s.split("-").map(Number); return new Date(y, m - 1, d); }

function fmtDuration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${h}h ${pad(m)}m`;
  if (h) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  return `${m}m ${pad(sec)}s`;
}

function fmtTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

function metricName(m) { return METRIC_NAMES[m] || m; }

// -- token ----------------------------------------------------------------------------

function setToken(token) {
  board.token = token;
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  showAuth(null);
  refreshAll();
  connectLive();
}

// -- filters & exports ----------------------------------------------------------------

function currentFilter() {
  const form = $("#filters");
  const f = {};
  for (const key of ["level", "department", "assignee", "metric"]) {
    const v = form.elements[key].value.trim();
    if (v) f[key] = v;
  }
  return f;
}

function filtersFromUrl() {
  const q = new URLSearchParams(location.search);
  const form = $("#filters");
  for (const key of ["level", "department", "assignee", "metric"]) {
    const v = q.get(key);
    if (!v) continue;
    const input = form.elements[key];
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === v)) {
      input.append(el("option", { value: v, text: v }));
    }
    input.value = v;
  }
}

function filtersToUrl(f) {
  const q = new URLSearchParams(f);
  const url = q.toString() ? `${location.pathname}?${q}` : location.pathname;
  history.replaceState(null, "", url);
}

function updateExportLinks() {
  const f = currentFilter();
  const log = new URLSearchParams();
  for (const key of ["department", "assignee", "level"]) if (f[key]) log.set(key, f[key]);
  if (f.metric) log.set("metric", f.metric.toLowerCase());
  $("#export-log").href = `/export/sla-log.csv${log.toString() ? `?${log}` : ""}`;
  const range = complianceRange();
  const comp = new URLSearchParams();
  if (range) {
    comp.set("from", localIso(range.from));
    comp.set("to", localIso(range.to));
    comp.set("group_by", range.group.toLowerCase());
  }
  $("#export-compliance").href = `/export/compliance.csv${comp.toString() ? `?${comp}` : ""}`;
}

async function downloadExport(ev) {
  // a plain link cannot send the bearer token: fetch with it and save the blob
  if (!board.token) return; // no token configured: the link works as it is
  ev.preventDefault();
  const link = ev.currentTarget;
  const status = $("#filters-status");
  try {
    const resp = await fetch(link.href, { headers: authHeaders() });
    if (!resp.ok) {
      let msg = `HTTP ${resp.status}`;
      try { const b = await resp.json(); msg = b.error || msg; if (b.code) showAuth(new BoardError(b.code, msg)); } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    const url = URL.createObjectURL(await resp.blob());
    const a = el("a", { href: url, download: link.pathname.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    panelStatus(status, "");
  } catch (e) {
    panelStatus(status, `Export failed: ${e.message}`, true);
  }
}

// -- ruleset (levels for the filter, calendars for the timeline) ----------------------

async function loadRuleset() {
  const status = $("#filters-status");
  try {
    const data = await gql("{ ruleset { version levels { name title calendar } } }");
    const select = $("#f-level");
    const chosen = select.value;
    for (const opt of [...select.options]) if (opt.value) opt.remove();
    board.levels.clear();
    for (const lv of data.ruleset.levels) {
      board.levels.set(lv.name, lv);
      select.append(el("option", { value: lv.name, text: lv.title ? `${lv.title} (${lv.name})` : lv.name }));
    }
    if (chosen && ![...select.options].some((o) => o.value === chosen)) {
      select.append(el("option", { value: chosen, text: chosen }));
    }
    select.value = chosen;
    select.dataset.version = data.ruleset.version;
    panelStatus(status, "");
  } catch (e) {
    panelError(status, "the levels", e);
  }
}

// -- counts ---------------------------------------------------------------------------

const COUNTS_QUERY = `query($a: SlaLogFilter, $p: SlaLogFilter, $b: SlaLogFilter) {
  active: slaLog(filter: $a, first: 0) { totalCount }
  paused: slaLog(filter: $p, first: 0) { totalCount }
  breached: slaLog(filter: $b, first: 0) { totalCount } }`;
const MET_QUERY = `query($f: SlaLogFilter, $first: Int, $after: String) {
  slaLog(filter: $f, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { stoppedAt } } } }`;

async function metToday(f) {
  // met cycles newest stop first: count until the first stop before today's start
  const since = startOfDay(new Date()).getTime();
  const filter = { ...f, state: "MET", orderBy: "stopped_at", descending: true };
  let after = null, n = 0;
  for (let page = 0; page < MET_TODAY_MAX_PAGES; page++) {
    const data = await gql(MET_QUERY, { f: filter, first: MET_TODAY_PAGE, after });
    for (const e of data.slaLog.edges) {
      if (!e.node.stoppedAt || Date.parse(e.node.stoppedAt) < since) return String(n);
      n += 1;
    }
    if (!data.slaLog.pageInfo.hasNextPage) return String(n);
    after = data.slaLog.pageInfo.endCursor;
  }
  return `${n}+`;
}

async function loadCounts() {
  const panel = "counts-panel";
  const f = currentFilter();
  const vars = { a: { ...f, state: "ACTIVE" }, p: { ...f, state: "PAUSED" }, b: { ...f, state: "BREACHED" } };
  const [main, met] = await Promise.allSettled([gql(COUNTS_QUERY, vars), metToday(f)]);
  const errors = [];
  if (main.status === "fulfilled") {
    $("#count-active").textContent = main.value.active.totalCount;
    $("#count-paused").textContent = main.value.paused.totalCount;
    $("#count-breached").textContent = main.value.breached.totalCount;
  } else {
    for (const id of ["#count-active", "#count-paused", "#count-breached"]) $(id).textContent = "?";
    errors.push(main.reason);
  }
  if (met.status === "fulfilled") $("#count-met-today").textContent = met.value;
  else { $("#count-met-today").textContent = "?"; errors.push(met.reason); }
  if (errors.length) panelError(panel, "the counts", errors[0]);
  else panelStatus(panel, "");
  $("#counts-panel").dataset.loaded = String(Date.now());
}

function scheduleCounts() {
  clearTimeout(board.countsTimer);
  board.countsTimer = setTimeout(loadCounts, 800);
}

// -- open cycles list -----------------------------------------------------------------

const TICKET_FIELDS = `id fields level { name title calendar }
  cycles { metric index state startedAt stoppedAt dueAt breachedAt targetSeconds
           elapsedSeconds remainingSeconds warnings { at } }`;
const LIST_QUERY = `query($filter: TicketFilter, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${TICKET_FIELDS} } } } }`;

function openCycles(ticket, metric) {
  return ticket.cycles.filter((c) => !c.stoppedAt && (!metric || c.metric === metric));
}

function primaryCycle(cycles) {
  // the open cycle due first (breached ones have their breach instant as due), paused last
  let best = null;
  for (const c of cycles) {
    if (!best) { best = c; continue; }
    const a = c.dueAt ? Date.parse(c.dueAt) : Infinity;
    const b = best.dueAt ? Date.parse(best.dueAt) : Infinity;
    if (a < b) best = c;
  }
  return best;
}

function toneOf(cycle, remaining) {
  if (cycle.state === "BREACHED" || (cycle.state === "ACTIVE" && remaining !== null && remaining < 0)) return "breached";
  if (cycle.state === "PAUSED") return "paused";
  if (cycle.state === "MET") return "met";
  if (cycle.warnings && cycle.warnings.length) return "warned";
  return "fine";
}

function remainingNow(row) {
  if (row.cycle.state !== "ACTIVE" && row.cycle.state !== "BREACHED") return row.cycle.remainingSeconds;
  return (row.deadline - Date.now()) / 1000;
}

function renderRemaining(row) {
  const td = row.tr.querySelector(".remaining");
  const badge = row.tr.querySelector(".badge");
  const rem = remainingNow(row);
  let tone = toneOf(row.cycle, row.cycle.state === "ACTIVE" ? rem : null);
  // an alert for the shown cycle counts at once, before the refreshed figures arrive
  const alerted = row.alert && row.alert.metric === row.cycle.metric && row.alert.index === row.cycle.index
    ? row.alert.tone : null;
  if (alerted === "breached" || (alerted === "warned" && tone === "fine")) tone = alerted;
  if (row.cycle.state === "PAUSED") td.textContent = `${fmtDuration(rem)} left (paused)`;
  else if (rem < 0) td.textContent = `overdue ${fmtDuration(rem)}`;
  else td.textContent = `${fmtDuration(rem)} left`;
  td.classList.toggle("overdue", rem < 0);
  if (badge.dataset.tone !== tone) {
    badge.dataset.tone = tone;
    badge.textContent = TONES[tone];
    row.tr.dataset.tone = tone;
  }
}

function buildRow(ticket, cycle, others) {
  const fields = ticket.fields || {};
  const button = el("button", {
    type: "button", class: "ticket-link", "data-ticket": ticket.id,
    "aria-label": `Ticket ${ticket.id}: show its timeline`, text: ticket.id,
  });
  button.addEventListener("click", () => openTimeline(ticket.id, button));
  const subject = fields.subject ? el("span", { class: "others", text: String(fields.subject) }) : null;
  const otherText = others.length
    ? `also: ${others.map((c) => `${metricName(c.metric)} ${c.dueAt ? `due ${fmtTime(c.dueAt)}` : c.state.toLowerCase()}`).join("; ")}`
    : null;
  const tr = el("tr", {
    "data-ticket": ticket.id, "data-metric": cycle.metric, "data-state": cycle.state,
    "data-due": cycle.dueAt || "",
  },
  el("td", {}, button, subject),
  el("td", {}, el("span", { class: "badge" })),
  el("td", {}, metricName(cycle.metric), otherText ? el("span", { class: "others", text: otherText }) : null),
  el("td", {}, cycle.dueAt ? el("time", { datetime: cycle.dueAt, text: fmtTime(cycle.dueAt) }) : "— (paused)"),
  el("td", { class: "remaining" }),
  el("td", { text: ticket.level ? ticket.level.name : "none" }),
  el("td", { text: fields.assignee || "—" }),
  el("td", { text: fields.department || "—" }));
  if (board.selected === ticket.id) tr.classList.add("selected");
  return tr;
}

function rowFor(ticket) {
  const metric = currentFilter().metric;
  const open = openCycles(ticket, metric);
  const cycle = primaryCycle(open);
  if (!cycle) return null;
  const others = open.filter((c) => c !== cycle);
  const row = {
    ticket, cycle, tr: buildRow(ticket, cycle, others),
    deadline: Date.now() + cycle.remainingSeconds * 1000,
  };
  renderRemaining(row);
  return row;
}

async function loadList(reset) {
  const panel = "list-panel";
  const generation = reset ? ++board.listGeneration : board.listGeneration;
  const tbody = $("#cycles tbody");
  const more = $("#load-more");
  if (reset) board.endCursor = null;
  panelStatus(panel, "Loading…");
  more.disabled = true;
  try {
    const data = await gql(LIST_QUERY, { filter: currentFilter(), first: PAGE_SIZE, after: board.endCursor });
    if (generation !== board.listGeneration) return; // filters changed meanwhile
    const conn = data.tickets;
    if (reset) { tbody.replaceChildren(); board.rows.clear(); }
    let hidden = 0;
    const frag = document.createDocumentFragment();
    for (const edge of conn.edges) {
      const row = rowFor(edge.node);
      if (!row) { hidden += 1; continue; }
      board.rows.set(edge.node.id, row);
      frag.append(row.tr);
    }
    tbody.append(frag);
    board.endCursor = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
    $("#list-summary").textContent =
      `Showing ${board.rows.size} ticket${board.rows.size === 1 ? "" : "s"} with open cycles ` +
      `(${conn.totalCount} ticket${conn.totalCount === 1 ? "" : "s"} match the filters` +
      `${hidden ? `; ${hidden} on this page have no open cycle` : ""}).`;
    panelStatus(panel, board.rows.size ? "" : "No open cycles match the filters.");
    $("#list-panel").dataset.loaded = String(Date.now());
    if (board.firstRenderMs === null) {
      board.firstRenderMs = Math.round(performance.now());
      document.body.dataset.firstRenderMs = String(board.firstRenderMs);
    }
  } catch (e) {
    if (generation === board.listGeneration) panelError(panel, "the open cycles", e);
  } finally {
    more.disabled = false;
  }
}

async function refreshTicketRow(id) {
  const row = board.rows.get(id);
  if (!row) return;
  try {
    const data = await gql(`query($id: ID!) { ticket(id: $id) { ${TICKET_FIELDS} } }`, { id });
    const fresh = data.ticket && rowFor(data.ticket);
    if (!fresh) { row.tr.remove(); board.rows.delete(id); return; }
    fresh.alert = row.alert;
    renderRemaining(fresh);
    row.tr.replaceWith(fresh.tr);
    board.rows.set(id, fresh);
  } catch (e) {
    panelError("list-panel", `ticket ${id}`, e);
  }
}

function tick() {
  for (const row of board.rows.values()) renderRemaining(row);
}

function listKeys(ev) {
  // Up/Down move between ticket buttons, like a list
  if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
  const buttons = [...document.querySelectorAll("#cycles .ticket-link")];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  const next = buttons[i + (ev.key === "ArrowDown" ? 1 : -1)];
  if (next) { next.focus(); ev.preventDefault(); }
}

// -- compliance -----------------------------------------------------------------------

function complianceRange() {
  const form = $("#compliance-form");
  const from = form.elements.from.value, to = form.elements.to.value;
  if (!from || !to) return null;
  const end = parseDateInput(to);
  end.setDate(end.getDate() + 1); // the "to" day is included
  return { from: parseDateInput(from), to: end, group: form.elements.group.value };
}

const COMPLIANCE_QUERY = `query($from: DateTime!, $to: DateTime!, $groupBy: [ComplianceDimension!]!) {
  compliance(from: $from, to: $to, groupBy: $groupBy) {
    day department assignee level metric metCount breachedCount serviceLevel } }`;

function groupLabel(row, group) {
  const v = row[group.toLowerCase()];
  if (v === null || v === undefined || v === "") return "(none)";
  return group === "METRIC" ? metricName(v) : String(v);
}

async function loadCompliance() {
  const panel = "compliance-panel";
  const range = complianceRange();
  updateExportLinks();
  if (!range || range.to <= range.from) {
    panelStatus(panel, "Choose a range whose start is not after its end.", true);
    return;
  }
  panelStatus(panel, "Loading…");
  try {
    const data = await gql(COMPLIANCE_QUERY, {
      from: localIso(range.from), to: localIso(range.to), groupBy: [range.group],
    });
    let rows = data.compliance.map((r) => ({ ...r, label: groupLabel(r, range.group) }));
    if (range.group === "DAY") rows = fillDays(rows, range);
    rows.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    renderComplianceChart(rows, range.group);
    renderComplianceTable(rows);
    panelStatus(panel, rows.some((r) => r.metCount + r.breachedCount) ? "" : "No finished cycles started in this range.");
    $("#compliance-panel").dataset.loaded = String(Date.now());
  } catch (e) {
    $("#compliance-chart").replaceChildren(); // never leave a stale chart beside an error
    $("#compliance-table tbody").replaceChildren();
    panelError(panel, "the compliance report", e);
  }
}

function fillDays(rows, range) {
  // one bar per day of the range, empty days included (at most 62 shown)
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out = [];
  for (let d = new Date(range.from); d < range.to && out.length < 62; d.setDate(d.getDate() + 1)) {
    const key = dateInput(d);
    out.push(byDay.get(key) || { day: key, label: key, metCount: 0, breachedCount: 0, serviceLevel: null });
    byDay.delete(key);
  }
  for (const r of byDay.values()) out.push(r); // days in the ruleset's zone outside the local range
  return out;
}

function renderComplianceTable(rows) {
  const tbody = $("#compliance-table tbody");
  tbody.replaceChildren(...rows.map((r) => el("tr", {},
    el("th", { scope: "row", text: r.label }),
    el("td", { text: r.metCount }), el("td", { text: r.breachedCount }),
    el("td", { text: r.serviceLevel === null ? "—" : `${r.serviceLevel.toFixed(1)} %` }))));
}

function renderComplianceChart(rows, group) {
  const W = 760, H = 280, M = { l: 44, r: 48, t: 24, b: group === "DAY" ? 64 : 48 };
  const pw = W - M.l - M.r, ph = H - M.t - M.b;
  const maxCount = Math.max(1, ...rows.map((r) => r.metCount + r.breachedCount));
  const n = Math.max(rows.length, 1);
  const slot = pw / n, bw = Math.max(2, Math.min(40, slot * 0.7));
  const y = (v) => M.t + ph - (v / maxCount) * ph;
  const ySl = (p) => M.t + ph - (p / 100) * ph;
  const summary = rows.map((r) => `${r.label}: ${r.metCount} met, ${r.breachedCount} breached` +
    `${r.serviceLevel === null ? "" : `, ${r.serviceLevel.toFixed(1)} %`}`).join("; ");
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Met and breached cycles and service level by ${group.toLowerCase()}. ${summary}`,
  });
  const axis = svg("g", { class: "axis" });
  axis.append(svg("line", { x1: M.l, y1: M.t + ph, x2: M.l + pw, y2: M.t + ph }),
    svg("line", { x1: M.l, y1: M.t, x2: M.l, y2: M.t + ph }),
    svg("line", { x1: M.l + pw, y1: M.t, x2: M.l + pw, y2: M.t + ph }));
  for (const frac of [0, 0.5, 1]) {
    axis.append(svg("text", { x: M.l - 6, y: y(maxCount * frac) + 4, "text-anchor": "end", text: Math.round(maxCount * frac) }));
    axis.append(svg("text", { x: M.l + pw + 6, y: ySl(100 * frac) + 4, text: `${100 * frac}%` }));
  }
  axis.append(svg("text", { x: M.l, y: M.t - 8, text: "cycles" }),
    svg("text", { x: M.l + pw, y: M.t - 8, "text-anchor": "end", text: "service level" }));
  chart.append(axis);
  const points = [];
  rows.forEach((r, i) => {
    const cx = M.l + slot * i + slot / 2;
    const g = svg("g", { class: "bar", "data-group": r.label },
      svg("title", { text: `${r.label}: ${r.metCount} met, ${r.breachedCount} breached, service level ${r.serviceLevel === null ? "n/a" : `${r.serviceLevel.toFixed(1)} %`}` }));
    const met0 = y(r.metCount), br0 = y(r.metCount + r.breachedCount);
    if (r.metCount) g.append(svg("rect", { class: "bar-met", x: cx - bw / 2, y: met0, width: bw, height: M.t + ph - met0 }));
    if (r.breachedCount) g.append(svg("rect", { class: "bar-breached", x: cx - bw / 2, y: br0, width: bw, height: met0 - br0 }));
    const label = group === "DAY" ? r.label.slice(5) : r.label;
    if (n <= 31 || i % Math.ceil(n / 31) === 0) {
      g.append(svg("text", {
        x: cx, y: M.t + ph + 14, "text-anchor": group === "DAY" ? "end" : "middle",
        transform: group === "DAY" ? `rotate(-45 ${cx} ${M.t + ph + 14})` : null, text: label,
      }));
    }
    if (r.serviceLevel !== null) {
      points.push([cx, ySl(r.serviceLevel)]);
      g.append(svg("circle", { class: "sl-dot", cx, cy: ySl(r.serviceLevel), r: 3.5 }));
    }
    chart.append(g);
  });
  if (points.length > 1) chart.append(svg("polyline", { class: "sl-line", points: points.map((p) => p.join(",")).join(" ") }));
  const legend = el("p", { class: "legend" },
    el("span", {}, el("span", { class: "swatch met", "aria-hidden": "true" }), "met (lower bar)"),
    el("span", {}, el("span", { class: "swatch breached", "aria-hidden": "true" }), "breached (upper bar)"),
    el("span", {}, el("span", { class: "swatch sl", "aria-hidden": "true" }), "service level % (line, right axis)"));
  $("#compliance-chart").replaceChildren(el("div", { class: "chart" }, chart), legend);
}

// -- a ticket's timeline --------------------------------------------------------------

const TIMELINE_QUERY = `query($id: ID!) { ticket(id: $id) {
  id createdAt fields decidedBy level { name title calendar }
  cycles { metric index state startedAt stoppedAt dueAt breachedAt targetSeconds elapsedSeconds
           remainingSeconds rulesetVersion timeline { kind at } }
  events { eventId at type payload }
  evaluations { at rulesetVersion matchedRules levelBefore levelAfter decidedBy } } }`;

async function openHours(calendar, from, to) {
  const q = new URLSearchParams({ calendar, from: from.toISOString(), to: to.toISOString() });
  const resp = await fetch(`/board/open-hours?${q}`, { headers: authHeaders() });
  const body = await resp.json();
  if (!resp.ok) throw new BoardError(body.code || "HTTP", body.error || `HTTP ${resp.status}`);
  return body.intervals.map(([a, b]) => [Date.parse(a), Date.parse(b)]);
}

async function openTimeline(id, opener) {
  const panel = $("#timeline-panel");
  board.selected = id;
  board.timelineOpener = opener || null;
  for (const tr of document.querySelectorAll("#cycles tr.selected")) tr.classList.remove("selected");
  const row = board.rows.get(id);
  if (row) row.tr.classList.add("selected");
  panel.hidden = false;
  panel.dataset.ticket = id;
  delete panel.dataset.loaded;
  $("#timeline-title").textContent = `Timeline of ticket ${id}`;
  $("#timeline-body").replaceChildren();
  panelStatus("timeline-panel", "Loading…");
  panel.scrollIntoView({ block: "nearest" });
  panel.focus();
  try {
    const data = await gql(TIMELINE_QUERY, { id });
    if (board.selected !== id) return;
    if (!data.ticket) { panelStatus("timeline-panel", `Ticket ${id} does not exist (any more).`, true); return; }
    const t = data.ticket;
    const now = Date.now();
    const times = [Date.parse(t.createdAt), now];
    for (const c of t.cycles) for (const m of c.timeline) times.push(Date.parse(m.at));
    for (const e of t.events) times.push(Date.parse(e.at));
    let t0 = Math.min(...times), t1 = Math.max(...times);
    const span = Math.max(t1 - t0, 60_000);
    t0 -= span * 0.03; t1 = t0 + span * 1.08;
    let hours = null, hoursNote = "";
    const calendar = t.level ? t.level.calendar : null;
    if (calendar) {
      try {
        if (t1 - t0 > 62 * 86400_000) hoursNote = "Business hours are not shaded for spans over 62 days.";
        else hours = await openHours(calendar, new Date(t0), new Date(t1));
      } catch (e) {
        hoursNote = `Business hours could not be loaded: ${e.message}`;
      }
    }
    if (board.selected !== id) return;
    renderTimeline(t, t0, t1, now, hours, hoursNote);
    panelStatus("timeline-panel", "");
    panel.dataset.loaded = String(Date.now());
  } catch (e) {
    if (board.selected === id) panelError("timeline-panel", `the timeline of ${id}`, e);
  }
}

function closeTimeline() {
  const panel = $("#timeline-panel");
  panel.hidden = true;
  board.selected = null;
  for (const tr of document.querySelectorAll("#cycles tr.selected")) tr.classList.remove("selected");
  if (board.timelineOpener && document.contains(board.timelineOpener)) board.timelineOpener.focus();
}

function countingBands(cycle, now) {
  const bands = [];
  let start = null;
  for (const m of cycle.timeline) {
    const at = Date.parse(m.at);
    if ((m.kind === "started" || m.kind === "resumed") && start === null) start = at;
    else if ((m.kind === "paused" || m.kind === "stopped") && start !== null) { bands.push([start, at]); start = null; }
  }
  if (start !== null && !cycle.stoppedAt) bands.push([start, now]);
  return bands;
}

function markShape(kind, x, y) {
  const s = 6;
  switch (kind) {
    case "started": case "resumed":
      return svg("path", { d: `M${x - s} ${y - s} L${x + s} ${y} L${x - s} ${y + s} Z` });
    case "paused":
      return svg("path", { d: `M${x - s} ${y - s}h4v${2 * s}h-4z M${x + 2} ${y - s}h4v${2 * s}h-4z` });
    case "warned":
      return svg("path", { d: `M${x} ${y - s - 1} L${x + s + 1} ${y} L${x} ${y + s + 1} L${x - s - 1} ${y} Z` });
    case "breached":
      return svg("path", { d: `M${x - s} ${y - s} L${x + s} ${y + s} M${x + s} ${y - s} L${x - s} ${y + s}`, "stroke-width": 3 });
    case "stopped":
      return svg("rect", { x: x - s, y: y - s, width: 2 * s, height: 2 * s });
    default:
      return svg("circle", { cx: x, cy: y, r: s });
  }
}

function renderTimeline(t, t0, t1, now, hours, hoursNote) {
  const W = 900, L = 150, R = 20, laneH = 34, top = 10;
  const lanes = [{ key: "events", label: "Events" }, { key: "level", label: "Level decisions" },
    ...t.cycles.map((c) => ({ key: `${c.metric}-${c.index}`, label: `${metricName(c.metric)} #${c.index}`, cycle: c }))];
  const H = top + lanes.length * laneH + 40;
  const x = (ms) => L + ((ms - t0) / (t1 - t0)) * (W - L - R);
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Time axis of ticket ${t.id}: events, level decisions and each cycle's marks (listed below)`,
  });
  if (hours) {
    for (const [a, b] of hours) {
      if (b <= t0 || a >= t1) continue;
      chart.append(svg("rect", { class: "open-hours", x: x(Math.max(a, t0)), y: top, width: Math.max(1, x(Math.min(b, t1)) - x(Math.max(a, t0))), height: lanes.length * laneH }));
    }
  }
  lanes.forEach((lane, i) => {
    const y0 = top + i * laneH, cy = y0 + laneH / 2;
    chart.append(svg("rect", { class: "lane-bg", x: L, y: y0 + 4, width: W - L - R, height: laneH - 8, "fill-opacity": 0.35 }));
    chart.append(svg("text", { x: L - 8, y: cy + 4, "text-anchor": "end", text: lane.label }));
    const g = svg("g", { class: "lane", "data-lane": lane.key });
    if (lane.key === "events") {
      for (const e of t.events) {
        g.append(svg("g", { class: "mark mark-event", "data-kind": e.type },
          svg("title", { text: `${fmtTime(e.at)}: ${e.type} ${JSON.stringify(e.payload)}` }),
          svg("circle", { cx: x(Date.parse(e.at)), cy, r: 4 })));
      }
    } else if (lane.key === "level") {
      for (const ev of t.evaluations) {
        const px = x(Date.parse(ev.at));
        g.append(svg("g", { class: "mark mark-eval", "data-kind": "evaluation" },
          svg("title", { text: `${fmtTime(ev.at)}: level ${ev.levelBefore || "none"} → ${ev.levelAfter || "none"} (${ev.decidedBy || "no rule"}, ruleset ${ev.rulesetVersion})` }),
          svg("rect", { x: px - 4, y: cy - 4, width: 8, height: 8, transform: `rotate(45 ${px} ${cy})` })));
      }
    } else {
      const c = lane.cycle;
      for (const [a, b] of countingBands(c, now)) {
        g.append(svg("rect", { class: "counting", x: x(a), y: cy - 3, width: Math.max(1, x(b) - x(a)), height: 6 }));
      }
      for (const m of c.timeline) {
        const mark = svg("g", { class: `mark mark-${m.kind}`, "data-kind": m.kind, "data-cycle": lane.key },
          svg("title", { text: `${metricName(c.metric)} #${c.index} ${MARK_NAMES[m.kind] || m.kind} at ${fmtTime(m.at)}` }),
          markShape(m.kind, x(Date.parse(m.at)), cy));
        g.append(mark);
      }
    }
    chart.append(g);
  });
  // the time axis
  const axisY = top + lanes.length * laneH + 6;
  const axis = svg("g", { class: "axis" }, svg("line", { x1: L, y1: axisY, x2: W - R, y2: axisY }));
  for (let i = 0; i <= 5; i++) {
    const ms = t0 + ((t1 - t0) * i) / 5;
    axis.append(svg("line", { x1: x(ms), y1: axisY, x2: x(ms), y2: axisY + 4 }),
      svg("text", { x: x(ms), y: axisY + 16, "text-anchor": "middle", text: fmtTime(new Date(ms).toISOString()) }));
  }
  chart.append(axis);
  if (now >= t0 && now <= t1) {
    chart.append(svg("line", { class: "now-line", x1: x(now), y1: top, x2: x(now), y2: axisY }),
      svg("text", { x: x(now), y: top - 1, "text-anchor": "middle", text: "now" }));
  }

  const level = t.level ? `${t.level.title || t.level.name} (${t.level.name}, calendar ${t.level.calendar})` : "no SLA";
  const legend = el("p", { class: "legend" },
    el("span", {}, el("span", { class: "swatch open", "aria-hidden": "true" }), "business hours (level calendar)"),
    el("span", {}, el("span", { class: "swatch counting", "aria-hidden": "true" }), "cycle counting (not paused)"),
    el("span", { text: "marks: ▶ started/resumed · ‖ paused · ◆ warned · ✖ breached · ■ stopped" }));
  const cycleList = el("ul", {}, ...t.cycles.map((c) => el("li", { "data-cycle": `${c.metric}-${c.index}` },
    el("strong", { text: `${metricName(c.metric)} #${c.index}` }),
    ` — ${TONES[toneOf(c, null)] || c.state} (${c.state.toLowerCase()}); target ${fmtDuration(c.targetSeconds)}, elapsed ${fmtDuration(c.elapsedSeconds)}` +
    `${c.dueAt ? `, due ${fmtTime(c.dueAt)}` : ""}; ruleset ${c.rulesetVersion}: `,
    c.timeline.map((m) => `${MARK_NAMES[m.kind] || m.kind} ${fmtTime(m.at)}`).join(" · "))));
  const events = el("ol", {}, ...t.events.map((e) => el("li", {},
    el("time", { datetime: e.at, text: fmtTime(e.at) }), ` ${e.type}: ${describePayload(e.payload)}`)));
  const evals = el("ol", {}, ...t.evaluations.map((ev) => el("li", {},
    el("time", { datetime: ev.at, text: fmtTime(ev.at) }),
    ` level ${ev.levelBefore || "none"} → ${ev.levelAfter || "none"}, decided by ${ev.decidedBy || "no rule"}` +
    `${ev.matchedRules.length ? ` (matched: ${ev.matchedRules.join(", ")})` : ""}; ruleset ${ev.rulesetVersion}`)));
  $("#timeline-body").replaceChildren(...[
    el("p", {}, `Level: ${level}; decided by ${t.decidedBy || "no rule"}. Created ${fmtTime(t.createdAt)}.`),
    el("div", { class: "timeline" }, chart), legend,
    hoursNote ? el("p", { class: "hint", text: hoursNote }) : null,
    el("div", { class: "timeline-lists" },
      el("div", {}, el("h3", { text: "Cycles" }), cycleList),
      el("div", {}, el("h3", { text: "Events" }), events),
      el("div", {}, el("h3", { text: "Level decisions" }), evals)),
  ].filter(Boolean));
}

function describePayload(p) {
  if (!p || typeof p !== "object") return String(p);
  if (p.status) return `status → ${p.status}`;
  if (p.by) return `${String(p.by).toLowerCase()} message${p.public === false ? " (private)" : ""}`;
  return JSON.stringify(p);
}

// -- live alerts (graphql-transport-ws) -----------------------------------------------

const ALERTS_SUBSCRIPTION = `subscription($f: AlertFilter) { slaAlerts(filter: $f) {
  id kind ticketId metric cycleIndex percent beforeSeconds at level assignee department } }`;

function setLive(state, text) {
  const p = $("#live-status");
  p.dataset.state = state;
  p.textContent = `Live updates: ${text}`;
}

function connectLive() {
  clearTimeout(board.wsTimer);
  if (board.ws) { board.ws.onclose = null; board.ws.close(1000); board.ws = null; }
  let ws;
  try {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`, "graphql-transport-ws");
  } catch (e) {
    setLive("off", `unavailable (${e.message})`);
    return;
  }
  board.ws = ws;
  setLive("retry", "connecting…");
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "connection_init", payload: board.token ? { authorization: `Bearer ${board.token}` } : {} }));
  };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === "connection_ack") {
      board.wsRetry = 0;
      const f = currentFilter();
      const filter = {};
      for (const k of ["level", "department", "assignee"]) if (f[k]) filter[k] = f[k];
      if (f.metric) filter.metrics = [f.metric];
      ws.send(JSON.stringify({ id: "alerts", type: "subscribe", payload: { query: ALERTS_SUBSCRIPTION, variables: { f: filter } } }));
      setLive("on", "connected");
    } else if (msg.type === "ping") {
      ws.send(JSON.stringify({ type: "pong" }));
    } else if (msg.type === "next" && msg.payload) {
      if (msg.payload.errors && msg.payload.errors.length) {
        panelStatus("alerts-panel", `Alert stream error: ${msg.payload.errors[0].message}`, true);
      } else if (msg.payload.data && msg.payload.data.slaAlerts) {
        handleAlert(msg.payload.data.slaAlerts);
      }
    } else if (msg.type === "error") {
      const err = (msg.payload && msg.payload[0]) || {};
      panelStatus("alerts-panel", `Alert stream error: ${err.message || "refused"}`, true);
    }
  };
  ws.onclose = (ev) => {
    if (board.ws !== ws) return;
    board.ws = null;
    if (ev.code === 4403 || ev.code === 4401) {
      setLive("off", "refused (token missing, unknown or expired)");
      showAuth(new BoardError("UNAUTHENTICATED", ev.reason));
      return; // a new token reconnects
    }
    const delay = Math.min(30000, 1000 * 2 ** board.wsRetry++);
    setLive("retry", `disconnected, retrying in ${Math.round(delay / 1000)} s`);
    board.wsTimer = setTimeout(connectLive, delay);
  };
}

function handleAlert(a) {
  if (board.alertsSeen.has(a.id)) return;
  board.alertsSeen.add(a.id);
  const what = a.kind === "BREACH" ? "Breached" : `Warning${a.percent !== null && a.percent !== undefined ? ` (${a.percent}%)` : a.beforeSeconds ? ` (${fmtDuration(a.beforeSeconds)} before due)` : ""}`;
  const button = el("button", { type: "button", class: "ticket-link", text: a.ticketId });
  button.addEventListener("click", () => openTimeline(a.ticketId, button));
  const item = el("li", { "data-alert-id": a.id, "data-ticket": a.ticketId, "data-kind": a.kind },
    el("time", { datetime: a.at, text: fmtTime(a.at) }), ` ${what}: `, button,
    ` — ${metricName(a.metric)} #${a.cycleIndex}, level ${a.level}${a.assignee ? `, ${a.assignee}` : ""}`);
  const list = $("#alerts");
  list.prepend(item);
  while (list.children.length > 100) list.lastElementChild.remove();
  panelStatus("alerts-panel", "");
  const row = board.rows.get(a.ticketId);
  if (row) {
    const earlier = row.alert && row.alert.metric === a.metric && row.alert.index === a.cycleIndex ? row.alert.tone : null;
    row.alert = {
      metric: a.metric, index: a.cycleIndex,
      tone: a.kind === "BREACH" || earlier === "breached" ? "breached" : "warned",
    };
    renderRemaining(row);
    row.tr.classList.remove("flash");
    void row.tr.offsetWidth; // restart the animation
    row.tr.classList.add("flash");
    refreshTicketRow(a.ticketId);
  } else {
    scheduleListRefresh();
  }
  scheduleCounts();
  if (board.selected === a.ticketId) openTimeline(a.ticketId, board.timelineOpener);
}

function scheduleListRefresh() {
  // a ticket not on screen changed: reload the first page if only one page is shown
  if (board.rows.size > PAGE_SIZE) return;
  clearTimeout(board.listTimer);
  board.listTimer = setTimeout(() => loadList(true), 1000);
}

// -- wiring ---------------------------------------------------------------------------

function refreshAll() {
  updateExportLinks();
  loadRuleset();
  loadCounts();
  loadList(true);
  loadCompliance();
}

function init() {
  board.refresh = refreshAll;
  const today = startOfDay(new Date());
  const from = new Date(today);
  from.setDate(from.getDate() - 13);
  const cform = $("#compliance-form");
  cform.elements.from.value = dateInput(from);
  cform.elements.to.value = dateInput(today);
  filtersFromUrl();
  $("#token-input").value = board.token;

  $("#token-form").addEventListener("submit", (ev) => { ev.preventDefault(); setToken($("#token-input").value.trim()); });
  $("#token-clear").addEventListener("click", () => { $("#token-input").value = ""; setToken(""); });
  $("#filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    filtersToUrl(currentFilter());
    updateExportLinks();
    loadCounts();
    loadList(true);
    connectLive(); // the alert filter follows the board's filters
  });
  $("#filters").addEventListener("reset", () => setTimeout(() => $("#filters").requestSubmit(), 0));
  $("#filters").addEventListener("change", updateExportLinks);
  cform.addEventListener("submit", (ev) => { ev.preventDefault(); loadCompliance(); });
  cform.addEventListener("change", updateExportLinks);
  $("#load-more").addEventListener("click", () => loadList(false));
  $("#timeline-close").addEventListener("click", closeTimeline);
  $("#timeline-panel").addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeTimeline(); });
  $("#cycles").addEventListener("keydown", listKeys);
  for (const id of ["#export-log", "#export-compliance"]) $(id).addEventListener("click", downloadExport);

  panelStatus("alerts-panel", "No alerts since this page opened.");
  refreshAll();
  connectLive();
  setInterval(tick, 1000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
