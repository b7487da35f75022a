// SLA board, part 4 of 5: the compliance chart and table, and the per-assignee view.
"use strict";

const TARGET_KEY = "slarules.target";

function complianceRange() {
  const form = $("#compliance-form");
  const from = form.elements.from.value, to = form.elements.to.value;
  if (!from || !to) return null;
  const end = parseDateInput(to);
  end.setDate(end.getDate() + 1); // the "to" day is included
  const target = Number(form.elements.target.value);
  return {
    from: parseDateInput(from), to: end, group: form.elements.group.value,
    target: Number.isFinite(target) && target > 0 && target <= 100 ? target : null,
  };
}

function complianceFilter() {
  // the board's filters, for servers whose `compliance` takes one (SlaLogFilter fields)
  const f = currentFilter();
  const out = {};
  for (const k of ["level", "department", "assignee", "metric", "priority", "source"]) if (f[k]) out[k] = f[k];
  return out;
}

function complianceQuery() {
  const ft = board.features && board.features.complianceFilter;
  return `query($from: DateTime!, $to: DateTime!, $groupBy: [ComplianceDimension!]!${ft ? `, $filter: ${ft}` : ""}) {
  compliance(from: $from, to: $to, groupBy: $groupBy${ft ? ", filter: $filter" : ""}) {
    day department assignee level metric metCount breachedCount serviceLevel
    metAvgSeconds metMinSeconds metMaxSeconds breachedAvgSeconds breachedMinSeconds breachedMaxSeconds } }`;
}

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
  if (range.target) localStorage.setItem(TARGET_KEY, String(range.target));
  panelStatus(panel, "Loading…");
  try {
    await detectFeatures();
    const vars = { from: localIso(range.from), to: localIso(range.to), groupBy: [range.group] };
    const filtered = Boolean(board.features.complianceFilter);
    if (filtered) vars.filter = complianceFilter();
    const data = await gql(complianceQuery(), vars);
    let rows = data.compliance.map((r) => ({ ...r, label: groupLabel(r, range.group) }));
    if (range.group === "DAY") rows = fillDays(rows, range);
    else rows.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    const any = rows.some((r) => r.metCount + r.breachedCount);
    const note = filtered || !Object.keys(complianceFilter()).length ? ""
      : " This server's compliance report ignores the level/department/assignee/metric filters.";
    if (any) renderComplianceChart(rows, range);
    else $("#compliance-chart").replaceChildren(el("p", { class: "empty", text: "Nothing to chart: no cycle that started in this range has finished (met or breached)." }));
    renderComplianceTable(any ? rows : []);
    panelStatus(panel, (any ? "" : "No finished cycles started in this range.") + note);
    $("#compliance-panel").dataset.loaded = String(Date.now());
    $("#compliance-panel").dataset.filtered = String(filtered);
  } catch (e) {
    $("#compliance-chart").replaceChildren(); // never leave a stale chart beside an error
    $("#compliance-table tbody").replaceChildren();
    panelError(panel, "the compliance report", e);
  }
  loadAssignees();
}

function fillDays(rows, range) {
  // one slot per day of the range, empty days included (at most 62 shown)
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out = [];
  for (let d = new Date(range.from); d < range.to && out.length < 62; d.setDate(d.getDate() + 1)) {
    const key = dateInput(d);
    out.push(byDay.get(key) || { day: key, label: key, metCount: 0, breachedCount: 0, serviceLevel: null });
    byDay.delete(key);
  }
  for (const r of byDay.values()) out.push(r); // days in the ruleset's zone outside the local range
  out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return out;
}

function durations(avg, min, max) {
  if (avg === null || avg === undefined) return "—";
  return `${fmtBusiness(avg)} (${fmtBusiness(min)}–${fmtBusiness(max)})`;
}

function renderComplianceTable(rows) {
  const tbody = $("#compliance-table tbody");
  tbody.replaceChildren(...rows.map((r) => el("tr", {},
    el("th", { scope: "row", text: r.label }),
    el("td", { text: r.metCount }), el("td", { text: r.breachedCount }),
    el("td", { text: r.serviceLevel === null ? "—" : `${r.serviceLevel.toFixed(1)} %` }),
    el("td", { text: durations(r.metAvgSeconds, r.metMinSeconds, r.metMaxSeconds) }),
    el("td", { text: durations(r.breachedAvgSeconds, r.breachedMinSeconds, r.breachedMaxSeconds) }))));
}

