// SLA board, part 5 of 5: counts, open cycles with honest countdowns, alerts, search, wiring.
// Plain JavaScript + SVG over the GraphQL API at /graphql (no libraries, no build).
// Each panel loads and fails on its own; a missing or refused token shows one clear banner.
"use strict";

const PAGE_SIZE = 50;
const MET_TODAY_PAGE = 500;
const MET_TODAY_MAX_PAGES = 10;
const REFRESH_MS = 60_000;     // the list is re-read this often (the server's figures win)
const RETRY_MS = 5_000;        // a row whose instant passed is re-read at most this often
const MAX_ROW_REFRESHES = 10;  // more rows due at once: reload the page of rows instead

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

// -- token ----------------------------------------------------------------------------

function setToken(token) {
  board.token = token;
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  board.features = null;
  showAuth(null);
  refreshAll();
  connectLive();
}

// -- filters & exports ----------------------------------------------------------------

const FILTER_KEYS = ["level", "department", "assignee", "metric", "state", "priority", "source"];

function currentFilter() {
  const form = $("#filters");
  const f = {};
  for (const key of FILTER_KEYS) {
    const v = form.elements[key].value.trim();
    if (v) f[key] = v;
  }
  return f;
}

function filtersFromUrl() {
  const q = new URLSearchParams(location.search);
  const form = $("#filters");
  for (const key of FILTER_KEYS) {
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
  const url = `${location.pathname}${q.toString() ? `?${q}` : ""}${location.hash}`;
  history.replaceState(null, "", url);
}

function updateExportLinks() {
  const f = currentFilter();
  const log = new URLSearchParams();
  for (const key of ["department", "assignee", "level", "priority", "source"]) if (f[key]) log.set(key, f[key]);
  if (f.metric) log.set("metric", f.metric.toLowerCase());
  if (f.state) log.set("state", f.state.toLowerCase());
  $("#export-log").href = `/export/sla-log.csv${log.toString() ? `?${log}` : ""}`;
  const range = complianceRange();
  const comp = new URLSearchParams();
  if (range) {
    comp.set("from", localIso(range.from));
    comp.set("to", localIso(range.to));
    comp.set("group_by", range.group.toLowerCase());
  }
  if (board.features && board.features.complianceFilter) for (const [k, v] of log) comp.set(k, v);
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

// -- ruleset (levels for the filter, calendars' zones) ----------------------------------

async function loadRuleset() {
  const status = $("#filters-status");
  try {
    // without zones, times are shown in the viewer's zone; the list waits for them
    board.zonesReady = loadZones().catch(() => null);
    const [data] = await Promise.all([
      gql(`{ ruleset { version levels { ${levelFields()} } } }`),
      board.zonesReady,
    ]);
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
const SLA_QUERY = `query($with: TicketFilter, $without: TicketFilter) {
  withSla: tickets(filter: $with, first: 0) { totalCount }
  withoutSla: tickets(filter: $without, first: 50) { totalCount
    edges { node { id createdAt fields } } } }`;

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
  const [main, met] = await Promise.allSettled([gql(COUNTS_QUERY, vars), metToday(f), loadSlaCounts(f)]);
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

async function loadSlaCounts(f) {
  // tickets with and without an SLA: only where the API can filter on it (TicketFilter.hasSla)
  const box = $("#sla-split");
  try {
    await detectFeatures();
  } catch (e) { box.hidden = true; return; }
  if (!board.features.hasSla) { box.hidden = true; return; }
  const rest = { ...f };
  delete rest.level; delete rest.metric; // tickets without an SLA have neither
  try {
    const data = await gql(SLA_QUERY, { with: { ...f, hasSla: true }, without: { ...rest, hasSla: false } });
    $("#count-with-sla").textContent = data.withSla.totalCount;
    $("#count-without-sla").textContent = data.withoutSla.totalCount;
    $("#without-sla-list").replaceChildren(...data.withoutSla.edges.map(({ node: t }) => el("li", { "data-ticket": t.id },
      el("button", { type: "button", class: "ticket-link", text: t.id, onclick: (ev) => openTimeline(t.id, ev.currentTarget) }),
      ` ${t.fields.subject ? String(t.fields.subject) : ""}`,
      el("span", { class: "others", text: [t.fields.assignee, t.fields.department].filter(Boolean).join(" · ") || "unassigned" }))));
    box.hidden = false;
  } catch (e) {
    box.hidden = true;
    throw e;
  }
}

function scheduleCounts() {
  clearTimeout(board.countsTimer);
  board.countsTimer = setTimeout(loadCounts, 800);
}

// -- open cycles list: the server's remaining time, moved only while the cycle counts ------

function ticketFields() {
  return `id fields level { ${levelFields()} } cycles { ${cycleFields()} }`;
}

function listQuery() {
  return `query($filter: TicketFilter, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${ticketFields()} } } } }`;
}

// -- sorting the list by a column (the server sorts: keyset pages stay exact) -----------

function listFilter() {
  const f = currentFilter();
  if (board.sort && board.features && board.features.sortable) {
    f.orderBy = board.sort.by;
    f.descending = board.sort.descending;
  }
  return f;
}

function setupSorting() {
  for (const th of document.querySelectorAll("#cycles th[data-sort]")) {
    const label = th.textContent;
    const button = el("button", { type: "button", class: "sort", text: label, title: `Sort by ${label.toLowerCase()}` });
    th.replaceChildren(button);
    button.addEventListener("click", () => {
      if (!board.features || !board.features.sortable) return;
      const by = th.dataset.sort;
      const same = board.sort && board.sort.by === by;
      board.sort = { by, descending: same ? !board.sort.descending : false };
      for (const other of document.querySelectorAll("#cycles th[data-sort]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", board.sort.descending ? "descending" : "ascending");
      loadList(true);
    });
  }
}

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

function toneOf(cycle) {
  // only what the server reported: breached when it says BREACHED, at risk when it sent a warning
  if (cycle.state === "BREACHED") return "breached";
  if (cycle.state === "PAUSED") return "paused";
  if (cycle.state === "MET") return "met";
  if (cycle.warnings && cycle.warnings.length) return "warned";
  return "fine";
}

function clockRuns(row, now) {
  // the server said the clock runs, and the instant it stops has not come
  return row.counting && (row.changesAt === null || now < row.changesAt);
}

function remainingNow(row, now) {
  // counting: the server's figure minus the time since it was read, up to the instant the
  // clock stops; not counting (or a server that does not say): the server's figure as it is
  const c = row.cycle;
  if (!row.counting) return c.remainingSeconds;
  const until = row.changesAt === null ? now : Math.min(now, row.changesAt);
  const rem = c.remainingSeconds - Math.max(0, until - row.fetchedAt) / 1000;
  return c.state === "BREACHED" ? rem : Math.max(0, rem); // a breach is the server's to say
}

function refreshInstant(row) {
  // when this row must be read again: its clock starts or stops, or it falls due
  const at = [];
  if (row.changesAt !== null) at.push(row.changesAt);
  if (row.cycle.state === "ACTIVE" && row.cycle.dueAt) at.push(Date.parse(row.cycle.dueAt));
  return at.length ? Math.min(...at) : null;
}

function renderRemaining(row, now) {
  const t = now === undefined ? Date.now() : now;
  const td = row.tr.querySelector(".remaining");
  const badge = row.tr.querySelector(".badge");
  const rem = remainingNow(row, t);
  let tone = toneOf(row.cycle);
  // an alert for the shown cycle counts at once, before the refreshed figures arrive
  const alerted = row.alert && row.alert.metric === row.cycle.metric && row.alert.index === row.cycle.index
    ? row.alert.tone : null;
  if (alerted === "breached" || (alerted === "warned" && tone === "fine")) tone = alerted;
  const seconds = Math.abs(rem) < 3600;
  let text;
  if (row.cycle.state === "PAUSED") text = `${fmtBusiness(rem, seconds)} left (paused)`;
  else if (rem < 0) text = `overdue ${fmtBusiness(rem, seconds)}`;
  else if (rem === 0) text = "due now";
  else text = `${fmtBusiness(rem, seconds)} left`;
  const runs = clockRuns(row, t);
  if (row.cycle.state !== "PAUSED" && !runs && row.countingKnown && rem !== 0) text += " (clock stopped)";
  td.textContent = text;
  td.dataset.counting = String(runs);
  td.title = runs
    ? "Business time left; it counts down while the level's calendar is open"
    : row.countingKnown
      ? `Business time left; the clock is stopped now (closed hours or paused)${row.changesAt !== null ? `, it starts again ${fmtTime(new Date(row.changesAt).toISOString(), row.zone)}` : ""}`
      : `Business time left when the board last asked the server (${fmtTime(new Date(row.fetchedAt).toISOString())})`;
  td.classList.toggle("overdue", rem < 0);
  if (badge.dataset.tone !== tone) {
    badge.dataset.tone = tone;
    badge.textContent = TONES[tone];
    row.tr.dataset.tone = tone;
  }
}

function buildRow(ticket, cycle, others, zone) {
  const fields = ticket.fields || {};
  const button = el("button", {
    type: "button", class: "ticket-link", "data-ticket": ticket.id,
    "aria-label": `Ticket ${ticket.id}: show its timeline`, text: ticket.id,
  });
  button.addEventListener("click", () => openTimeline(ticket.id, button));
  const subject = fields.subject ? el("span", { class: "others", text: String(fields.subject) }) : null;
  const otherText = others.length
    ? `also: ${others.map((c) => `${metricName(c.metric)} ${c.dueAt ? `due ${fmtTime(c.dueAt, zone)}` : c.state.toLowerCase()}`).join("; ")}`
    : null;
  const tr = el("tr", {
    "data-ticket": ticket.id, "data-metric": cycle.metric, "data-state": cycle.state,
    "data-due": cycle.dueAt || "",
  },
  el("td", { "data-label": "Ticket" }, button, subject),
  el("td", { "data-label": "State" }, el("span", { class: "badge" })),
  el("td", { "data-label": "Metric" }, metricName(cycle.metric), el("span", { class: "others", text: `target ${fmtBusiness(cycle.targetSeconds)}` }),
    otherText ? el("span", { class: "others", text: otherText }) : null),
  el("td", { "data-label": "Due", class: "due" }, cycle.dueAt ? timeEl(cycle.dueAt, zone, "due") : "— (paused)"),
  el("td", { "data-label": "Remaining", class: "remaining" }),
  el("td", { "data-label": "Level", text: ticket.level ? ticket.level.name : "none" }),
  el("td", { "data-label": "Assignee", text: fields.assignee || "—" }),
  el("td", { "data-label": "Department", text: fields.department || "—" }));
  if (board.selected === ticket.id) tr.classList.add("selected");
  return tr;
}

function rowFor(ticket, fetchedAt) {
  const metric = currentFilter().metric;
  const open = openCycles(ticket, metric);
  const cycle = primaryCycle(open);
  if (!cycle) return null;
  const others = open.filter((c) => c !== cycle);
  const zone = zoneOfLevel(ticket.level);
  const known = typeof cycle.counting === "boolean";
  const row = {
    ticket, cycle, zone, fetchedAt,
    tr: buildRow(ticket, cycle, others, zone),
    countingKnown: known,
    counting: known && cycle.counting,
    changesAt: known && cycle.countingChangesAt ? Date.parse(cycle.countingChangesAt) : null,
    retryAt: 0,
  };
  row.refreshAt = refreshInstant(row);
  renderRemaining(row, fetchedAt);
  return row;
}

async function loadList(reset, quiet) {
  const panel = "list-panel";
  const generation = reset ? ++board.listGeneration : board.listGeneration;
  const tbody = $("#cycles tbody");
  const more = $("#load-more");
  if (reset) board.endCursor = null;
  if (!quiet) panelStatus(panel, "Loading…");
  more.disabled = true;
  try {
    await detectFeatures();
    const data = await gql(listQuery(), { filter: listFilter(), first: PAGE_SIZE, after: board.endCursor });
    await board.zonesReady; // due instants are shown in their calendar's zone, not the viewer's
    if (generation !== board.listGeneration) return; // filters changed meanwhile
    const fetchedAt = Date.now();
    const conn = data.tickets;
    if (reset) { tbody.replaceChildren(); board.rows.clear(); }
    let hidden = 0;
    const frag = document.createDocumentFragment();
    for (const edge of conn.edges) {
      const old = board.rows.get(edge.node.id);
      const row = rowFor(edge.node, fetchedAt);
      if (!row) { hidden += 1; continue; }
      if (old) row.alert = old.alert;
      board.rows.set(edge.node.id, row);
      frag.append(row.tr);
    }
    tbody.append(frag);
    board.endCursor = conn.pageInfo.endCursor;
    board.listReadAt = fetchedAt;
    more.hidden = !conn.pageInfo.hasNextPage;
    const asOf = board.features.counting ? ""
      : ` Remaining times as the server reported them at ${fmtTime(new Date(fetchedAt).toISOString())}; re-read every minute.`;
    $("#list-summary").textContent =
      `Showing ${board.rows.size} ticket${board.rows.size === 1 ? "" : "s"} with open cycles ` +
      `(${conn.totalCount} ticket${conn.totalCount === 1 ? "" : "s"} match the filters` +
      `${hidden ? `; ${hidden} on this page have no open cycle` : ""}).${asOf}`;
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
    const data = await gql(`query($id: ID!) { ticket(id: $id) { ${ticketFields()} } }`, { id });
    const fresh = data.ticket && rowFor(data.ticket, Date.now());
    if (!fresh) { row.tr.remove(); board.rows.delete(id); return; }
    fresh.alert = row.alert;
    fresh.retryAt = row.retryAt;
    renderRemaining(fresh);
    if (document.contains(row.tr)) row.tr.replaceWith(fresh.tr);
    board.rows.set(id, fresh);
  } catch (e) {
    panelError("list-panel", `ticket ${id}`, e);
  }
}

function tick() {
  const now = Date.now();
  const due = [];
  for (const row of board.rows.values()) {
    renderRemaining(row, now);
    if (row.refreshAt !== null && row.refreshAt <= now && row.retryAt <= now) {
      row.retryAt = now + RETRY_MS; // the browser's clock may run ahead of the server's
      due.push(row.ticket.id);
    }
  }
  if (due.length > MAX_ROW_REFRESHES && board.rows.size <= PAGE_SIZE) loadList(true, true);
  else for (const id of due.slice(0, MAX_ROW_REFRESHES)) refreshTicketRow(id);
  const every = board.refreshEvery === undefined ? REFRESH_MS : board.refreshEvery;
  if (board.listReadAt && now - board.listReadAt > every && board.rows.size <= PAGE_SIZE) {
    board.listReadAt = now;
    loadList(true, true);
  }
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

// -- search and direct links: #ticket=ID opens any ticket, closed ones included -----------

function ticketFromHash() {
  const m = /^#ticket=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

function onHash() {
  const id = ticketFromHash();
  if (id && id !== board.selected) openTimeline(id, null);
}

// -- alerts: recent ones from the store (when the API has `alerts`), then live ---------------

const ALERT_FIELDS = "id kind ticketId metric cycleIndex percent beforeSeconds at level assignee department";
const ALERTS_SUBSCRIPTION = `subscription($f: AlertFilter) { slaAlerts(filter: $f) { ${ALERT_FIELDS} } }`;

function alertFilter(fields) {
  const f = currentFilter();
  const out = {};
  for (const k of ["level", "department", "assignee"]) if (f[k] && fields.has(k)) out[k] = f[k];
  if (f.metric && fields.has("metrics")) out.metrics = [f.metric];
  else if (f.metric && fields.has("metric")) out.metric = f.metric;
  return out;
}

async function loadRecentAlerts() {
  const panel = "alerts-panel";
  try {
    await detectFeatures();
  } catch (e) { return; }
  const ft = board.features.alerts;
  if (ft === null) {
    if (!$("#alerts").children.length) panelStatus(panel, "No alerts since this page opened.");
    return;
  }
  try {
    const decl = ft ? `($f: ${ft})` : "";
    const arg = ft ? "filter: $f, " : "";
    const data = await gql(`query${decl} { alerts(${arg}first: 20) { edges { node { ${ALERT_FIELDS} } } } }`,
      ft ? { f: alertFilter(board.features.alertFilterFields) } : {});
    const nodes = data.alerts.edges.map((e) => e.node);
    nodes.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)); // oldest first: each is prepended
    $("#alerts").replaceChildren();
    board.alertsSeen.clear();
    for (const a of nodes) addAlertItem(a, true);
    panelStatus(panel, nodes.length ? "" : "No recent alerts.");
    $("#alerts-panel").dataset.loaded = String(Date.now());
  } catch (e) {
    panelError(panel, "the recent alerts", e);
  }
}

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
      const filter = alertFilter(new Set(["level", "department", "assignee", "metrics"]));
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

function addAlertItem(a, past) {
  if (board.alertsSeen.has(a.id)) return false;
  board.alertsSeen.add(a.id);
  const before = a.beforeSeconds ? ` (${fmtBusiness(a.beforeSeconds)} before due)` : "";
  const what = a.kind === "BREACH" ? "Breached"
    : `Warning${a.percent !== null && a.percent !== undefined ? ` (${a.percent}%)` : before}`;
  const button = el("button", { type: "button", class: "ticket-link", text: a.ticketId });
  button.addEventListener("click", () => openTimeline(a.ticketId, button));
  const level = board.levels.get(a.level);
  const item = el("li", { "data-alert-id": a.id, "data-ticket": a.ticketId, "data-kind": a.kind, class: past ? "past" : "new" },
    timeEl(a.at, zoneOfLevel(level)), ` ${what}: `, button,
    ` — ${metricName(a.metric)} #${a.cycleIndex}, level ${a.level}${a.assignee ? `, ${a.assignee}` : ""}`);
  const list = $("#alerts");
  list.prepend(item);
  while (list.children.length > 100) list.lastElementChild.remove();
  return true;
}

function handleAlert(a) {
  if (!addAlertItem(a, false)) return;
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
  board.listTimer = setTimeout(() => loadList(true, true), 1000);
}

// -- wiring ---------------------------------------------------------------------------

async function refreshAll() {
  updateExportLinks();
  try {
    await detectFeatures();
  } catch (e) { /* each panel reports the refusal */ }
  updateExportLinks();
  loadRuleset();
  loadCounts();
  loadList(true);
  loadCompliance();
  loadRecentAlerts();
}

function init() {
  board.refresh = refreshAll;
  board.tick = tick;
  const today = startOfDay(new Date());
  const from = new Date(today);
  from.setDate(from.getDate() - 13);
  const cform = $("#compliance-form");
  cform.elements.from.value = dateInput(from);
  cform.elements.to.value = dateInput(today);
  cform.elements.target.value = localStorage.getItem(TARGET_KEY) || "95";
  filtersFromUrl();
  $("#token-input").value = board.token;

  $("#token-form").addEventListener("submit", (ev) => { ev.preventDefault(); setToken($("#token-input").value.trim()); });
  $("#token-clear").addEventListener("click", () => { $("#token-input").value = ""; setToken(""); });
  $("#search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("#search-id").value.trim();
    if (id) openTimeline(id, $("#search-id"));
  });
  $("#filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    filtersToUrl(currentFilter());
    updateExportLinks();
    loadCounts();
    loadList(true);
    loadCompliance();
    loadRecentAlerts();
    connectLive(); // the alert filter follows the board's filters
  });
  $("#filters").addEventListener("reset", () => setTimeout(() => $("#filters").requestSubmit(), 0));
  setupSorting();
  $("#filters").addEventListener("change", updateExportLinks);
  cform.addEventListener("submit", (ev) => { ev.preventDefault(); loadCompliance(); });
  cform.addEventListener("change", updateExportLinks);
  $("#load-more").addEventListener("click", () => loadList(false));
  $("#timeline-close").addEventListener("click", closeTimeline);
  $("#timeline-panel").addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeTimeline(); });
  $("#cycles").addEventListener("keydown", listKeys);
  for (const id of ["#export-log", "#export-compliance"]) $(id).addEventListener("click", downloadExport);
  window.addEventListener("hashchange", onHash);

  panelStatus("alerts-panel", "No alerts since this page opened.");
  refreshAll();
  connectLive();
  onHash();
  setInterval(tick, 1000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
