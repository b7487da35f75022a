// Rules playground: plain JavaScript over /graphql (checkRules, explain); no libraries, no build.
// The ruleset is one text (the live ruleset's files concatenated); the ticket is a fixture file
// (TOML or JSON) that /playground/ticket turns into the explain query's variables.
"use strict";

const TOKEN_KEY = "slarules.token"; // shared with the board
const DEBOUNCE_MS = 300;
const EXAMPLE_TICKET = `# An example ticket: edit it, or paste a fixture file (TOML or JSON).
name = "example: e-mail answered after an hour and a half"
now = 2026-03-02T12:30:00-03:00

[ticket]
id = "PLAY-1"
created_at = 2026-03-02T10:00:00-03:00
source = "email"
status = "new"
subject = "Cannot export invoices"

[[events]]
at = 2026-03-02T11:30:00-03:00
type = "message"
by = "agent"
text = "Looking into it"
`;
const CHECK = `query Check($source: String!) {
  checkRules(source: $source) { severity code message file line column hint }
}`;
const EXPLAIN = `query Explain($ticket: TicketInput!, $events: [ExplainEventInput!]!, $now: DateTime,
                       $rules: String) {
  explain(ticket: $ticket, events: $events, now: $now, rules: $rules) {
    level { name title calendar }
    decidedBy
    rules { title line matched setLevel stop stoppedHere conditions { source value result } }
    cycles { metric index state startedAt stoppedAt dueAt breachedAt targetSeconds elapsedSeconds
             remainingSeconds warnings { percent beforeSeconds at } timeline { kind at } }
  }
}`;
const TOKEN_RE = /"(?:[^"\\\n]|\\["\\])*"?|\/(?:\\[^\n]|[^/\\\n])+\/i?|[\w.:%-]+|\S/y;

const play = {
  token: localStorage.getItem(TOKEN_KEY) || "",
  diagnostics: [],
  variables: null,   // the explain variables of the ticket, or null when it does not parse
  explanation: null,
  checkGen: 0,
  explainGen: 0,
  ticketGen: 0,
  timers: {},
};
window.slaPlayground = play;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function debounce(name, fn) {
  clearTimeout(play.timers[name]);
  play.timers[name] = setTimeout(fn, DEBOUNCE_MS);
}

function authError(message) {
  const box = $("auth-message");
  box.textContent = message || "";
  box.hidden = !message;
}

async function gql(query, variables) {
  const headers = { "content-type": "application/json" };
  if (play.token) headers.authorization = `Bearer ${play.token}`;
  const res = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  const err = body.errors && body.errors[0];
  if (err) {
    const code = err.extensions && err.extensions.code;
    if (code === "UNAUTHENTICATED" || code === "FORBIDDEN") authError(err.message);
    const e = new Error(err.message);
    e.code = code;
    e.extensions = err.extensions || {};
    throw e;
  }
  authError("");
  return body.data;
}

async function getText(url, options) {
  const headers = Object.assign({}, (options && options.headers) || {});
  if (play.token) headers.authorization = `Bearer ${play.token}`;
  const res = await fetch(url, Object.assign({}, options, { headers }));
  if (res.status === 401 || res.status === 403) {
    const body = await res.json();
    authError(body.error);
    throw new Error(body.error);
  }
  return res;
}

// -- durations and instants ----------------------------------------------------------

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const out = (h ? `${h}h` : "") + (m ? `${m}m` : "") + (s ? `${s}s` : "");
  return sign + (out || "0s");
}

function instant(value) {
  return value ? value.replace(/:00Z$/, "Z").replace("T", " ") : "—";
}

// -- ruleset: check and underline ---------------------------------------------------

function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function renderBackdrop() {
  const text = $("rules").value;
  const lines = text.split("\n");
  const marks = new Map(); // line index -> [{start, end, severity, code}]
  for (const d of play.diagnostics) {
    if (!d.line) continue;
    const i = d.line - 1;
    const line = lines[i] || "";
    const start = Math.max((d.column || 1) - 1, 0);
    TOKEN_RE.lastIndex = start;
    const m = TOKEN_RE.exec(line);
    const end = d.column ? (m ? start + m[0].length : start + 1) : line.length;
    if (!marks.has(i)) marks.set(i, []);
    marks.get(i).push({ start: d.column ? start : 0, end: Math.max(end, start + 1), d });
  }
  const html = lines.map((line, i) => {
    const ms = (marks.get(i) || []).sort((a, b) => a.start - b.start);
    let out = "";
    let at = 0;
    for (const mk of ms) {
      if (mk.start < at) continue;
      const shown = line.slice(mk.start, mk.end) || " ";
      out += escapeHtml(line.slice(at, mk.start));
      out += `<mark class="${mk.d.severity}" data-line="${i + 1}" data-code="${escapeHtml(mk.d.code)}">${escapeHtml(shown)}</mark>`;
      at = Math.max(mk.end, mk.start);
    }
    return out + escapeHtml(line.slice(at));
  });
  $("rules-backdrop").innerHTML = html.join("\n") + "\n";
  syncScroll();
}

