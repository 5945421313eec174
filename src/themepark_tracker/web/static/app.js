/* The Hall of Shame dashboard: reads /api, keeps its state in the URL, never reloads. */
"use strict";

(function () {
  const PERIODS = ["today", "yesterday", "last_7_days", "last_30_days", "last_week", "last_month"];
  const PERIOD_NAMES = {
    today: "today", yesterday: "yesterday", last_7_days: "the last 7 days",
    last_30_days: "the last 30 days", last_week: "last week", last_month: "last month",
  };
  const VIEWS = ["downtime", "waits", "trends", "park", "ride"];
  const REFRESH_MS = 60000;
  const HISTORY_POLL_MS = 3000;
  const main = document.getElementById("main");
  let session = null;
  let generation = 0;
  let charts = [];

  /* ---- state in the URL ---------------------------------------------------------- */

  function readState() {
    const q = new URLSearchParams(window.location.search);
    const state = {
      view: VIEWS.includes(q.get("view")) ? q.get("view") : "downtime",
      period: PERIODS.includes(q.get("period")) ? q.get("period") : "today",
      from: q.get("from"), to: q.get("to"),
      filter: q.get("filter") === "disney-universal" ? "disney-universal" : "all",
      park: q.get("park"), ride: q.get("ride"), date: q.get("date"),
      psort: q.get("psort") || "shame", porder: q.get("porder") || "desc",
      rsort: q.get("rsort") || "downtime", rorder: q.get("rorder") || "desc",
      mode: ["live", "average", "peak"].includes(q.get("mode")) ? q.get("mode") : "live",
    };
    if (!(state.from && state.to)) { state.from = null; state.to = null; }
    return state;
  }

  function writeState(state) {
    const q = new URLSearchParams();
    q.set("view", state.view);
    if (state.from && state.to) { q.set("from", state.from); q.set("to", state.to); }
    else q.set("period", state.period);
    if (state.filter !== "all") q.set("filter", state.filter);
    if (state.view === "park" && state.park) q.set("park", state.park);
    if (state.view === "ride" && state.ride) q.set("ride", state.ride);
    if (state.view === "ride" && state.date) q.set("date", state.date);
    if (state.view === "downtime" && (state.psort !== "shame" || state.porder !== "desc")) { q.set("psort", state.psort); q.set("porder", state.porder); }
    if ((state.view === "downtime" || state.view === "park") && (state.rsort !== "downtime" || state.rorder !== "desc")) { q.set("rsort", state.rsort); q.set("rorder", state.rorder); }
    if (state.view === "waits") q.set("mode", state.mode);
    return "?" + q.toString();
  }

  function go(patch) {
    const state = Object.assign(readState(), patch);
    window.history.pushState(null, "", writeState(state));
    render();
  }

  function periodParams(state) {
    return state.from && state.to ? { from: state.from, to: state.to } : { period: state.period };
  }

  function periodLabel(state) {
    return state.from && state.to ? `${state.from} to ${state.to}` : PERIOD_NAMES[state.period];
  }

  /* ---- talking to the API -------------------------------------------------------- */

  /* Where keys are required, this page's session (a cookie) stands in for one. */
  function newSession() {
    session = fetch("/api/session", { method: "POST", credentials: "same-origin" }).catch(() => null);
    return session;
  }

  async function api(path, params) {
    const url = path + (params ? "?" + new URLSearchParams(params).toString() : "");
    const asked = session;
    await asked;
    let response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {  /* the session expired: a new one, then once more */
      await (session === asked ? newSession() : session);
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    }
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  /* ---- building the page --------------------------------------------------------- */

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function external(url, label) {
    return h("a", { href: url, target: "_blank", rel: "noopener", class: "qt", title: "Open on Queue-Times.com" }, label || "Queue-Times ↗");
  }

  function internal(patch, label) {
    const state = Object.assign(readState(), patch);
    const link = h("a", { href: writeState(state) }, label);
    link.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      go(patch);
    });
    return link;
  }

  function parkLink(parkId, name) { return internal({ view: "park", park: String(parkId) }, name); }
  function rideLink(rideId, name) { return internal({ view: "ride", ride: String(rideId), date: null }, name); }

  function shameBadge(score) {
    if (score === null || score === undefined) return h("span", { class: "shame none" }, "–");
    const band = score < 1 ? "good" : score < 2.5 ? "fair" : score < 5 ? "poor" : "bad";
    return h("span", { class: `shame ${band}`, title: `shame score ${score} of 10` }, score.toFixed(2));
  }

  function statusBadge(status) {
    const label = { running: "Running", down: "Down", closed: "Closed", refurbishment: "Refurbishment", unknown: "Unknown" }[status] || status;
    return h("span", { class: `status ${status}` }, label);
  }

  function tierBadge(tier) {
    return h("span", { class: `tier tier-${tier || "none"}`, title: tier ? `tier ${tier}` : "unclassified" }, tier ? `T${tier}` : "–");
  }

  function trend(pct) {
    if (pct === null || pct === undefined) return h("span", { class: "trend none" }, "–");
    const worse = pct > 0;
    return h("span", { class: `trend ${worse ? "worse" : "better"}`, title: worse ? "more downtime than the period before" : "less downtime than the period before" },
      `${worse ? "▲" : "▼"} ${Math.abs(pct).toFixed(1)} %`);
  }

  function bar(value, max) {
    const track = h("span", { class: "bar", "aria-hidden": "true" });
    const fill = h("span", { class: "fill" });
    fill.style.width = max > 0 ? `${Math.max(0, Math.min(100, (100 * value) / max))}%` : "0";
    track.append(fill);
    return track;
  }

  /* A table whose sortable headers ask the API for another order. */
  function table(caption, columns, rows, sort) {
    const head = h("tr", {}, columns.map((col) => {
      if (!col.sort || !sort) return h("th", { scope: "col", class: col.num ? "num" : null }, col.label);
      const active = sort.key === col.sort;
      const nextOrder = active && sort.order === "desc" ? "asc" : "desc";
      const button = h("button", { type: "button", class: "sort", onclick: () => sort.change(col.sort, active ? nextOrder : "desc") },
        col.label, h("span", { "aria-hidden": "true" }, active ? (sort.order === "desc" ? " ↓" : " ↑") : ""));
      return h("th", { scope: "col", class: col.num ? "num" : null, "aria-sort": active ? (sort.order === "desc" ? "descending" : "ascending") : "none" }, button);
    }));
    const body = h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((col) => h("td", { class: col.num ? "num" : null, "data-label": col.label }, col.cell(row))))));
    return h("div", { class: "table-wrap" }, h("table", {}, h("caption", {}, caption), h("thead", {}, head), body));
  }

  function section(title, ...content) {
    return h("section", { class: "panel" }, h("h2", {}, title), ...content);
  }

  function empty(message) { return h("p", { class: "state empty" }, message); }

  function failed(what, error) {
    return h("div", { class: "state error", role: "alert" },
      h("p", {}, `Could not load ${what}: ${error.message}`),
      h("button", { type: "button", onclick: () => render() }, "Try again"));
  }

  /* ---- header and statistics ----------------------------------------------------- */

  function syncControls(state) {
    for (const button of document.querySelectorAll("[data-period]")) {
      const custom = button.dataset.period === "custom";
      const pressed = custom ? Boolean(state.from && state.to) : !(state.from && state.to) && button.dataset.period === state.period;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    }
    const form = document.getElementById("custom-range");
    if (state.from && state.to) { form.elements.from.value = state.from; form.elements.to.value = state.to; }
    document.getElementById("filter").value = state.filter;
    for (const tab of document.querySelectorAll("[data-view]")) {
      const current = tab.dataset.view === state.view;
      if (current) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
      tab.setAttribute("href", writeState(Object.assign({}, state, { view: tab.dataset.view })));
    }
  }

  function age(iso) {
    if (!iso) return "no data";
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return "updated just now";
    if (minutes < 120) return `updated ${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    return hours < 48 ? `updated ${hours} h ago` : `updated ${Math.round(hours / 24)} days ago`;
  }

  async function renderStats(state) {
    const set = (id, text) => { document.getElementById(id).textContent = text; };
    try {
      const [live, parks] = await Promise.all([
        api("/api/live/summary", { filter: state.filter }),
        api("/api/parks/downtime", Object.assign({ filter: state.filter, limit: 1 }, periodParams(state))),
      ]);
      set("stat-parks", String(parks.stats.parks_tracked));
      set("stat-running", String(live.data.running));
      set("stat-down", String(live.data.down));
      set("stat-peak", parks.stats.peak_downtime_hours === null ? "–" : `${parks.stats.peak_downtime_hours.toFixed(1)} h`);
      set("stat-age", age(live.meta.data_updated_at));
    } catch (error) {
      set("stat-age", "unavailable");
    }
  }

  /* ---- a history being built behind the server (the demo) ------------------------ */

  /* /api/health reports it; each day it imports shows at once, so the view is redrawn
     whenever the stored history grows, and once more when it is complete. */
  async function watchHistory(seen) {
    const line = document.getElementById("history-build");
    let history = null;
    try {
      const response = await fetch("/api/health", { credentials: "same-origin", headers: { Accept: "application/json" } });
      history = (await response.json()).history || null;
    } catch (error) {
      window.setTimeout(() => watchHistory(seen), HISTORY_POLL_MS);
      return;
    }
    if (history === null || (history.state === "done" && seen === undefined)) { line.hidden = true; return; }
    line.hidden = false;
    line.classList.toggle("failed", history.state === "failed");
    const days = Math.round(history.days);
    if (history.state === "building") {
      const upTo = history.imported_until ? `; stored up to ${new Date(history.imported_until).toLocaleString()}` : "";
      line.replaceChildren(
        `Building ${days} days of history: ${Math.floor(history.percent)} %`,
        h("progress", { max: "100", value: String(history.percent), "aria-hidden": "true" }),
        `the rankings fill in as each day is imported${upTo}.`,
      );
    } else if (history.state === "failed") {
      line.replaceChildren(`Building the history stopped: ${history.detail || "see the demo's log"}. What was imported is shown.`);
    } else {
      line.hidden = true;
    }
    if (seen !== undefined && history.imported_until !== seen) render(true);
    if (history.state === "building") window.setTimeout(() => watchHistory(history.imported_until), HISTORY_POLL_MS);
  }

  /* ---- the views ----------------------------------------------------------------- */

  async function downtimeView(state) {
    const period = periodParams(state);
    const live = !state.from && state.period === "today";
    const [parks, rides, down] = await Promise.all([
      api("/api/parks/downtime", Object.assign({ filter: state.filter, sort: state.psort, order: state.porder }, period)),
      api("/api/rides/downtime", Object.assign({ filter: state.filter, sort: state.rsort, order: state.rorder, limit: 50 }, period)),
      live ? api("/api/live/down", { filter: state.filter }) : null,
    ]);
    const ranked = parks.data.filter((p) => p.rank !== null);
    const worst = Math.max(0, ...ranked.map((p) => p.figures.downtime_hours));
    const parkColumns = [
      { label: "#", num: true, cell: (p) => p.rank === null ? "–" : p.rank },
      { label: "Park", sort: "name", cell: (p) => h("span", {}, parkLink(p.park_id, p.name), " ", external(p.queue_times_url, "↗")) },
      { label: "Location", cell: (p) => p.location },
      { label: "Shame", sort: "shame", num: true, cell: (p) => shameBadge(p.figures.shame_score) },
      { label: "Downtime", sort: "downtime", num: true, cell: (p) => h("span", { class: "with-bar" }, `${fixed(p.figures.downtime_hours, 1)} h`, bar(p.figures.downtime_hours, worst)) },
      { label: "Uptime", sort: "uptime", num: true, cell: (p) => p.figures.uptime_pct === null ? "–" : `${fixed(p.figures.uptime_pct, 1)} %` },
      { label: "Rides with downtime", sort: "rides_with_downtime", num: true, cell: (p) => `${p.rides_with_downtime} / ${p.rides_tracked}` },
      { label: "Down now", num: true, cell: (p) => p.park_open_now ? p.rides_down_now : "closed" },
      { label: "Trend", sort: "trend", num: true, cell: (p) => trend(p.figures.trend_pct) },
    ];
    const rideColumns = [
      { label: "#", num: true, cell: (r) => r.rank },
      { label: "Ride", sort: "name", cell: (r) => h("span", {}, rideLink(r.ride_id, r.name), " ", external(r.queue_times_url, "↗")) },
      { label: "Tier", cell: (r) => tierBadge(r.tier) },
      { label: "Park", cell: (r) => parkLink(r.park_id, r.park_name) },
      { label: "Downtime", sort: "downtime", num: true, cell: (r) => `${fixed(r.figures.downtime_hours, 1)} h` },
      { label: "Uptime", sort: "uptime", num: true, cell: (r) => r.figures.uptime_pct === null ? "–" : `${fixed(r.figures.uptime_pct, 1)} %` },
      { label: "Closures", sort: "events", num: true, cell: (r) => r.downtime_events },
      { label: "Status", cell: (r) => statusBadge(r.live_status) },
      { label: "Trend", num: true, cell: (r) => trend(r.figures.trend_pct) },
      { label: "7-day avg", num: true, cell: (r) => r.avg_downtime_7d_hours === null ? "–" : `${fixed(r.avg_downtime_7d_hours, 1)} h/day` },
      { label: "Outages /100 h", sort: "outages_per_100h", num: true, cell: (r) => outageFigure(r.reliability.all, "outages_per_100h", "", 1) },
    ];
    const anyDowntime = ranked.some((p) => p.figures.downtime_hours > 0);
    const chance = (r) => {
      if (!r.recovery) return "–";
      if (r.recovery.pool === null) return h("span", { class: "gated", title: "no pool of past outages has enough" }, "not enough data");
      return h("span", { title: `${r.recovery.outages} outages (${r.recovery.pool.replace("_", " ")}), last 90 days` }, `${fixed(100 * r.recovery.p_open_within["30"], 0)} %`);
    };
    const downColumns = [
      { label: "Ride", cell: (r) => h("span", {}, rideLink(r.ride_id, r.name), " ", external(r.queue_times_url, "↗")) },
      { label: "Tier", cell: (r) => tierBadge(r.tier) },
      { label: "Park", cell: (r) => parkLink(r.park_id, r.park_name) },
      { label: "Down for", num: true, cell: (r) => r.down_for_minutes === null ? "–" : `${fixed(r.down_for_minutes, 0)} min` },
      { label: "Park-wide", cell: (r) => r.park_wide ? "yes" : "" },
      { label: "Back within 30 min", num: true, cell: chance },
      { label: "Median left", num: true, cell: (r) => r.recovery && r.recovery.median_remaining_minutes !== null ? `${fixed(r.recovery.median_remaining_minutes, 0)} min` : "–" },
    ];
    const downNow = down && section("Down now", down.data.length ? table("Rides down now, longest first", downColumns, down.data) : empty("No ride is down right now."));
    return [
      section(`Parks — ${periodLabel(state)}`,
        ranked.length && anyDowntime
          ? table("Parks ranked by shame score", parkColumns, parks.data, { key: state.psort, order: state.porder, change: (key, order) => go({ psort: key, porder: order }) })
          : empty("No downtime recorded for this period.")),
      section(`Rides — ${periodLabel(state)}`,
        rides.data.length
          ? table("Rides ranked by downtime", rideColumns, rides.data, { key: state.rsort, order: state.rorder, change: (key, order) => go({ rsort: key, rorder: order }) })
          : empty("No downtime recorded for this period.")),
      downNow,
    ].filter(Boolean);
  }

  async function waitsView(state) {
    const params = Object.assign({ filter: state.filter, mode: state.mode }, state.mode === "live" ? {} : periodParams(state));
    const [rides, parks] = await Promise.all([api("/api/rides/waittimes", params), api("/api/parks/waittimes", params)]);
    const modes = h("div", { class: "modes", role: "group", "aria-label": "Wait time mode" },
      [["live", "Live now"], ["average", "Average"], ["peak", "Peak"]].map(([mode, label]) =>
        h("button", { type: "button", "aria-pressed": state.mode === mode ? "true" : "false", onclick: () => go({ mode }) }, label)));
    const when = state.mode === "live" ? "now" : periodLabel(state);
    const rideColumns = [
      { label: "#", num: true, cell: (r) => r.rank },
      { label: "Ride", cell: (r) => h("span", {}, rideLink(r.ride_id, r.name), " ", external(r.queue_times_url, "↗")) },
      { label: "Park", cell: (r) => parkLink(r.park_id, r.park_name) },
      { label: "Wait", num: true, cell: (r) => `${fixed(r.wait_minutes, 0)} min` },
    ];
    const parkColumns = [
      { label: "#", num: true, cell: (p) => p.rank },
      { label: "Park", cell: (p) => h("span", {}, parkLink(p.park_id, p.name), " ", external(p.queue_times_url, "↗")) },
      { label: state.mode === "live" ? "Average wait now" : state.mode === "peak" ? "Peak wait" : "Average wait", num: true, cell: (p) => `${fixed(p.wait_minutes, 0)} min` },
      { label: "Rides posting", num: true, cell: (p) => p.rides_reporting === null ? "–" : p.rides_reporting },
    ];
    return [
      modes,
      section(`Rides — ${when}`, rides.data.length ? table("Rides by wait time, longest first", rideColumns, rides.data) : empty(state.mode === "live" ? "No ride is posting a wait right now." : "No waits recorded for this period.")),
      section(`Parks — ${when}`, parks.data.length ? table("Parks by wait time, longest first", parkColumns, parks.data) : empty(state.mode === "live" ? "No park is posting waits right now." : "No waits recorded for this period.")),
    ];
  }

  async function trendsView(state) {
    const body = await api("/api/trends", Object.assign({ filter: state.filter }, periodParams(state)));
    const columns = (kind) => [
      { label: kind === "parks" ? "Park" : "Ride", cell: (t) => h("span", {}, kind === "parks" ? parkLink(t.id, t.name) : rideLink(t.id, t.name), " ", external(t.queue_times_url, "↗")) },
      kind === "rides" ? { label: "Park", cell: (t) => parkLink(t.park_id, t.park_name) } : null,
      { label: "Before", num: true, cell: (t) => `${fixed(t.previous_uptime_pct, 1)} %` },
      { label: "Now", num: true, cell: (t) => `${fixed(t.current_uptime_pct, 1)} %` },
      { label: "Change", num: true, cell: (t) => h("span", { class: t.change_pct_points > 0 ? "trend better" : "trend worse" }, `${t.change_pct_points > 0 ? "+" : ""}${fixed(t.change_pct_points, 1)} pts`) },
    ].filter(Boolean);
    const lists = [
      ["parks-improving", "Parks improving", "parks"], ["parks-declining", "Parks declining", "parks"],
      ["rides-improving", "Rides improving", "rides"], ["rides-declining", "Rides declining", "rides"],
    ];
    return [
      h("p", { class: "note" }, `Uptime over ${periodLabel(state)} against the period of the same length before it; changes of ${body.threshold_pct_points} points or more.`),
      h("div", { class: "grid" }, lists.map(([key, title, kind]) =>
        section(title, body.data[key] && body.data[key].length ? table(title, columns(kind), body.data[key]) : empty("No change of that size.")))),
    ];
  }

  function chart(target, title, series, data, height, daily, zone) {
    if (typeof window.uPlot !== "function") return;
    const width = Math.max(280, target.clientWidth || 600);
    const days = { incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400], values: "{M}/{D}" };
    const tzDate = zone ? (ts) => window.uPlot.tzDate(new Date(ts * 1e3), zone) : undefined;
    const plot = new window.uPlot({ title, width, height: height || 240, series, tzDate, scales: { x: { time: true } }, axes: [daily ? days : {}, { label: series[1].label }].concat(series.length > 2 ? [{ side: 1, scale: series[2].scale, label: series[2].label, grid: { show: false } }] : []) }, data, target);
    charts.push(plot);
  }

  function dayStamp(iso) { return Date.parse(iso + "T12:00:00Z") / 1000; }

  async function parkView(state) {
    if (!/^\d+$/.test(state.park || "")) throw new Error("no park chosen");
    const body = await api(`/api/parks/${state.park}`, periodParams(state));
    const d = body.data;
    document.title = `${d.park.name} — Theme Park Hall of Shame`;
    const tiers = d.park.tier_distribution;
    const total = tiers.tier_1 + tiers.tier_2 + tiers.tier_3 + tiers.unclassified;
    const tierList = h("ul", { class: "tiers" }, [["tier_1", "Tier 1 (headliners, weight 3)"], ["tier_2", "Tier 2 (weight 2)"], ["tier_3", "Tier 3 (family, weight 1)"], ["unclassified", "Unclassified (weight 2)"]].map(([key, label]) =>
      h("li", {}, h("span", { class: "tier-label" }, label), bar(tiers[key], total), h("span", { class: "num" }, String(tiers[key])))));
    const chartBox = h("div", { class: "chart", id: "park-chart" });
    const heat = heatmap(d.heatmap);
    const zone = d.park.timezone;
    const span = (a, b) => (a && b ? `${localTime(a, zone)}–${localTime(b, zone)}` : "–");
    /* Published hours (all kinds) against the run of active polls the tracker saw. */
    const published = (s) => s.published.length
      ? s.published.map((p) => `${p.kind === "OPERATING" ? "" : (p.description || p.kind.toLowerCase().replace("_", " ")) + " "}${span(p.opens_at, p.closes_at)}`).join(", ")
      : "not published";
    const hours = d.operating_sessions.length
      ? table("Operating hours per day: published against observed", [
        { label: "Day", cell: (s) => s.date },
        { label: "Published", cell: (s) => published(s) },
        { label: "Observed", cell: (s) => span(s.observed_opened_at, s.observed_closed_at) },
        { label: "Counted", cell: (s) => h("span", { title: s.scheduled ? "the published hours are the session" : "no published hours: the session is the run of active polls" }, span(s.opened_at, s.closed_at), s.scheduled ? " (published)" : " (observed)") },
        { label: "Hours", num: true, cell: (s) => fixed(s.operating_hours, 1) },
      ], d.operating_sessions)
      : empty("The park did not operate in this period.");
    const quality = h("div", { class: "quality" }, empty("Loading data quality…"));
    const rideColumns = [
      { label: "#", num: true, cell: (r) => r.rank },
      { label: "Ride", cell: (r) => h("span", {}, rideLink(r.ride_id, r.name), " ", external(r.queue_times_url, "↗")) },
      { label: "Tier", cell: (r) => tierBadge(r.tier) },
      { label: "Downtime", sort: "downtime", num: true, cell: (r) => `${fixed(r.figures.downtime_hours, 1)} h` },
      { label: "Uptime", sort: "uptime", num: true, cell: (r) => r.figures.uptime_pct === null ? "–" : `${fixed(r.figures.uptime_pct, 1)} %` },
      { label: "Closures", sort: "events", num: true, cell: (r) => r.downtime_events },
      { label: "Status", cell: (r) => statusBadge(r.live_status) },
      { label: "Outages /100 h", sort: "outages_per_100h", num: true, cell: (r) => outageFigure(r.reliability.all, "outages_per_100h", "", 1) },
      { label: "MTBF", sort: "mtbf", num: true, cell: (r) => outageFigure(r.reliability.all, "mtbf_hours", " h", 1) },
      { label: "MTTR", sort: "mttr", num: true, cell: (r) => outageFigure(r.reliability.all, "mttr_minutes", " min", 0) },
    ];
    /* The park's rides are all here: they sort in the page, by the figure the API sorts by. */
    const key = {
      downtime: (r) => r.figures.downtime_hours, uptime: (r) => r.figures.uptime_pct, events: (r) => r.downtime_events,
      outages_per_100h: (r) => r.reliability.all.outages_per_100h, mtbf: (r) => r.reliability.all.mtbf_hours, mttr: (r) => r.reliability.all.mttr_minutes,
    }[state.rsort] || ((r) => r.figures.downtime_hours);
    const sign = state.rorder === "asc" ? 1 : -1;
    const parkRides = [...d.rides].sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === null || y === null) return (x === null) - (y === null);
      return sign * (x - y) || a.rank - b.rank;
    });
    const view = [
      h("div", { class: "page-head" },
        h("h2", {}, d.park.name, " ", external(d.park.queue_times_url), " ", subscribe(`/feeds/parks/${state.park}.atom`, `${d.park.name}: rides down and back`)),
        h("p", {}, `${d.park.operator} · ${d.park.country} · ${d.park.timezone} · ${periodLabel(state)} (${d.figures.first} to ${d.figures.last})`),
        h("p", { class: "figures" },
          h("span", {}, "Shame ", shameBadge(d.figures.shame_score)),
          h("span", {}, `Downtime ${fixed(d.figures.downtime_hours, 1)} h`),
          h("span", {}, `Uptime ${d.figures.uptime_pct === null ? "–" : fixed(d.figures.uptime_pct, 1) + " %"}`),
          h("span", {}, `${d.rides_with_downtime} of ${d.rides_tracked} rides with downtime`),
          h("span", {}, d.live.open_now ? `Open now, ${d.live.rides_down_now} rides down` : "Closed now"),
          h("span", {}, "Outages ", outageFigure(d.reliability.all, "outages", "", 0), ", MTBF ", outageFigure(d.reliability.all, "mtbf_hours", " h", 1), ", MTTR ", outageFigure(d.reliability.all, "mttr_minutes", " min", 0)),
          h("span", {}, "Trend ", trend(d.figures.trend_pct)),
          d.days_with_published_hours ? h("span", { title: "days whose session was the park's published operating hours" }, `${d.days_with_published_hours} of ${d.days.length} days counted with published hours`) : null)),
      h("div", { class: "grid" }, section("Rides by tier", tierList), section("Operating hours", hours)),
      section("Daily downtime and shame", d.days.length ? chartBox : empty("No statistics for this period.")),
      section("Downtime by ride and day", heat),
      section("Rides", d.rides.length ? table("The park's rides ranked by downtime", rideColumns, parkRides, { key: state.rsort, order: state.rorder, change: (k, order) => go({ rsort: k, rorder: order }) }) : empty("No downtime recorded for this period.")),
      section("Data quality", quality),
      body.attribution.second_source_url
        ? h("p", { class: "note" }, "Data powered by ", h("a", { href: body.attribution.url, rel: "noopener", target: "_blank" }, "Queue-Times.com"), " and ", h("a", { href: body.attribution.second_source_url, rel: "noopener", target: "_blank" }, "ThemeParks.wiki"), " (published hours and ride statuses).")
        : null,
    ].filter(Boolean);
    const draw = () => {
      qualityPanel(quality, state.park, d.figures.first, d.figures.last);
      if (!d.days.length) return;
      chart(chartBox, "Downtime (h) and shame score per day", [
        {},
        { label: "Downtime (h)", stroke: "#e4572e", fill: "rgba(228,87,46,0.15)", width: 2, spanGaps: false },
        { label: "Shame", stroke: "#2a9d8f", width: 2, scale: "shame" },
      ], [d.days.map((x) => dayStamp(x.date)), d.days.map((x) => (x.operating_hours > 0 ? x.downtime_hours : null)), d.days.map((x) => x.shame_score)], 240, true);
    };
    return { nodes: view, after: draw };
  }

  /* Per day: what the figures were counted from. At most the last 31 days of the period. */
  async function qualityPanel(target, park, first, last) {
    const from = new Date(Math.max(Date.parse(first), Date.parse(last) - 30 * 86400e3)).toISOString().slice(0, 10);
    let body;
    try {
      body = await api(`/api/parks/${park}/data-quality`, { from, to: last });
    } catch (error) {
      target.replaceChildren(empty(`Data quality unavailable: ${error.message}`));
      return;
    }
    target.replaceChildren(table("Data quality per day", [
      { label: "Day", cell: (q) => q.date },
      { label: "Polls", num: true, cell: (q) => q.polls },
      { label: "Queue-Times answers", num: true, cell: (q) => q.sources_answered.queue_times },
      { label: "ThemeParks.wiki answers", num: true, cell: (q) => q.sources_answered.themeparks_wiki },
      { label: "Hours", cell: (q) => (q.scheduled === null ? "–" : q.scheduled ? "published" : "observed") },
      { label: "Disagreements", num: true, cell: (q) => q.disagreements },
      { label: "Stale readings", num: true, cell: (q) => q.stale_readings },
      { label: "Invalid waits", num: true, cell: (q) => q.invalid_waits },
    ], body.data.days));
  }

  function heatmap(data) {
    if (!data.rides.length) return empty("No ride ran in this period.");
    const max = Math.max(0.01, ...data.rides.flatMap((r) => r.downtime_hours.filter((v) => v !== null)));
    const grid = h("div", { class: "heatmap", role: "table", "aria-label": "Downtime hours by ride and day" });
    grid.style.gridTemplateColumns = `minmax(8rem, 14rem) repeat(${data.dates.length}, minmax(1.1rem, 1fr))`;
    grid.append(h("div", { class: "corner", role: "columnheader" }, "Ride"));
    for (const day of data.dates) grid.append(h("div", { class: "day", role: "columnheader", title: day }, day.slice(8)));
    for (const ride of data.rides) {
      grid.append(h("div", { class: "ride", role: "rowheader" }, rideLink(ride.ride_id, ride.name)));
      ride.downtime_hours.forEach((value, i) => {
        const cell = h("div", { class: value === null ? "cell off" : "cell", role: "cell", title: `${ride.name}, ${data.dates[i]}: ${value === null ? "did not run" : value.toFixed(2) + " h down"}` });
        if (value !== null) cell.style.backgroundColor = `rgba(228, 87, 46, ${(0.08 + 0.92 * value / max).toFixed(3)})`;
        grid.append(cell);
      });
    }
    return h("div", { class: "heatmap-wrap" }, grid);
  }

  function localTime(iso, zone) {
    return new Intl.DateTimeFormat("en-US", { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(iso));
  }

  async function rideView(state) {
    if (!/^\d+$/.test(state.ride || "")) throw new Error("no ride chosen");
    const params = periodParams(state);
    if (state.date) params.date = state.date;
    const [body, outages] = await Promise.all([
      api(`/api/rides/${state.ride}`, params),
      api(`/api/rides/${state.ride}/outages`, { ...periodParams(state), limit: 1000 }),
    ]);
    const d = body.data;
    const zone = d.ride.park_timezone;
    const down = d.ride.live_status === "down";
    /* Down now: its current outage; otherwise how its outages end, from their start. */
    const recovery = await api(`/api/rides/${state.ride}/recovery`, down ? {} : { down_for: 0 }).catch(() => null);
    document.title = `${d.ride.name} — Theme Park Hall of Shame`;
    const dayPicker = h("form", { class: "day-picker", onsubmit: (event) => { event.preventDefault(); go({ date: event.target.elements.day.value || null }); } },
      h("label", {}, "Day ", h("input", { type: "date", name: "day", value: d.timeline.date })), h("button", { type: "submit" }, "Show"));
    const waitBox = h("div", { class: "chart", id: "wait-chart" });
    const curveBox = h("div", { class: "chart", id: "recovery-chart" });
    const history = d.history.length ? table("Daily history", [
      { label: "Day", cell: (x) => internal({ date: x.date }, x.date) },
      { label: "Downtime", num: true, cell: (x) => `${fixed(x.downtime_hours, 2)} h` },
      { label: "Uptime", num: true, cell: (x) => x.uptime_pct === null ? "–" : `${fixed(x.uptime_pct, 1)} %` },
      { label: "Closures", num: true, cell: (x) => x.downtime_events },
      { label: "Longest", num: true, cell: (x) => `${fixed(x.longest_downtime_minutes, 0)} min` },
      { label: "Avg wait", num: true, cell: (x) => x.avg_wait === null ? "–" : `${fixed(x.avg_wait, 0)} min` },
      { label: "Peak wait", num: true, cell: (x) => x.peak_wait === null ? "–" : `${x.peak_wait} min` },
    ], d.history) : empty("The ride did not run in this period.");
    const view = [
      h("div", { class: "page-head" },
        h("h2", {}, d.ride.name, " ", external(d.ride.queue_times_url), " ", subscribe(`/feeds/rides/${state.ride}.atom`, `${d.ride.name}: down and back`)),
        h("p", {}, parkLink(d.ride.park_id, d.ride.park_name), d.ride.land ? ` · ${d.ride.land}` : "", " · ", tierBadge(d.ride.tier), " · ", statusBadge(d.ride.live_status)),
        d.figures ? h("p", { class: "figures" },
          h("span", {}, `${periodLabel(state)}: downtime ${fixed(d.figures.downtime_hours, 1)} h`),
          h("span", {}, `uptime ${d.figures.uptime_pct === null ? "–" : fixed(d.figures.uptime_pct, 1) + " %"}`),
          h("span", {}, `${d.downtime_events} closures, longest ${fixed(d.longest_downtime_minutes, 0)} min`),
          h("span", {}, "Trend ", trend(d.figures.trend_pct))) : h("p", {}, "The ride did not run in this period.")),
      reliabilityPanel(d.reliability, outages.data, recovery && recovery.data, down, zone, curveBox),
      section(`Status on ${d.timeline.date}`, dayPicker, timeline(d.timeline, zone)),
      section(`Posted waits on ${d.timeline.date}`, d.timeline.waits.length ? waitBox : empty("No posted waits kept for this day (raw polls are kept for a day after it is final).")),
      section("Daily history", history),
    ];
    const draw = () => {
      if (recovery && recovery.data.still_down.length) recoveryChart(curveBox, recovery.data);
      if (!d.timeline.waits.length) return;
      chart(waitBox, "Posted wait (min)", [{}, { label: "Wait (min)", stroke: "#2a9d8f", fill: "rgba(42,157,143,0.15)", width: 2 }],
        [d.timeline.waits.map((w) => Date.parse(w.at) / 1000), d.timeline.waits.map((w) => w.wait_minutes)], 200, false, zone);
    };
    return { nodes: view, after: draw };
  }

  /* An outage figure, or why it is not given: below its gate, or no outage to measure. */
  function outageFigure(figures, key, unit, digits) {
    const x = figures[key];
    if (x === null && !figures.insufficient_data) return "–";
    if (x === null) return h("span", { class: "gated", title: figures.insufficient_data }, "not enough data");
    return `${fixed(x, digits)}${unit}`;
  }

  /* Outages as events: the period's figures (gated ones say why), "back soon?" when the
     ride is down, a histogram of outage lengths, and the list, newest first. */
  function reliabilityPanel(reliability, outages, recovery, down, zone, curveBox) {
    const rows = [
      ["Outages", "outages", "", 0], ["Per 100 h open", "outages_per_100h", "", 2], ["MTBF", "mtbf_hours", " h", 1],
      ["MTTR", "mttr_minutes", " min", 1], ["Median outage", "median_outage_minutes", " min", 1],
      ["P90 outage", "p90_outage_minutes", " min", 1], ["Longest outage", "longest_outage_minutes", " min", 0],
    ];
    const figures = table("Reliability", [
      { label: "Figure", cell: (r) => r[0] },
      { label: "All outages", num: true, cell: (r) => outageFigure(reliability.all, r[1], r[2], r[3]) },
      { label: "Ride outages", num: true, cell: (r) => outageFigure(reliability.ride_outages, r[1], r[2], r[3]) },
    ], rows);
    const reasons = [reliability.all.insufficient_data, reliability.ride_outages.insufficient_data].filter(Boolean);
    const soon = recovery && down ? h("p", { class: "back-soon" }, recovery.pool === null
      ? `Down for ${fixed(recovery.down_for_minutes, 0)} min: not enough outages to say when it is back.`
      : `Back within 30 min: ${fixed(100 * recovery.p_open_within["30"], 0)} % (${recovery.outages} outages of ${{ park_wide: "this park, park-wide", ride: "this ride", park_tier: "this park's rides of its tier", tier: "rides of its tier" }[recovery.pool]}, last 90 days)`) : null;
    const ended = outages.filter((o) => !o.ongoing);
    const bins = [[0, 10], [10, 20], [20, 30], [30, 60], [60, 120], [120, Infinity]];
    const counts = bins.map(([lo, hi]) => ended.filter((o) => o.duration_minutes >= lo && o.duration_minutes < hi).length);
    const most = Math.max(1, ...counts);
    const histogram = h("ol", { class: "histogram", "aria-label": "Outages by length" }, bins.map(([lo, hi], i) => {
      const n = counts[i];
      const bar = h("span", { class: "bar" });
      bar.style.width = `${(100 * n) / most}%`;
      return h("li", {}, h("span", { class: "bin" }, hi === Infinity ? `${lo}+ min` : `${lo}–${hi} min`), bar, h("span", { class: "count" }, String(n)));
    }));
    const list = outages.length ? table("Outages, newest first", [
      { label: "Day", cell: (o) => o.day },
      { label: "Start", cell: (o) => localTime(o.start, zone) },
      { label: "End", cell: (o) => o.ongoing ? "ongoing" : localTime(o.end, zone) },
      { label: "Length", num: true, cell: (o) => `${fixed(o.duration_minutes, 0)} min` },
      { label: "Park-wide", cell: (o) => o.park_wide ? "yes" : "" },
    ], outages.slice(0, 50)) : empty("No outage in this period.");
    const curve = recovery && recovery.still_down.length ? curveBox : null;
    return section("Reliability", soon, figures, reasons.length ? h("p", { class: "note" }, `Not enough data: ${[...new Set(reasons)].join("; ")}.`) : null,
      ended.length ? histogram : null, curve, list);
  }

  /* The chance of being still down, minutes from now: a step curve (Kaplan–Meier). */
  function recoveryChart(target, recovery) {
    if (typeof window.uPlot !== "function") return;
    const width = Math.max(280, target.clientWidth || 600);
    const title = recovery.down_for_minutes > 0 ? `Still down, minutes from now (down ${fixed(recovery.down_for_minutes, 0)} min)` : "Still down, minutes after an outage starts";
    const plot = new window.uPlot({
      title, width, height: 200, scales: { x: { time: false }, y: { range: [0, 1] } },
      series: [{ label: "Minutes" }, { label: "Still down", stroke: "#e76f51", width: 2, paths: window.uPlot.paths.stepped({ align: 1 }), value: (u, v) => v === null ? "–" : `${Math.round(100 * v)} %` }],
      axes: [{ label: "minutes" }, { values: (u, ticks) => ticks.map((v) => `${Math.round(100 * v)} %`) }],
    }, [recovery.still_down.map((p) => p.after_minutes), recovery.still_down.map((p) => p.chance)], target);
    charts.push(plot);
  }

  /* Open and closed bands over the park's operating session of that day. */
  function timeline(data, zone) {
    if (!data.session) return empty("The park did not operate on this day.");
    const start = Date.parse(data.session.opened_at);
    const end = Date.parse(data.session.closed_at);
    const changes = data.changes.map((c) => ({ at: Date.parse(c.at), to: c.to_state, from: c.from_state }))
      .filter((c) => c.at <= end);
    let state = changes.length ? changes[0].from : "unknown";
    let at = start;
    const bands = [];
    for (const change of changes) {
      if (change.at > at) bands.push({ from: at, to: change.at, state });
      at = Math.max(at, change.at);
      state = change.to;
    }
    if (end > at) bands.push({ from: at, to: end, state });
    /* Before the ride first opened and after it last closed it is not down (docs/methodology.md):
       a late opening or an early closing is not counted. */
    const firstOpen = bands.findIndex((b) => b.state === "open");
    const lastOpen = bands.length - 1 - [...bands].reverse().findIndex((b) => b.state === "open");
    bands.forEach((band, i) => {
      if (firstOpen === -1 || i < firstOpen || i > lastOpen) band.state = "idle";
    });
    const strip = h("div", { class: "timeline", role: "img", "aria-label": `Open and closed times between ${localTime(data.session.opened_at, zone)} and ${localTime(data.session.closed_at, zone)}` });
    for (const band of bands) {
      const label = `${{ open: "Open", closed: "Down", idle: "Not operating", unknown: "Unknown" }[band.state]} ${localTime(new Date(band.from).toISOString(), zone)}–${localTime(new Date(band.to).toISOString(), zone)}`;
      const el = h("div", { class: `band ${band.state}`, title: label });
      el.style.width = `${(100 * (band.to - band.from)) / Math.max(1, end - start)}%`;
      strip.append(el);
    }
    const list = h("ol", { class: "changes" }, data.changes.map((c) =>
      h("li", {}, `${localTime(c.at, zone)}: ${c.to_state === "closed" ? "closed" : "reopened"}`, c.previous_duration_minutes === null ? "" : ` after ${fixed(c.previous_duration_minutes, 0)} min ${c.from_state}`)));
    return h("div", {}, h("div", { class: "axis" }, h("span", {}, localTime(data.session.opened_at, zone)), h("span", {}, localTime(data.session.closed_at, zone))), strip,
      h("p", { class: "legend" }, h("span", { class: "status running" }, "Open"), " ", h("span", { class: "status down" }, "Down"), " ", h("span", { class: "status closed" }, "Not operating yet / any more")),
      data.changes.length ? list : h("p", {}, "No status change recorded this day."));
  }

  /* ---- rendering ------------------------------------------------------------------ */

  const RENDERERS = { downtime: downtimeView, waits: waitsView, trends: trendsView, park: parkView, ride: rideView };

  /* The page's Atom feed: a <link rel="alternate"> for feed readers, and a visible link. */
  function subscribe(path, title) {
    const link = h("link", { rel: "alternate", type: "application/atom+xml", href: path, title, "data-feed": "" });
    document.head.append(link);
    return h("a", { class: "subscribe", href: path, type: "application/atom+xml", title: `${title} (Atom feed)` }, "Subscribe");
  }

  async function render(quiet) {
    const state = readState();
    const mine = ++generation;
    syncControls(state);
    document.head.querySelectorAll("link[data-feed]").forEach((link) => link.remove());
    if (state.view !== "park" && state.view !== "ride") document.title = "Theme Park Hall of Shame — ride downtime tracker";
    renderStats(state);
    if (!quiet) {
      main.setAttribute("aria-busy", "true");
      main.replaceChildren(h("p", { class: "state loading" }, "Loading…"));
    }
    let result;
    try {
      result = await RENDERERS[state.view](state);
    } catch (error) {
      if (mine !== generation) return;
      main.replaceChildren(failed(state.view === "park" ? "this park" : state.view === "ride" ? "this ride" : "the rankings", error));
      main.removeAttribute("aria-busy");
      return;
    }
    if (mine !== generation) return;
    for (const plot of charts) plot.destroy();
    charts = [];
    const nodes = Array.isArray(result) ? result : result.nodes;
    main.replaceChildren(...nodes);
    main.removeAttribute("aria-busy");
    if (!Array.isArray(result) && result.after) result.after();
  }

  /* ---- events --------------------------------------------------------------------- */

  function setup() {
    for (const button of document.querySelectorAll("[data-period]")) {
      button.addEventListener("click", () => {
        const form = document.getElementById("custom-range");
        if (button.dataset.period === "custom") {
          form.hidden = !form.hidden;
          button.setAttribute("aria-expanded", String(!form.hidden));
          if (!form.hidden) form.elements.from.focus();
          return;
        }
        form.hidden = true;
        go({ period: button.dataset.period, from: null, to: null });
      });
    }
    document.getElementById("custom-range").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const from = form.elements.from.value;
      const to = form.elements.to.value;
      if (!from || !to || to < from) { form.elements.to.setCustomValidity("The end must not be before the start."); form.reportValidity(); return; }
      form.elements.to.setCustomValidity("");
      go({ from, to });
    });
    document.getElementById("filter").addEventListener("change", (event) => go({ filter: event.target.value }));
    for (const tab of document.querySelectorAll("[data-view]")) {
      tab.addEventListener("click", (event) => { event.preventDefault(); go({ view: tab.dataset.view }); });
    }
    document.getElementById("home-link").addEventListener("click", (event) => { event.preventDefault(); go({ view: "downtime", park: null, ride: null }); });
    const dialog = document.getElementById("about");
    const open = (event) => { if (event) event.preventDefault(); dialog.showModal(); document.getElementById("about-close").focus(); };
    document.getElementById("about-open").addEventListener("click", open);
    document.getElementById("about-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    window.addEventListener("popstate", () => render());
    newSession();
    watchHistory();
    window.setInterval(() => {
      const state = readState();
      if (!document.hidden && !state.from && state.period === "today") render(true);
    }, REFRESH_MS);
    render();
  }

  setup();
})();
