// SLA board, part 3 of 5: one ticket's timeline (any ticket, closed ones too: `ticket(id)`).
"use strict";

const MARK_NAMES = {
  started: "started", paused: "paused", resumed: "resumed", warned: "warned",
  breached: "breached", stopped: "stopped",
};
const MINUTE = 60_000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
const TICK_STEPS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

function timelineQuery() {
  return `query($id: ID!) { ticket(id: $id) {
  id createdAt fields decidedBy level { ${levelFields()} }
  cycles { ${cycleFields()} rulesetVersion timeline { kind at } }
  events { eventId at type payload }
  evaluations { at rulesetVersion matchedRules levelBefore levelAfter decidedBy } } }`;
}

async function openTimeline(id, opener) {
  const panel = $("#timeline-panel");
  board.selected = id;
  board.timelineOpener = opener || null;
  for (const tr of document.querySelectorAll("#cycles tr.selected")) tr.classList.remove("selected");
  const row = board.rows.get(id);
  if (row) row.tr.classList.add("selected");
  if (decodeURIComponent(location.hash.replace(/^#ticket=/, "")) !== id) {
    history.replaceState(null, "", `${location.pathname}${location.search}#ticket=${encodeURIComponent(id)}`);
  }
  panel.hidden = false;
  panel.dataset.ticket = id;
  delete panel.dataset.loaded;
  $("#timeline-title").textContent = `Timeline of ticket ${id}`;
  $("#timeline-link").href = `#ticket=${encodeURIComponent(id)}`;
  $("#timeline-body").replaceChildren();
  panelStatus("timeline-panel", "Loading…");
  panel.scrollIntoView({ block: "nearest" });
  panel.focus();
  try {
    await detectFeatures();
    const data = await gql(timelineQuery(), { id });
    if (board.selected !== id) return;
    if (!data.ticket) { panelStatus("timeline-panel", `There is no ticket ${id}.`, true); return; }
    const t = data.ticket;
    const now = Date.now();
    const times = [Date.parse(t.createdAt), now];
    for (const c of t.cycles) for (const m of c.timeline) times.push(Date.parse(m.at));
    for (const e of t.events) times.push(Date.parse(e.at));
    let t0 = Math.min(...times), t1 = Math.max(...times);
    const span = Math.max(t1 - t0, 10 * MINUTE);
    t0 -= span * 0.03; t1 = t0 + span * 1.08;
    let hours = null, hoursNote = "";
    const calendar = t.level ? t.level.calendar : null;
    if (calendar) {
      try {
        if (t1 - t0 > 62 * DAY) hoursNote = "Business hours are not shaded for spans over 62 days.";
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
  if (location.hash) history.replaceState(null, "", `${location.pathname}${location.search}`);
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

function roundTicks(t0, t1, zone, most) {
  // ticks at round wall times of `zone` (every 15 min, 1 h, 6 h, midnight, …), at most `most`
  const step = TICK_STEPS.find((s) => (t1 - t0) / s <= most) || TICK_STEPS[TICK_STEPS.length - 1];
  const off0 = zoneOffsetMs(t0, zone);
  const ticks = [];
  for (let local = Math.ceil((t0 + off0) / step) * step; ticks.length <= most; local += step) {
    const utc = local - zoneOffsetMs(local - off0, zone);
    if (utc > t1) break;
    if (utc >= t0) ticks.push(utc);
  }
  const dayOf = formatter(zone, { month: "short", day: "numeric" });
  const hm = formatter(zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  let lastDay = null;
  return ticks.map((ms) => {
    const day = dayOf.format(new Date(ms));
    let text;
    if (step >= DAY) text = day;
    else text = day !== lastDay ? `${day} ${hm.format(new Date(ms))}` : hm.format(new Date(ms));
    lastDay = day;
    return { ms, text };
  });
}

function cycleStatus(c) {
  const tone = toneOf(c, null);
  if (c.stoppedAt) return c.state === "BREACHED" ? "Breached, then stopped" : "Met";
  return TONES[tone];
}

function renderTimeline(t, t0, t1, now, hours, hoursNote) {
  const zone = zoneOfLevel(t.level);
  const W = 900, L = 160, R = 24, laneH = 34, top = 22;
  const changes = t.evaluations.filter((ev, i) => i === 0 || ev.levelBefore !== ev.levelAfter);
  const lanes = [{ key: "events", label: "Events" }, { key: "level", label: "Level changes" },
    ...t.cycles.map((c) => ({ key: `${c.metric}-${c.index}`, label: `${metricName(c.metric)} #${c.index}`, cycle: c }))];
  const H = top + lanes.length * laneH + 34;
  const x = (ms) => L + ((ms - t0) / (t1 - t0)) * (W - L - R);
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Time axis of ticket ${t.id}: events, level changes and each cycle's marks (listed below)`,
  });
  if (hours) {
    for (const [a, b] of hours) {
      if (b <= t0 || a >= t1) continue;
      chart.append(svg("rect", { class: "open-hours", x: x(Math.max(a, t0)), y: top, width: Math.max(1, x(Math.min(b, t1)) - x(Math.max(a, t0))), height: lanes.length * laneH }));
    }
  }
  const events = describeEvents(t.events, t.fields);
  lanes.forEach((lane, i) => {
    const y0 = top + i * laneH, cy = y0 + laneH / 2;
    chart.append(svg("rect", { class: "lane-bg", x: L, y: y0 + 4, width: W - L - R, height: laneH - 8, "fill-opacity": 0.35 }));
    chart.append(svg("text", { x: L - 8, y: cy + 4, "text-anchor": "end", text: lane.label }));
    const g = svg("g", { class: "lane", "data-lane": lane.key });
    if (lane.key === "events") {
      t.events.forEach((e, n) => {
        g.append(svg("g", { class: "mark mark-event", "data-kind": e.type },
          svg("title", { text: `${fmtTime(e.at, zone)}: ${events[n]}` }),
          svg("circle", { cx: x(Date.parse(e.at)), cy, r: 4 })));
      });
    } else if (lane.key === "level") {
      for (const ev of changes) {
        const px = x(Date.parse(ev.at));
        g.append(svg("g", { class: "mark mark-eval", "data-kind": "evaluation" },
          svg("title", { text: `${fmtTime(ev.at, zone)}: level ${ev.levelBefore || "none"} → ${ev.levelAfter || "none"} (${ev.decidedBy || "no rule"}, ruleset ${ev.rulesetVersion})` }),
          svg("rect", { x: px - 4, y: cy - 4, width: 8, height: 8, transform: `rotate(45 ${px} ${cy})` })));
      }
    } else {
      const c = lane.cycle;
      for (const [a, b] of countingBands(c, now)) {
        g.append(svg("rect", { class: "counting", x: x(a), y: cy - 3, width: Math.max(1, x(b) - x(a)), height: 6 }));
      }
      for (const m of c.timeline) {
        g.append(svg("g", { class: `mark mark-${m.kind}`, "data-kind": m.kind, "data-cycle": lane.key },
          svg("title", { text: `${metricName(c.metric)} #${c.index} ${MARK_NAMES[m.kind] || m.kind} at ${fmtTime(m.at, zone)}` }),
          markShape(m.kind, x(Date.parse(m.at)), cy)));
      }
    }
    chart.append(g);
  });
  const axisY = top + lanes.length * laneH + 4;
  const axis = svg("g", { class: "axis" }, svg("line", { x1: L, y1: axisY, x2: W - R, y2: axisY }));
  for (const tick of roundTicks(t0, t1, zone, 6)) {
    const px = x(tick.ms);
    const anchor = px < L + 40 ? "start" : px > W - R - 40 ? "end" : "middle";
    axis.append(svg("line", { x1: px, y1: axisY, x2: px, y2: axisY + 4 }),
      svg("text", { x: px, y: axisY + 17, "text-anchor": anchor, "data-tick": new Date(tick.ms).toISOString(), text: tick.text }));
  }
  chart.append(axis);
  if (now >= t0 && now <= t1) {
    const px = x(now);
    chart.append(svg("line", { class: "now-line", x1: px, y1: top, x2: px, y2: axisY }),
      svg("text", { x: px, y: top - 6, "text-anchor": px > W - R - 20 ? "end" : "middle", text: "now" }));
  }

  const level = t.level ? `${t.level.title || t.level.name} (${t.level.name}, calendar ${t.level.calendar})` : "no SLA";
  const legend = el("p", { class: "legend" },
    el("span", {}, el("span", { class: "swatch open", "aria-hidden": "true" }), "business hours (level calendar)"),
    el("span", {}, el("span", { class: "swatch counting", "aria-hidden": "true" }), "cycle counting (not paused)"),
    el("span", { text: "marks: ▶ started/resumed · ‖ paused · ◆ warned · ✖ breached · ■ stopped" }),
    el("span", { text: `times in ${zone}` }));
  const cycleList = el("ul", {}, ...t.cycles.map((c) => el("li", {
    "data-cycle": `${c.metric}-${c.index}`, "data-tone": toneOf(c, null),
  },
  el("strong", { text: `${metricName(c.metric)} #${c.index}` }), " — ",
  el("span", { class: "badge", "data-tone": toneOf(c, null), text: cycleStatus(c) }),
  `; target ${fmtBusiness(c.targetSeconds)}, elapsed ${fmtBusiness(c.elapsedSeconds)}` +
  `${c.stoppedAt ? "" : c.remainingSeconds < 0 ? `, overdue ${fmtBusiness(c.remainingSeconds)}` : `, ${fmtBusiness(c.remainingSeconds)} left`}`,
  c.dueAt ? ", due " : "", c.dueAt ? timeEl(c.dueAt, zone, "due") : null,
  c.warnings && c.warnings.length ? `; warned ${c.warnings.map((w) => fmtTime(w.at, zone)).join(", ")}` : "",
  `; ruleset ${c.rulesetVersion}: `,
  c.timeline.map((m) => `${MARK_NAMES[m.kind] || m.kind} ${fmtTime(m.at, zone)}`).join(" · "))));
  const eventList = el("ol", {}, ...t.events.map((e, n) => el("li", { "data-kind": e.type },
    timeEl(e.at, zone), ` ${events[n]}`)));
  const same = t.evaluations.length - changes.length;
  const evals = el("ol", {}, ...changes.map((ev) => el("li", {},
    timeEl(ev.at, zone),
    ` level ${ev.levelBefore || "none"} → ${ev.levelAfter || "none"}, decided by ${ev.decidedBy || "no rule"}` +
    `${ev.matchedRules.length ? ` (matched: ${ev.matchedRules.join(", ")})` : ""}; ruleset ${ev.rulesetVersion}`)));
  $("#timeline-body").replaceChildren(...[
    el("p", {}, `Level: ${level}; decided by ${t.decidedBy || "no rule"}. Created `, timeEl(t.createdAt, zone), "."),
    el("div", { class: "timeline" }, chart), legend,
    hoursNote ? el("p", { class: "hint", text: hoursNote }) : null,
    el("div", { class: "timeline-lists" },
      el("div", {}, el("h3", { text: "Cycles" }), t.cycles.length ? cycleList : el("p", { text: "No SLA cycles (no SLA level)." })),
      el("div", {}, el("h3", { text: "Events" }), t.events.length ? eventList : el("p", { text: "No events yet." })),
      el("div", {}, el("h3", { text: "Level changes" }), evals,
        same ? el("p", { class: "hint", text: `${same} other evaluation${same === 1 ? "" : "s"} kept the level.` }) : null)),
  ].filter(Boolean));
}