function syncScroll() {
  const ta = $("rules");
  const bd = $("rules-backdrop");
  bd.scrollTop = ta.scrollTop;
  bd.scrollLeft = ta.scrollLeft;
}

function renderDiagnostics() {
  const list = $("diagnostics");
  list.replaceChildren();
  const errors = play.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = play.diagnostics.length - errors;
  $("diag-count").textContent = play.diagnostics.length
    ? `(${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"})` : "";
  if (!play.diagnostics.length) list.append(el("li", { class: "clean" }, "No problems: the ruleset builds."));
  for (const d of play.diagnostics) {
    const where = d.line ? `${d.line}:${d.column || 1}` : "ruleset";
    const li = el("li", { class: d.severity, "data-line": d.line || "", "data-code": d.code },
      `${where} ${d.severity}[${d.code}]: ${d.message}`,
      d.hint ? el("span", { class: "hint" }, `hint: ${d.hint}`) : null);
    li.addEventListener("click", () => jumpTo(d));
    list.append(li);
  }
  list.dataset.state = errors ? "errors" : "ok";
  renderBackdrop();
}

function jumpTo(d) {
  if (!d.line) return;
  const ta = $("rules");
  const lines = ta.value.split("\n");
  let offset = 0;
  for (let i = 0; i < d.line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += (d.column || 1) - 1;
  ta.focus();
  ta.setSelectionRange(offset, offset);
}

async function runCheck() {
  const gen = ++play.checkGen;
  $("diagnostics").dataset.state = "pending";
  try {
    const data = await gql(CHECK, { source: $("rules").value });
    if (gen !== play.checkGen) return;
    play.diagnostics = data.checkRules;
  } catch (e) {
    if (gen !== play.checkGen) return;
    play.diagnostics = [{ severity: "error", code: e.code || "request-failed", message: e.message }];
  }
  renderDiagnostics();
  runExplain();
}

// -- ticket and answer ----------------------------------------------------------------

async function parseTicket() {
  const gen = ++play.ticketGen;
  const box = $("ticket-error");
  try {
    const res = await getText("/playground/ticket", { method: "POST", body: $("ticket").value });
    const body = await res.json();
    if (gen !== play.ticketGen) return;
    if (!res.ok) throw new Error(body.error);
    play.variables = body;
    box.hidden = true;
  } catch (e) {
    if (gen !== play.ticketGen) return;
    play.variables = null;
    box.textContent = e.message;
    box.hidden = false;
  }
  runExplain();
}

async function runExplain() {
  const gen = ++play.explainGen;
  const answer = $("answer");
  if (play.diagnostics.some((d) => d.severity === "error")) {
    answer.dataset.state = "blocked";
    $("level").textContent = "…";
    $("decided-by").textContent = "fix the ruleset's errors first";
    return;
  }
  if (!play.variables) {
    answer.dataset.state = "blocked";
    return;
  }
  answer.dataset.state = "pending";
  try {
    const vars = Object.assign({}, play.variables, { rules: $("rules").value });
    const data = await gql(EXPLAIN, vars);
    if (gen !== play.explainGen) return;
    play.explanation = data.explain;
    renderExplanation(data.explain);
    answer.dataset.state = "ok";
  } catch (e) {
    if (gen !== play.explainGen) return;
    play.explanation = null;
    $("level").textContent = "error";
    $("decided-by").textContent = e.message;
    answer.dataset.state = "error";
  }
}

function renderExplanation(x) {
  $("level").textContent = x.level ? x.level.name : "none (no SLA)";
  $("decided-by").textContent = x.decidedBy || "no rule";
  const rules = $("rules-trace").querySelector("tbody");
  rules.replaceChildren(...x.rules.map((r, i) => {
    const verdict = r.matched ? (r.setLevel ? `matched → ${r.setLevel}` : "matched") : "no match";
    const conds = el("ul", { class: "timeline" }, ...r.conditions.map((c) => el("li",
      { class: c.result ? "cond-true" : "cond-false" },
      el("code", {}, c.source), ` = ${JSON.stringify(c.value)} → ${c.result}`)));
    return el("tr", { "data-rule": r.title, "data-matched": String(r.matched) },
      el("td", {}, String(i + 1)),
      el("td", { class: r.stoppedHere ? "stopped" : "" }, r.title, r.stoppedHere ? " (stop)" : ""),
      el("td", { class: r.matched ? "matched" : "skipped" }, verdict),
      el("td", {}, r.conditions.length ? conds : "always"));
  }));
  const cycles = $("cycles").querySelector("tbody");
  cycles.replaceChildren(...x.cycles.map((c) => el("tr",
    { "data-metric": c.metric, "data-index": String(c.index), "data-due": c.dueAt || "" },
    el("td", {}, c.metric.toLowerCase()), el("td", {}, String(c.index)),
    el("td", { class: `state-${c.state}` }, c.state.toLowerCase()),
    el("td", {}, duration(c.targetSeconds)), el("td", {}, duration(c.elapsedSeconds)),
    el("td", {}, duration(c.remainingSeconds)), el("td", {}, instant(c.startedAt)),
    el("td", { class: "due" }, instant(c.dueAt)), el("td", {}, instant(c.breachedAt)),
    el("td", {}, el("ul", { class: "timeline" },
      ...c.timeline.map((e) => el("li", {}, `${e.kind} ${instant(e.at)}`)))))));
}

// -- fixture export -----------------------------------------------------------------

function tomlInstant(v) {
  return v ? v : '"none"';
}

function expectToml(x) {
  const head = ["[expect]", `level = ${JSON.stringify(x.level ? x.level.name : "none")}`];
  if (x.decidedBy) head.push(`rule = ${JSON.stringify(x.decidedBy)}`);
  const byMetric = new Map();
  for (const c of x.cycles) {
    const m = c.metric.toLowerCase();
    if (!byMetric.has(m)) byMetric.set(m, []);
    byMetric.get(m).push(c);
  }
  const metrics = ["first_response", "next_response", "periodic_response", "requester_wait",
    "agent_work", "resolution"];
  const tables = [];
  for (const m of metrics) {
    const cs = byMetric.get(m);
    if (!cs || !cs.length) {
      if (x.level) head.push(`${m} = "none"`);
      continue;
    }
    for (const c of cs) {
      tables.push("", cs.length > 1 ? `[[expect.${m}]]` : `[expect.${m}]`,
        `state = "${c.state.toLowerCase()}"`, `elapsed = "${duration(c.elapsedSeconds)}"`,
        `remaining = "${duration(c.remainingSeconds)}"`, `target = "${duration(c.targetSeconds)}"`,
        `started_at = ${c.startedAt}`, `stopped_at = ${tomlInstant(c.stoppedAt)}`,
        `due_at = ${tomlInstant(c.dueAt)}`, `breached_at = ${tomlInstant(c.breachedAt)}`);
    }
  }
  return [...head, ...tables].join("\n") + "\n";
}

function expectJson(x) {
  const out = { level: x.level ? x.level.name : "none" };
  if (x.decidedBy) out.rule = x.decidedBy;
  for (const c of x.cycles) {
    const m = c.metric.toLowerCase();
    const cycle = {
      state: c.state.toLowerCase(), elapsed: duration(c.elapsedSeconds),
      remaining: duration(c.remainingSeconds), target: duration(c.targetSeconds),
      started_at: c.startedAt, stopped_at: c.stoppedAt || "none", due_at: c.dueAt || "none",
      breached_at: c.breachedAt || "none",
    };
    out[m] = m in out ? [].concat(out[m], [cycle]) : cycle;
  }
  return out;
}

function withoutExpect(toml) {
  const kept = [];
  let inExpect = false;
  for (const line of toml.split("\n")) {
    const header = /^\s*\[\[?\s*([A-Za-z0-9_."-]+)\s*\]\]?/.exec(line);
    if (header) inExpect = header[1] === "expect" || header[1].startsWith("expect.");
    if (!inExpect) kept.push(line);
  }
  return kept.join("\n").replace(/\s*$/, "\n");
}

function fixtureText() {
  const x = play.explanation;
  if (!x) return null;
  const ticket = $("ticket").value;
  if (ticket.trimStart().startsWith("{")) {
    const doc = JSON.parse(ticket);
    doc.expect = expectJson(x);
    return JSON.stringify(doc, null, 2) + "\n";
  }
  return withoutExpect(ticket) + "\n" + expectToml(x);
}

async function copyFixture() {
  const text = fixtureText();
  const out = $("fixture-out");
  if (text === null) {
    out.value = "# no answer yet: fix the ruleset or the ticket first";
  } else {
    out.value = text;
    try { await navigator.clipboard.writeText(text); } catch (e) { /* shown below instead */ }
  }
  out.hidden = false;
  out.dataset.ready = "1";
}

// -- start ---------------------------------------------------------------------------

async function loadLiveRuleset() {
  try {
    const res = await getText("/playground/ruleset");
    $("rules").value = await res.text();
  } catch (e) {
    $("rules").value = `# could not load the live ruleset: ${e.message}\n`;
  }
  renderBackdrop();
  runCheck();
}

function start() {
  $("token-input").value = play.token;
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    play.token = $("token-input").value.trim();
    localStorage.setItem(TOKEN_KEY, play.token);
    loadLiveRuleset();
    parseTicket();
  });
  const rules = $("rules");
  rules.addEventListener("input", () => { renderBackdrop(); debounce("check", runCheck); });
  rules.addEventListener("scroll", syncScroll);
  $("ticket").addEventListener("input", () => debounce("ticket", parseTicket));
  $("reset-rules").addEventListener("click", loadLiveRuleset);
  $("copy-fixture").addEventListener("click", copyFixture);
  $("ticket").value = EXAMPLE_TICKET;
  loadLiveRuleset();
  parseTicket();
}

document.addEventListener("DOMContentLoaded", start);