function renderComplianceChart(rows, range) {
  const group = range.group;
  const W = 760, H = 280, M = { l: 44, r: 52, t: 24, b: group === "DAY" ? 64 : 56 };
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
    "aria-label": `Met and breached cycles and service level by ${group.toLowerCase()}` +
      `${range.target ? ` against a ${range.target} % target` : ""}. ${summary}`,
  });
  const axis = svg("g", { class: "axis" });
  axis.append(svg("line", { x1: M.l, y1: M.t + ph, x2: M.l + pw, y2: M.t + ph }),
    svg("line", { x1: M.l, y1: M.t, x2: M.l, y2: M.t + ph }),
    svg("line", { x1: M.l + pw, y1: M.t, x2: M.l + pw, y2: M.t + ph }));
  const step = Math.max(1, Math.ceil(maxCount / 4));
  for (let v = 0; v <= maxCount; v += step) {
    axis.append(svg("text", { x: M.l - 6, y: y(v) + 4, "text-anchor": "end", text: v }));
  }
  for (const p of [0, 50, 100]) axis.append(svg("text", { x: M.l + pw + 6, y: ySl(p) + 4, text: `${p}%` }));
  axis.append(svg("text", { x: M.l, y: M.t - 8, text: "cycles" }),
    svg("text", { x: M.l + pw, y: M.t - 8, "text-anchor": "end", text: "service level" }));
  chart.append(axis);
  if (range.target) {
    chart.append(svg("g", { class: "target" },
      svg("line", { class: "target-line", x1: M.l, x2: M.l + pw, y1: ySl(range.target), y2: ySl(range.target) }),
      svg("text", { x: M.l + 4, y: ySl(range.target) + 13, text: `target ${range.target}%` })));
  }
  const segments = [[]];
  const every = Math.ceil(n / (group === "DAY" ? 31 : 12));
  rows.forEach((r, i) => {
    const cx = M.l + slot * i + slot / 2;
    const g = svg("g", { class: "bar", "data-group": r.label },
      svg("title", { text: `${r.label}: ${r.metCount} met, ${r.breachedCount} breached, service level ${r.serviceLevel === null ? "n/a" : `${r.serviceLevel.toFixed(1)} %`}` }));
    const met0 = y(r.metCount), br0 = y(r.metCount + r.breachedCount);
    if (r.metCount) g.append(svg("rect", { class: "bar-met", x: cx - bw / 2, y: met0, width: bw, height: M.t + ph - met0 }));
    if (r.breachedCount) g.append(svg("rect", { class: "bar-breached", x: cx - bw / 2, y: br0, width: bw, height: met0 - br0 }));
    if (i % every === 0) {
      let label = group === "DAY" ? r.label.slice(5) : r.label;
      if (group !== "DAY" && label.length > 14) label = `${label.slice(0, 13)}…`;
      g.append(svg("text", {
        x: cx, y: M.t + ph + 14, "text-anchor": "end",
        transform: `rotate(-35 ${cx} ${M.t + ph + 14})`, text: label,
      }));
    }
    if (r.serviceLevel !== null) {
      segments[segments.length - 1].push([cx, ySl(r.serviceLevel)]);
      g.append(svg("circle", { class: "sl-dot", cx, cy: ySl(r.serviceLevel), r: 3.5 }));
    } else if (segments[segments.length - 1].length) {
      segments.push([]); // a day without finished cycles breaks the line
    }
    chart.append(g);
  });
  // a line only joins consecutive days; levels, assignees, … are unrelated categories: dots only
  if (group === "DAY") {
    for (const pts of segments) {
      if (pts.length > 1) chart.append(svg("polyline", { class: "sl-line", points: pts.map((p) => p.join(",")).join(" ") }));
    }
  }
  const legend = el("p", { class: "legend" },
    el("span", {}, el("span", { class: "swatch met", "aria-hidden": "true" }), "met (lower bar)"),
    el("span", {}, el("span", { class: "swatch breached", "aria-hidden": "true" }), "breached (upper bar)"),
    el("span", {}, el("span", { class: "swatch sl", "aria-hidden": "true" }), `service level % (${group === "DAY" ? "line" : "dots"}, right axis)`),
    range.target ? el("span", {}, el("span", { class: "swatch target", "aria-hidden": "true" }), `target ${range.target} %`) : null);
  $("#compliance-chart").replaceChildren(el("div", { class: "chart" }, chart), legend);
}

// -- per assignee ---------------------------------------------------------------------------------

async function loadAssignees() {
  const panel = "assignees-panel";
  const range = complianceRange();
  if (!range || range.to <= range.from) return;
  const tbody = $("#assignees tbody");
  try {
    await detectFeatures();
    const vars = { from: localIso(range.from), to: localIso(range.to) };
    let rows, note;
    if (board.features.assignees) {
      vars.filter = complianceFilter();
      const data = await gql(`query($from: DateTime!, $to: DateTime!, $filter: ${board.features.assignees}) {
        assignees(from: $from, to: $to, filter: $filter) {
          assignee openCount atRiskCount breachedCount metCount missedCount serviceLevel } }`, vars);
      rows = data.assignees;
      note = "Finished cycles are credited to the assignee when the cycle stopped.";
    } else {
      const data = await gql(`query($from: DateTime!, $to: DateTime!) {
        compliance(from: $from, to: $to, groupBy: [ASSIGNEE]) { assignee metCount breachedCount serviceLevel } }`, vars);
      rows = data.compliance.map((r) => ({
        assignee: r.assignee, openCount: null, atRiskCount: null, breachedCount: null,
        metCount: r.metCount, missedCount: r.breachedCount, serviceLevel: r.serviceLevel,
      }));
      note = "This server reports finished cycles per assignee only (open, at-risk and breached counts need a newer server).";
    }
    rows.sort((a, b) => String(a.assignee || "").localeCompare(String(b.assignee || "")));
    const num = (v) => (v === null || v === undefined ? "—" : String(v));
    tbody.replaceChildren(...rows.map((r) => el("tr", { "data-assignee": r.assignee || "" },
      el("th", { scope: "row" }, r.assignee
        ? el("button", { type: "button", class: "ticket-link", text: r.assignee, onclick: () => filterByAssignee(r.assignee) })
        : "(unassigned)"),
      el("td", { text: num(r.openCount) }), el("td", { text: num(r.atRiskCount) }),
      el("td", { text: num(r.breachedCount) }), el("td", { text: num(r.metCount) }),
      el("td", { text: num(r.missedCount) }),
      el("td", { text: r.serviceLevel === null || r.serviceLevel === undefined ? "—" : `${r.serviceLevel.toFixed(1)} %` }))));
    $("#assignees-note").textContent = note;
    panelStatus(panel, rows.length ? "" : "No assignee has cycles in this range.");
    $("#assignees-panel").dataset.loaded = String(Date.now());
  } catch (e) {
    tbody.replaceChildren();
    panelError(panel, "the assignees", e);
  }
}

function filterByAssignee(name) {
  $("#f-assignee").value = name;
  $("#filters").requestSubmit();
}
