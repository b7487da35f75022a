// SLA board, part 1 of 5: DOM helpers and how times and durations are written.
// Plain scripts sharing one global scope, loaded in order: format, api, timeline, compliance, board.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const METRIC_NAMES = {
  FIRST_RESPONSE: "First response", NEXT_RESPONSE: "Next response",
  PERIODIC_RESPONSE: "Periodic response", REQUESTER_WAIT: "Requester wait",
  AGENT_WORK: "Agent work", RESOLUTION: "Resolution",
};
const TONES = {
  breached: "Breached", warned: "At risk", fine: "On track", paused: "Paused", met: "Met",
};
const VIEWER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

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

function pad(n) { return String(n).padStart(2, "0"); }

function metricName(m) { return METRIC_NAMES[m] || m; }

// -- business durations: hours and minutes, never days (a business day is not 24 h) ------

function fmtBusiness(seconds, withSeconds) {
  // 144000 -> "40h", 5400 -> "1h 30m", 2700 -> "45m"; under an hour a countdown shows seconds
  const s = Math.max(0, Math.floor(Math.abs(seconds)));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  if (withSeconds) return `${m}m ${pad(sec)}s`;
  if (m) return `${m}m`;
  return s ? `${s}s` : "0m";
}

// -- instants in a named zone --------------------------------------------------------------

const formatters = new Map();
function formatter(zone, opts) {
  const key = `${zone}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(undefined, { timeZone: zone, ...opts });
    } catch (e) {
      f = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", ...opts });
    }
    formatters.set(key, f);
  }
  return f;
}

const DAY_TIME = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

function zoneAbbrev(ms, zone) {
  const part = formatter(zone, { timeZoneName: "short" }).formatToParts(new Date(ms))
    .find((p) => p.type === "timeZoneName");
  return part ? part.value : zone;
}

function fmtIn(ms, zone) {
  // "Mar 2, 14:05 GMT+1": the wall time in `zone`, the zone always said
  return `${formatter(zone, DAY_TIME).format(new Date(ms))} ${zoneAbbrev(ms, zone)}`;
}

function fmtTime(iso, zone) {
  if (!iso) return "—";
  return fmtIn(Date.parse(iso), zone || VIEWER_ZONE);
}

function timeEl(iso, zone, what) {
  // the instant in the calendar's zone, the viewer's on hover (title)
  if (!iso) return null;
  const ms = Date.parse(iso);
  const z = zone || VIEWER_ZONE;
  const hover = z === VIEWER_ZONE
    ? `${what ? `${what}: ` : ""}${fmtIn(ms, z)} (${z}, also your time zone)`
    : `${what ? `${what}: ` : ""}${fmtIn(ms, z)} in ${z}; your time (${VIEWER_ZONE}): ${fmtIn(ms, VIEWER_ZONE)}`;
  return el("time", { datetime: iso, title: hover, "data-zone": z, text: fmtIn(ms, z) });
}

function zoneOffsetMs(ms, zone) {
  // the zone's UTC offset at `ms` (wall time minus UTC)
  const parts = formatter(zone, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  const wall = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour % 24, +v.minute, +v.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

// -- dates for the compliance range ---------------------------------------------------------

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

// -- event payloads as words ------------------------------------------------------------------

function fieldValue(v) {
  if (v === null || v === undefined) return "(empty)";
  if (Array.isArray(v)) return v.length ? v.map(fieldValue).join(", ") : "(none)";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function describeEvents(events, currentFields) {
  // one line of words per event: message texts, status and field changes with the value before
  // when it is known (a field's value before its first change is not in the API)
  const known = new Map();
  const touched = new Set();
  for (const e of events) {
    if (e.type === "update" && e.payload) {
      for (const k of Object.keys(e.payload.set || {})) touched.add(k);
      for (const k of e.payload.unset || []) touched.add(k);
    }
  }
  for (const [k, v] of Object.entries(currentFields || {})) if (!touched.has(k)) known.set(k, v);
  let status = null;
  return events.map((e) => {
    const p = e.payload || {};
    if (e.type === "message") {
      const who = p.by ? `${String(p.by).toLowerCase()} ` : "";
      const head = `${who}message${p.public === false ? " (private)" : ""}${p.channel ? ` via ${p.channel}` : ""}`;
      const text = p.text ? `: “${p.text.length > 280 ? `${p.text.slice(0, 279)}…` : p.text}”` : " (no text)";
      return head + text;
    }
    if (e.type === "status") {
      const line = status === null ? `status set to ${p.status}` : `status ${status} → ${p.status}`;
      status = p.status;
      return line;
    }
    if (e.type === "update") {
      const parts = [];
      for (const [k, v] of Object.entries(p.set || {})) {
        parts.push(known.has(k) ? `${k} ${fieldValue(known.get(k))} → ${fieldValue(v)}` : `${k} set to ${fieldValue(v)}`);
        known.set(k, v);
      }
      for (const k of p.unset || []) {
        parts.push(known.has(k) ? `${k} ${fieldValue(known.get(k))} removed` : `${k} removed`);
        known.delete(k);
      }
      return parts.length ? `fields: ${parts.join("; ")}` : "fields: no change";
    }
    return `${e.type}: ${JSON.stringify(p)}`;
  });
}
