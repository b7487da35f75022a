// SLA board, part 2 of 5: the GraphQL client, what this server's API offers, calendar zones.
"use strict";

const TOKEN_KEY = "slarules.token";

const board = {
  token: localStorage.getItem(TOKEN_KEY) || "",
  levels: new Map(),        // name -> {name, title, calendar}
  zones: new Map(),         // calendar name -> IANA zone
  zonesReady: Promise.resolve(), // settles once /board/calendars answered (or failed)
  rulesetZone: null,        // the ruleset's zone (compliance days)
  rows: new Map(),          // ticket id -> row (see board.js)
  features: null,           // what the API offers beyond today's contract (see detectFeatures)
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

// -- features: one introspection query at load; every newer field is optional -----------------
//
// Assumed names (the board uses each only when the server's schema has it):
//   Cycle.counting: Boolean!            the business clock runs for this cycle now
//   Cycle.countingChangesAt: DateTime   the next instant `counting` flips (null: never)
//   Level.timeZone: String              the level calendar's IANA zone (else /board/calendars)
//   TicketFilter.hasSla: Boolean        false: level none or no level; true: with an SLA
//   Query.compliance(filter: SlaLogFilter)
//   Query.alerts(filter: <input with kinds/metrics/level/department/assignee>, first, after)
//       -> { edges { cursor node { ...Alert } } pageInfo { hasNextPage endCursor } }, newest first
//   Query.assignees(from: DateTime!, to: DateTime!, filter: SlaLogFilter) -> [AssigneeSummary!]!
//       AssigneeSummary { assignee openCount atRiskCount breachedCount metCount missedCount
//                         serviceLevel }

const FEATURES_QUERY = `{
  cycle: __type(name: "Cycle") { fields { name } }
  level: __type(name: "Level") { fields { name } }
  ticketFilter: __type(name: "TicketFilter") { inputFields { name } }
  query: __type(name: "Query") { fields { name args { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name } } }`;

function typeName(t) {
  // a variable declaration for an argument's type: [X!]!, X!, X
  if (!t) return null;
  if (t.kind === "NON_NULL") return `${typeName(t.ofType)}!`;
  if (t.kind === "LIST") return `[${typeName(t.ofType)}]`;
  return t.name;
}

const NO_FEATURES = {
  counting: false, levelZone: false, hasSla: false, complianceFilter: null, alerts: null,
  assignees: null, alertFilterFields: new Set(),
};

function detectFeatures() {
  // one introspection per page (and per token): every caller shares the same answer
  if (board.features) return Promise.resolve(board.features);
  if (!board.featuresPromise) {
    board.featuresPromise = introspect().finally(() => { board.featuresPromise = null; });
  }
  return board.featuresPromise;
}

async function introspect() {
  let data;
  try {
    data = await gql(FEATURES_QUERY);
  } catch (e) {
    if (isAuthError(e)) throw e;
    board.features = { ...NO_FEATURES }; // introspection refused: today's contract only
    return board.features;
  }
  const names = (t, key) => new Set(((t && t[key]) || []).map((f) => f.name));
  const cycle = names(data.cycle, "fields");
  const queries = new Map(((data.query && data.query.fields) || []).map((f) => [f.name, f]));
  const argType = (q, arg) => {
    const f = queries.get(q);
    const a = f && f.args.find((x) => x.name === arg);
    return a ? typeName(a.type) : null;
  };
  const f = {
    counting: cycle.has("counting") && cycle.has("countingChangesAt"),
    levelZone: names(data.level, "fields").has("timeZone"),
    hasSla: names(data.ticketFilter, "inputFields").has("hasSla"),
    sortable: names(data.ticketFilter, "inputFields").has("orderBy"),
    complianceFilter: argType("compliance", "filter"),
    alerts: queries.has("alerts") ? argType("alerts", "filter") || "" : null,
    assignees: queries.has("assignees") ? argType("assignees", "filter") : null,
    alertFilterFields: new Set(),
  };
  if (f.alerts) {
    const inner = f.alerts.replace(/[!\[\]]/g, "");
    try {
      const t = await gql(`query($n: String!) { __type(name: $n) { inputFields { name } } }`, { n: inner });
      f.alertFilterFields = names(t.__type, "inputFields");
    } catch (e) { /* keep no filter fields */ }
  }
  board.features = f;
  document.body.dataset.features = Object.entries(f)
    .filter(([, v]) => v && !(v instanceof Set)).map(([k]) => k).join(" ");
  return f;
}

function cycleFields() {
  const extra = board.features && board.features.counting ? " counting countingChangesAt" : "";
  return `metric index state startedAt stoppedAt dueAt breachedAt targetSeconds
           elapsedSeconds remainingSeconds warnings { at percent beforeSeconds }${extra}`;
}

function levelFields() {
  return `name title calendar${board.features && board.features.levelZone ? " timeZone" : ""}`;
}

// -- calendars' time zones ------------------------------------------------------------------

async function loadZones() {
  const resp = await fetch("/board/calendars", { headers: authHeaders() });
  const body = await resp.json();
  if (!resp.ok) throw new BoardError(body.code || "HTTP", body.error || `HTTP ${resp.status}`);
  board.zones.clear();
  for (const [name, zone] of Object.entries(body.calendars)) board.zones.set(name, zone);
  board.rulesetZone = body.timeZone;
}

function zoneOfLevel(level) {
  // the level calendar's zone; the viewer's when it is not known
  if (!level) return VIEWER_ZONE;
  return level.timeZone || board.zones.get(level.calendar) || VIEWER_ZONE;
}

async function openHours(calendar, from, to) {
  const q = new URLSearchParams({ calendar, from: from.toISOString(), to: to.toISOString() });
  const resp = await fetch(`/board/open-hours?${q}`, { headers: authHeaders() });
  const body = await resp.json();
  if (!resp.ok) throw new BoardError(body.code || "HTTP", body.error || `HTTP ${resp.status}`);
  return body.intervals.map(([a, b]) => [Date.parse(a), Date.parse(b)]);
}
