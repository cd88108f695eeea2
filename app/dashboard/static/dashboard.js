/* Comanda manager dashboard: a client of the JSON API (/api/v1), nothing more.
 *
 * Every figure comes from an API answer. A figure the API does not answer shows "—" (never 0).
 * Endpoints that may not exist on this server (GET /api/v1/locations, GET /reports/payments)
 * are probed: a 404 hides the location picker or the till table. On any failed refresh the
 * figures on screen are marked "out of date" (same query) or cleared (a different query).
 */
"use strict";

(function () {
  const API = "/api/v1";
  const STORE_KEY = "comanda.dashboard.auth";
  const DASH = "—";
  const STAFF = new Set(["manager", "admin"]);
  const params = new URLSearchParams(window.location.search);
  const refreshParam = Number(params.get("refresh"));
  const REFRESH_SECONDS = refreshParam >= 1 ? refreshParam : 30;

  const $ = (id) => document.getElementById(id);
  const el = {
    login: $("login"), loginForm: $("login-form"), loginEmail: $("login-email"),
    loginPassword: $("login-password"), loginError: $("login-error"), loginSubmit: $("login-submit"),
    who: $("who"), whoName: $("who-name"), logout: $("logout"), notice: $("notice"),
    notManager: $("not-manager"), dash: $("dash"), filters: $("filters"),
    locationField: $("location-field"), location: $("location"), start: $("start-date"), end: $("end-date"),
    today: $("today"), updated: $("updated"), problem: $("problem"), empty: $("empty"),
    chart: $("chart"), hoursTable: $("hours-table"), productsSort: $("products-sort"),
    products: $("products-table"), waiters: $("waiters-table"), till: $("till-table"),
    refundMethods: $("refund-methods"), tillSection: $("till-section"), legendNow: $("legend-now"), legendPrev: $("legend-prev"),
    hoursNowHead: $("hours-now-head"), hoursPrevHead: $("hours-prev-head"),
    floorSection: $("floor-section"), floor: $("floor"),
    drawersSection: $("drawers-section"), drawers: $("drawers-table"), dayStatus: $("day-status"),
    drawersProblem: $("drawers-problem"), zPrint: $("z-print"), zSlip: $("z-slip"), zTitle: $("z-title"),
    zPrintButton: $("z-print-button"), zClose: $("z-close"),
  };

  /* ---------------- session: tokens in sessionStorage, refreshed before they expire ---------------- */

  let auth = null; // {access, refresh, expiresAt (ms), user}
  let refreshTimer = null;
  let refreshing = null;
  let lastChart = null;   // the last hourly answers drawn, redrawn at the new width on resize
  let resizeTimer = null;

  function saveAuth(body) {
    auth = {
      access: body.access_token, refresh: body.refresh_token, user: body.user,
      expiresAt: Date.now() + (Number(body.expires_in) || 900) * 1000,
    };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(auth));
    scheduleTokenRefresh();
  }

  function loadAuth() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (stored && stored.access && stored.refresh && stored.user) return stored;
    } catch (_err) { /* a garbled entry is no session */ }
    return null;
  }

  function clearAuth() {
    auth = null;
    sessionStorage.removeItem(STORE_KEY);
    clearTimeout(refreshTimer);
  }

  function scheduleTokenRefresh() {
    clearTimeout(refreshTimer);
    if (!auth) return;
    // A minute before the access token expires (at least 1 s from now).
    const wait = Math.max(1000, auth.expiresAt - Date.now() - 60000);
    refreshTimer = setTimeout(() => { refreshTokens(); }, wait);
  }

  /** POST /auth/refresh once at a time; true when new tokens are stored. */
  function refreshTokens() {
    if (!auth) return Promise.resolve(false);
    if (refreshing) return refreshing;
    const presented = auth.refresh;
    refreshing = fetch(API + "/auth/refresh", {
      method: "POST", headers: {Authorization: "Bearer " + presented, Accept: "application/json"},
    }).then(async (resp) => {
      if (resp.ok) { saveAuth(await resp.json()); return true; }
      if (resp.status === 401) { sessionExpired(); return false; }
      scheduleRetryRefresh();
      return false;
    }, () => { scheduleRetryRefresh(); return false; })
      .finally(() => { refreshing = null; });
    return refreshing;
  }

  function scheduleRetryRefresh() {
    clearTimeout(refreshTimer);
    if (auth) refreshTimer = setTimeout(() => { refreshTokens(); }, 10000);
  }

  class ApiError extends Error {
    constructor(status, problem, retryAfter) {
      super(describe(status, problem));
      this.status = status; this.problem = problem || {}; this.retryAfter = retryAfter;
    }
  }

  function describe(status, problem) {
    if (status === 0) return "Cannot reach the server. Check the connection; retrying.";
    if (status === 503) return "The server is temporarily unavailable (503). Retrying shortly.";
    if (status === 429) return "Too many requests (429). Retrying shortly.";
    if (status === 401) return "Your session has expired. Please sign in again.";
    if (status === 403) return "Your role may not see these figures.";
    if (problem && problem.local) return problem.detail;
    if (status === 422 || status === 400) {
      const errors = problem && problem.errors ? Object.entries(problem.errors)
        .map(([k, v]) => k + ": " + [].concat(v).join(" ")).join("; ") : "";
      return "The server refused the request: " + ((problem && problem.detail) || "invalid input") +
        (errors ? " (" + errors + ")" : "");
    }
    return "The server answered " + status + (problem && problem.title ? " " + problem.title : "") +
      ". Retrying shortly.";
  }

  /** fetch with the bearer token; a 401 refreshes the tokens once and retries. */
  async function api(path, accept) {
    const send = () => fetch(API + path, {
      headers: {Authorization: "Bearer " + (auth ? auth.access : ""), Accept: accept || "application/json"},
    });
    let resp;
    try {
      resp = await send();
      if (resp.status === 401 && auth && await refreshTokens()) resp = await send();
    } catch (_err) {
      throw new ApiError(0);
    }
    if (resp.status === 401) { sessionExpired(); throw new ApiError(401); }
    if (!resp.ok) {
      let problem = null;
      try { problem = await resp.json(); } catch (_err) { /* not JSON */ }
      throw new ApiError(resp.status, problem, Number(resp.headers.get("Retry-After")) || null);
    }
    return resp;
  }

  const json = async (path) => (await api(path)).json();

  /** The answer, or null when the endpoint does not exist on this server (404). */
  async function optional(path) {
    try { return await json(path); } catch (err) {
      if (err.status === 404) return null;
      throw err;
    }
  }

  /* ---------------- screens ---------------- */

  function show(screen) {
    el.login.hidden = screen !== "login";
    el.notManager.hidden = screen !== "not-manager";
    el.dash.hidden = screen !== "dash";
    el.who.hidden = screen === "login";
    if (auth) el.whoName.textContent = auth.user.name + " (" + auth.user.role + ")";
  }

  function notice(text) {
    el.notice.textContent = text || "";
    el.notice.hidden = !text;
  }

  function sessionExpired() {
    stopDashboard();
    clearAuth();
    show("login");
    notice("Your session has expired. Please sign in again.");
  }

  async function onLogin(event) {
    event.preventDefault();
    el.loginError.hidden = true;
    const email = el.loginEmail.value.trim();
    const password = el.loginPassword.value;
    if (!email || !password) return loginError("Enter your email and password.");
    el.loginSubmit.disabled = true;
    try {
      const resp = await fetch(API + "/auth/login", {
        method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
        body: JSON.stringify({email, password}),
      });
      if (resp.ok) {
        saveAuth(await resp.json());
        el.loginPassword.value = "";
        notice("");
        start();
      } else if (resp.status === 401) {
        loginError("Wrong email or password. Please try again.");
      } else if (resp.status === 429) {
        const wait = resp.headers.get("Retry-After");
        loginError("Too many failed attempts. Wait " + (wait ? wait + " s" : "a minute") + " and try again.");
      } else if (resp.status === 503) {
        loginError("The server is temporarily unavailable (503). Try again in a moment.");
      } else {
        loginError("Sign-in failed: the server answered " + resp.status + ". Try again in a moment.");
      }
    } catch (_err) {
      loginError("Cannot reach the server. Check the connection and try again.");
    } finally {
      el.loginSubmit.disabled = false;
    }
  }

  function loginError(text) {
    el.loginError.textContent = text;
    el.loginError.hidden = false;
  }

  async function onLogout() {
    const session = auth;
    stopDashboard();
    clearAuth();
    show("login");
    notice("You have signed out.");
    if (!session) return;
    try {
      await fetch(API + "/auth/logout", {
        method: "POST",
        headers: {Authorization: "Bearer " + session.access, "Content-Type": "application/json"},
        body: JSON.stringify({refresh_token: session.refresh}),
      });
    } catch (_err) { /* the tokens are gone from this browser either way */ }
  }

  function start() {
    if (!STAFF.has(auth.user.role)) {
      show("not-manager");
      return;
    }
    show("dash");
    startDashboard();
  }

  /* ---------------- the dashboard's state and refresh cycle ---------------- */

  const view = {
    locations: null,        // null: the server has no GET /locations (or it has not answered yet)
    locationsProbed: false, // GET /locations answered (200 or 404)
    followToday: true,      // the range follows today's business date until the user picks dates
    shownKey: null,         // the query whose figures are on screen
    seq: 0,
    timer: null,
    running: false,
  };

  function stopDashboard() {
    view.running = false;
    view.seq += 1;
    clearTimeout(view.timer);
    clearFigures();
    view.shownKey = null;
    el.dash.dataset.state = "empty";
  }

  async function startDashboard() {
    view.running = true;
    view.followToday = true;
    el.problem.hidden = true;
    view.locationsProbed = false;
    refresh();
  }

  /** The location picker from GET /locations: hidden when it answers 404; asked again after a failure. */
  async function loadLocations() {
    view.locations = null;
    el.locationField.hidden = true;
    let answer;
    try {
      answer = await optional("/locations?limit=200");
    } catch (err) {
      if (err.status === 401) throw err;
      return; // 503 and the like: no picker yet (reports cover the caller's whole scope); next refresh asks again
    }
    view.locationsProbed = true;
    if (!answer || !Array.isArray(answer.data)) return;
    view.locations = answer.data;
    el.location.replaceChildren();
    if (view.locations.length !== 1) el.location.append(new Option("All my locations", ""));
    for (const loc of view.locations) {
      const label = loc.name + (loc.active === false ? " (inactive)" : "");
      el.location.append(new Option(label, String(loc.id)));
    }
    el.location.value = view.locations.length === 1 ? String(view.locations[0].id) : "";
    el.locationField.hidden = false;
  }

  function scope() {
    const q = new URLSearchParams();
    if (view.locations && el.location.value) q.set("location_id", el.location.value);
    return q;
  }

  function query(extra) {
    const q = scope();
    q.set("start_date", el.start.value);
    q.set("end_date", el.end.value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q.toString();
  }

  function scheduleNext(seconds) {
    clearTimeout(view.timer);
    if (view.running) view.timer = setTimeout(refresh, seconds * 1000);
  }

  /** One refresh: every figure of the page, from one consistent set of answers. */
  async function refresh() {
    if (!view.running || !auth) return;
    const seq = ++view.seq;
    clearTimeout(view.timer);
    el.dash.dataset.state = el.dash.dataset.state === "fresh" ? "loading" : el.dash.dataset.state;
    try {
      if (!view.locationsProbed) {
        await loadLocations();
        if (seq !== view.seq) return;
      }
      if (view.followToday) {
        // Today's business date is the location's, not the browser's: the reports' default range ends on it.
        const probeQuery = scope();
        probeQuery.set("granularity", "day");
        const probe = await json("/reports/sales?" + probeQuery.toString());
        if (seq !== view.seq) return;
        el.start.value = probe.end_date;
        el.end.value = probe.end_date;
      }
      const key = query({sort: el.productsSort.value});
      if (view.shownKey !== null && key !== view.shownKey) el.dash.dataset.state = "stale"; // other figures coming
      if (!el.start.value || !el.end.value) {
        throw new ApiError(422, {detail: "Choose a start and an end date.", local: true});
      }
      const day = el.end.value;
      const weekBefore = addDays(day, -7);
      const hourly = (d) => json("/reports/sales?" + new URLSearchParams(
        [...scope().entries(), ["granularity", "hour"], ["start_date", d], ["end_date", d]]).toString());
      const [sales, open, now, prev, products, waiters, till, floor] = await Promise.all([
        json("/reports/sales?" + query({granularity: "day"})),
        json("/reports/sales?" + query({granularity: "day", status: "open"})),
        hourly(day),
        hourly(weekBefore),
        json("/reports/products?" + query({sort: el.productsSort.value, limit: "10"})),
        json("/reports/waiters?" + query()),
        optional("/reports/payments?" + query()),
        loadFloor(),
      ]);
      if (seq !== view.seq) return;
      render({sales, open, now, prev, products, waiters, till, day, weekBefore});
      renderFloor(floor);
      loadDrawers(seq, day); // its own failures stay in its own card
      view.shownKey = key;
      el.dash.dataset.state = "fresh";
      el.problem.hidden = true;
      el.updated.textContent = "Last updated " + new Date().toLocaleTimeString() +
        " · refreshes every " + REFRESH_SECONDS + " s";
      scheduleNext(REFRESH_SECONDS);
    } catch (err) {
      if (seq !== view.seq) return;
      failed(err);
    }
  }

  /** The tables of the chosen location (or of every location in scope): [{location, tables}], or null when
   * this server has no tables (404) or no location list. */
  async function loadFloor() {
    if (!view.locations) return null;
    const chosen = el.location.value
      ? view.locations.filter((loc) => String(loc.id) === el.location.value) : view.locations;
    const answers = await Promise.all(chosen.map((loc) => optional("/locations/" + loc.id + "/tables")));
    if (answers.every((a) => a === null)) return null;
    return chosen.map((loc, i) => ({location: loc, tables: answers[i] ? answers[i].data : []}));
  }

  function failed(err) {
    if (err.status === 401) return; // sessionExpired() already took over
    const sameQuery = view.shownKey !== null && view.shownKey === query({sort: el.productsSort.value});
    if (sameQuery) {
      el.dash.dataset.state = "stale";
      el.updated.textContent = el.updated.textContent.replace(/^Last updated/, "Out of date: last updated")
        .replace(/^Out of date: Out of date/, "Out of date");
    } else {
      clearFigures();
      view.shownKey = null;
      el.dash.dataset.state = "error";
      el.updated.textContent = "Not loaded";
    }
    el.problem.textContent = err.message + (sameQuery ? " The figures shown are out of date." : "");
    el.problem.hidden = false;
    const client = err.status === 422 || err.status === 400 || err.status === 403;
    // A client error waits for the user to change something; anything else retries soon.
    if (!client) scheduleNext(Math.min(err.retryAfter || 5, REFRESH_SECONDS));
  }

  /* ---------------- rendering ---------------- */

  function clearFigures() {
    for (const dd of document.querySelectorAll(".figures dd[data-figure]")) setFigure(dd, null);
    el.refundMethods.hidden = true;
    lastChart = null;
    for (const table of [el.products, el.waiters, el.till, el.hoursTable]) table.tBodies[0].replaceChildren();
    el.chart.replaceChildren();
    el.floor.replaceChildren();
    el.empty.hidden = true;
  }

  function setFigure(dd, value, text) {
    dd.textContent = value === null || value === undefined ? DASH : (text === undefined ? value : text);
    dd.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  function money(value) {
    if (value === null || value === undefined) return DASH;
    const s = String(value);
    const negative = s.startsWith("-");
    const [whole, frac] = s.replace("-", "").split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "−" : "") + grouped + (frac !== undefined ? "." + frac : "");
  }

  function toCents(value) {
    const s = String(value);
    const negative = s.startsWith("-");
    const [whole, frac = "0"] = s.replace("-", "").split(".");
    const cents = Number(whole) * 100 + Number((frac + "00").slice(0, 2));
    return negative ? -cents : cents;
  }

  function fromCents(cents) {
    const sign = cents < 0 ? "-" : "";
    const abs = Math.abs(cents);
    return sign + Math.floor(abs / 100) + "." + String(abs % 100).padStart(2, "0");
  }

  /** revenue / orders, half to even to the cent (API.md v1.1), for servers whose totals lack it. */
  function averageTicket(revenue, orders) {
    if (!orders) return "0.00";
    const cents = toCents(revenue);
    const abs = Math.abs(cents);
    let q = Math.floor(abs / orders);
    const twice = 2 * (abs - q * orders);
    if (twice > orders || (twice === orders && q % 2 === 1)) q += 1;
    return fromCents(cents < 0 ? -q : q);
  }

  function render(r) {
    const t = r.sales.totals || {};
    const fig = (name) => document.querySelector('.figures dd[data-figure="' + name + '"]');
    for (const name of ["gross", "revenue", "tax", "tips", "refunds", "discounts"]) {
      setFigure(fig(name), t[name], money(t[name]));
    }
    // Collected: what the till took in the range (payments and their tips), from /reports/payments.
    const till = r.till && r.till.totals;
    const collected = till ? fromCents(toCents(till.amount) + toCents(till.tips)) : null;
    setFigure(fig("collected"), collected, money(collected));
    // Refunds by the method that paid them back.
    const back = r.till ? r.till.data.filter((row) => toCents(row.refunds) !== 0) : [];
    el.refundMethods.textContent = back.map((row) => row.method + " " + money(row.refunds)).join(" · ");
    el.refundMethods.hidden = back.length === 0;
    setFigure(fig("orders"), t.orders);
    const avg = t.average_ticket !== undefined ? t.average_ticket
      : (r.waiters.totals && r.waiters.totals.average_ticket !== undefined ? r.waiters.totals.average_ticket
        : (t.revenue !== undefined && t.orders !== undefined ? averageTicket(t.revenue, t.orders) : null));
    setFigure(fig("average_ticket"), avg, money(avg));
    setFigure(fig("open_orders"), r.open.totals ? r.open.totals.orders : null);
    const openGross = r.open.totals ? r.open.totals.gross : null;
    setFigure(fig("open_gross"), openGross, money(openGross));
    el.empty.hidden = Number(t.orders) !== 0;
    el.empty.textContent = "No sales in this range (" + r.sales.start_date +
      (r.sales.end_date !== r.sales.start_date ? " to " + r.sales.end_date : "") + ").";

    drawChart(r.now, r.prev, r.day, r.weekBefore);
    fillTable(el.products, r.products.data, (row, i) => [
      String(i + 1), row.product_name, {num: row.quantity}, {num: money(row.revenue)},
    ], 4, "No products sold in this range.");
    fillTable(el.waiters, sortedDesc(r.waiters.data, "revenue"), (row) => [
      row.waiter_name, {num: row.orders}, {num: money(row.revenue)}, {num: money(row.tips)},
    ], 4, "No orders in this range.");
    el.tillSection.hidden = r.till === null;
    if (r.till !== null) {
      fillTable(el.till, r.till.data, (row) => [
        row.method, {num: row.payments}, {num: money(row.amount)}, {num: money(row.tips)},
        {num: money(row.refunds)}, {num: money(row.net)},
      ], 6, "No payments in this range.");
    }
  }

  /* ---------------- the floor: tables by area with their open checks ---------------- */

  function node(tag, attrs, text) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function renderFloor(floor) {
    el.floorSection.hidden = floor === null;
    if (floor === null) { el.floor.replaceChildren(); return; }
    const parts = [];
    for (const {location, tables} of floor) {
      const block = node("section", {class: "floor-location", "data-location-id": location.id});
      if (floor.length > 1) block.append(node("h3", {}, location.name));
      if (!tables.length) block.append(node("p", {class: "hint"}, "No tables at this location yet."));
      const areas = new Map();
      for (const table of tables) {  // the API's order: area (none first), then name
        const key = table.area === null ? "" : table.area;
        if (!areas.has(key)) areas.set(key, []);
        areas.get(key).push(table);
      }
      for (const [area, rows] of areas) {
        const group = node("div", {class: "floor-area", "data-area": area});
        group.append(node("h4", {}, area || "No area"));
        const list = node("ul", {class: "floor-tiles"});
        for (const table of rows) list.append(tableTile(table));
        group.append(list);
        block.append(group);
      }
      parts.push(block);
    }
    el.floor.replaceChildren(...parts);
    el.floor.dataset.state = "fresh";
  }

  function tableTile(table) {
    const checks = table.open_orders;
    const known = checks.filter((o) => o.guest_count !== null);
    const guests = known.length ? known.reduce((n, o) => n + o.guest_count, 0) : null;
    const total = fromCents(checks.reduce((n, o) => n + toCents(o.total), 0));
    const tile = node("li", {class: "table-tile", "data-table-id": table.id, "data-status": table.status,
      "data-active": table.active, "data-guests": guests === null ? "" : guests, "data-checks": checks.length,
      "data-total": total});
    const head = node("div", {class: "tile-head"});
    head.append(node("span", {class: "tile-name"}, table.name),
      node("span", {class: "tile-status"}, table.status === "occupied" ? "Occupied" : "Free"));
    tile.append(head);
    const facts = node("dl");
    const fact = (label, value, name) => facts.append(node("dt", {}, label), node("dd", {"data-fact": name}, value));
    fact("Seats", String(table.seats), "seats");
    fact("Guests", guests === null ? DASH : String(guests), "guests");
    fact("Open checks", String(checks.length), "checks");
    fact("Total", money(total), "total");
    tile.append(facts);
    if (checks.length) {
      const list = node("ul", {class: "checks"});
      for (const o of checks) {
        const li = node("li", {"data-order-id": o.id});
        li.append(node("span", {}, "#" + o.id + " " + o.waiter.name), node("span", {}, money(o.total)));
        list.append(li);
      }
      tile.append(list);
    }
    if (!table.active) tile.append(node("p", {class: "hint"}, "Inactive"));
    return tile;
  }

  /* ---------------- drawers: open sessions with their live figures, closed ones with their Z ---------------- */

  function drawerLocations() {
    if (!view.locations) return [];
    return el.location.value ? view.locations.filter((loc) => String(loc.id) === el.location.value)
      : view.locations;
  }

  async function loadDrawers(seq, day) {
    const locations = drawerLocations();
    try {
      const perLocation = await Promise.all(locations.map(async (loc) => {
        const base = "/locations/" + loc.id;
        const [drawers, open, closed, dayClose] = await Promise.all([
          optional(base + "/drawers?limit=200"),
          optional(base + "/drawer-sessions?status=open&limit=200"),
          optional(base + "/drawer-sessions?status=closed&limit=200&business_date=" + day),
          optional(base + "/days/" + day),
        ]);
        return {loc, drawers, open, closed, dayClose};
      }));
      if (seq !== view.seq) return;
      renderDrawers(perLocation.filter((x) => x.drawers !== null), day);
      el.drawersProblem.hidden = true;
    } catch (err) {
      if (seq !== view.seq || err.status === 401) return;
      el.drawersProblem.textContent = err.message;
      el.drawersProblem.hidden = false;
    }
  }

  function renderDrawers(perLocation, day) {
    el.drawersSection.hidden = perLocation.length === 0;
    el.dayStatus.replaceChildren();
    const rows = [];
    for (const {loc, drawers, open, closed, dayClose} of perLocation) {
      const li = document.createElement("li");
      li.dataset.location = String(loc.id);
      li.dataset.closed = dayClose ? "true" : "false";
      li.textContent = loc.name + " · business day " + day + ": " + (dayClose
        ? "closed by " + dayClose.closed_by.name + " (Z " + (dayClose.sessions.join(", ") || "none") + ")"
        : "open");
      el.dayStatus.append(li);
      const names = new Map(drawers.data.map((d) => [d.id, d.name]));
      for (const s of [...(open ? open.data : []), ...(closed ? closed.data : [])]) {
        rows.push({loc, s, drawer: names.get(s.drawer_id) || ("#" + s.drawer_id)});
      }
    }
    fillTable(el.drawers, rows, ({loc, s, drawer}) => [
      loc.name, drawer, s.status, s.opened_by.name, {num: money(s.opening_float)},
      {num: s.figures ? money(s.figures.expected_cash) : DASH}, {num: money(s.counted_cash)},
      {num: money(s.variance)}, s.z_number === null ? DASH : "Z #" + s.z_number,
    ], 9, "No drawer sessions open, and none closed on " + day + ".");
    const body = el.drawers.tBodies[0];
    rows.forEach(({s}, i) => {
      const tr = body.rows[i];
      tr.dataset.session = String(s.id);
      if (s.figures) tr.dataset.expected = s.figures.expected_cash;
      if (s.status === "closed") {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button secondary z-button";
        button.textContent = "Z #" + s.z_number;
        button.addEventListener("click", () => showZ(s.id, s.z_number));
        tr.cells[8].replaceChildren(button);
      }
    });
  }

  async function showZ(sessionId, zNumber) {
    try {
      const resp = await api("/drawer-sessions/" + sessionId + "/z?format=text", "text/plain");
      el.zSlip.textContent = await resp.text();
      el.zTitle.textContent = "Z #" + zNumber;
      el.zPrint.hidden = false;
      el.zPrint.scrollIntoView();
    } catch (err) {
      el.drawersProblem.textContent = err.message;
      el.drawersProblem.hidden = false;
    }
  }

  function sortedDesc(rows, key) {
    return [...rows].sort((a, b) => toCents(b[key]) - toCents(a[key]));
  }

  function fillTable(table, rows, cells, width, emptyText) {
    const body = table.tBodies[0];
    body.replaceChildren();
    if (!rows.length) {
      const tr = body.insertRow();
      tr.className = "none";
      const td = tr.insertCell();
      td.colSpan = width;
      td.textContent = emptyText;
      return;
    }
    rows.forEach((row, i) => {
      const tr = body.insertRow();
      for (const cell of cells(row, i)) {
        const td = tr.insertCell();
        if (cell !== null && typeof cell === "object") { td.className = "num"; td.textContent = String(cell.num); }
        else td.textContent = cell === undefined || cell === null ? DASH : String(cell);
      }
    });
  }

  /* ---------------- the hourly chart: SVG drawn here, no library ---------------- */

  const SVG = "http://www.w3.org/2000/svg";

  function svg(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addDays(isoDate, days) {
    const d = new Date(isoDate + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function weekday(isoDate) {
    return new Date(isoDate + "T12:00:00Z").toLocaleDateString("en-GB", {weekday: "short", timeZone: "UTC"});
  }

  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (lastChart && !el.dash.hidden) drawChart(...lastChart); }, 150);
  });

  function drawChart(now, prev, day, weekBefore) {
    const rows = now.data;
    const before = prev.data;
    el.legendNow.textContent = weekday(day) + " " + day;
    el.legendPrev.textContent = weekday(weekBefore) + " " + weekBefore;
    el.hoursNowHead.textContent = day;
    el.hoursPrevHead.textContent = weekBefore;
    const values = rows.map((r) => toCents(r.revenue)).concat(before.map((r) => toCents(r.revenue)));
    const max = Math.max(0, ...values);
    lastChart = [now, prev, day, weekBefore];
    // Drawn at the container's own width, so text stays at its real size on a PC and on a tablet.
    const W = Math.max(240, Math.round(el.chart.clientWidth || 760)), H = 240;
    const left = W < 480 ? 52 : 64, right = 8, top = 12, bottom = 30;
    const plotW = W - left - right, plotH = H - top - bottom;
    const n = Math.max(rows.length, 1);
    const slot = plotW / n;
    const barW = Math.max(2, slot * 0.38);
    const labelStep = Math.max(1, Math.ceil(32 / slot));
    const root = svg("svg", {viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "Revenue by hour on " + day + " (solid bars) and on " + weekBefore + " (hatched bars)"});
    root.append(svg("title", {}, "Revenue by hour: " + day + " solid, " + weekBefore + " hatched"));
    const y = (cents) => top + plotH - (max ? (cents / max) * plotH : 0);
    for (const f of [0.5, 1]) {
      root.append(svg("line", {class: "grid", x1: left, x2: W - right, y1: y(max * f), y2: y(max * f)}));
      root.append(svg("text", {class: "axis-label", x: left - 6, y: y(max * f) + 4, "text-anchor": "end"},
        money(fromCents(Math.round(max * f)))));
    }
    root.append(svg("line", {class: "axis", x1: left, x2: W - right, y1: top + plotH, y2: top + plotH}));
    root.append(svg("text", {class: "axis-label", x: left - 6, y: top + plotH + 4, "text-anchor": "end"}, "0"));
    rows.forEach((row, i) => {
      const x0 = left + i * slot + (slot - 2 * barW) / 2;
      const hour = row.period.slice(11, 13);
      // Hour labels never crowd: one every `step` slots so each has ~32 px (a phone shows every 3rd or 4th).
      if (i % labelStep === 0) {
        root.append(svg("text", {class: "axis-label", x: left + i * slot + slot / 2, y: H - 10,
          "text-anchor": "middle"}, hour + "h"));
      }
      const bars = [[row, x0, "bar bar-now", day], [before[i], x0 + barW, "bar bar-prev", weekBefore]];
      for (const [data, x, cls, label] of bars) {
        if (!data) continue;
        const cents = toCents(data.revenue);
        if (cents <= 0) continue;
        const rect = svg("rect", {class: cls, x: x.toFixed(1), y: y(cents).toFixed(1), width: barW.toFixed(1),
          height: (top + plotH - y(cents)).toFixed(1), "data-period": data.period, "data-revenue": data.revenue,
          "data-orders": data.orders});
        rect.append(svg("title", {}, label + " " + hour + ":00 — " + money(data.revenue) + ", " +
          data.orders + " order" + (data.orders === 1 ? "" : "s")));
        root.append(rect);
      }
    });
    if (!max) {
      root.append(svg("text", {class: "chart-empty", x: left + plotW / 2, y: top + plotH / 2,
        "text-anchor": "middle"}, "No sales on " + day + " or " + weekBefore));
    }
    el.chart.replaceChildren(root);
    fillTable(el.hoursTable, rows, (row, i) => [
      row.period.slice(11), {num: money(row.revenue)}, {num: before[i] ? money(before[i].revenue) : DASH},
    ], 3, "No hours.");
  }

  /* ---------------- CSV: the API's own CSV, fetched with the token and saved as a file ---------------- */

  async function downloadCsv(event) {
    const report = event.currentTarget.dataset.report;
    const extra = report === "products" ? {sort: el.productsSort.value} : {};
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const resp = await api("/reports/" + report + "?" + query({...extra, format: "csv"}), "text/csv");
      const blob = await resp.blob();
      const disposition = resp.headers.get("Content-Disposition") || "";
      const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const name = match ? decodeURIComponent(match[1]) : report + ".csv";
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      if (err.status !== 401) {
        el.problem.textContent = "The CSV download failed: " + err.message;
        el.problem.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  }

  /* ---------------- wiring ---------------- */

  el.loginForm.addEventListener("submit", onLogin);
  el.logout.addEventListener("click", onLogout);
  el.filters.addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  for (const input of [el.start, el.end]) {
    input.addEventListener("change", () => { view.followToday = false; refresh(); });
  }
  el.today.addEventListener("click", () => { view.followToday = true; refresh(); });
  el.location.addEventListener("change", () => refresh());
  el.zClose.addEventListener("click", () => { el.zPrint.hidden = true; });
  el.zPrintButton.addEventListener("click", () => {
    document.body.classList.add("print-z");
    window.print();
    document.body.classList.remove("print-z");
  });
  el.productsSort.addEventListener("change", () => refresh());
  for (const button of document.querySelectorAll("button.csv")) button.addEventListener("click", downloadCsv);

  auth = loadAuth();
  if (auth) {
    scheduleTokenRefresh();
    start();
  } else {
    show("login");
  }
})();
