/* Comanda kitchen screen: a client of the JSON API (/api/v1), nothing more.
 *
 * Sign in, pick a station, and the station's open tickets show as cards, oldest first. The queue is
 * polled every second with If-None-Match, so an unchanged queue costs a 304 with no body. A tap marks
 * a ticket ready (it leaves the screen); "Recall last" brings back the ticket made ready last (within
 * 10 minutes). When the server or the network is gone the screen keeps the last cards, says "Offline"
 * and keeps trying (1 s, then up to every 5 s); it reconnects by itself.
 */
"use strict";

(function () {
  const API = "/api/v1";
  const STORE_KEY = "comanda.kitchen.auth";
  const STATION_KEY = "comanda.kitchen.station";
  const params = new URLSearchParams(window.location.search);
  const POLL_MS = Math.max(200, Number(params.get("poll")) || 1000);
  const MAX_BACKOFF_MS = 5000;

  const $ = (id) => document.getElementById(id);
  const el = {
    login: $("login"), loginForm: $("login-form"), loginEmail: $("login-email"), loginPassword: $("login-password"),
    loginError: $("login-error"), controls: $("controls"), station: $("station"), recall: $("recall"),
    link: $("link"), logout: $("logout"), notice: $("notice"), board: $("board"), empty: $("empty"),
    tickets: $("tickets"),
  };

  let auth = null;        // {access, refresh, user}
  let refreshing = null;
  let stations = {};      // id -> Station
  let current = null;     // the chosen station id
  let etag = null;        // the last queue answer's ETag
  let tickets = [];       // the cards on screen
  let pollTimer = null;
  let failures = 0;
  let generation = 0;     // bumps when the station changes, so a late answer for the old one is dropped

  /* ---------------- session ---------------- */

  function saveAuth(body) {
    auth = {access: body.access_token, refresh: body.refresh_token, user: body.user};
    sessionStorage.setItem(STORE_KEY, JSON.stringify(auth));
  }

  function loadAuth() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (stored && stored.access && stored.refresh && stored.user) return stored;
    } catch (_err) { /* a garbled entry is no session */ }
    return null;
  }

  function refreshTokens() {
    if (!auth) return Promise.resolve(false);
    if (refreshing) return refreshing;
    refreshing = fetch(API + "/auth/refresh", {
      method: "POST", headers: {Authorization: "Bearer " + auth.refresh, Accept: "application/json"},
    }).then(async (resp) => {
      if (resp.ok) { saveAuth(await resp.json()); return true; }
      return false;
    }).catch(() => false).finally(() => { refreshing = null; });
    return refreshing;
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || ("HTTP " + status));
      this.status = status;
      this.problem = problem;
    }
  }

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  /** fetch with the bearer token; a 401 refreshes the tokens once and retries. Status 0: no answer. */
  async function api(path, options) {
    const opts = options || {};
    const send = () => fetch(API + path, {
      method: opts.method || "GET", cache: "no-store",
      headers: Object.assign({Authorization: "Bearer " + (auth ? auth.access : ""), Accept: "application/json"},
        opts.headers || {}),
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    let resp;
    try {
      resp = await send();
      if (resp.status === 401 && auth && await refreshTokens()) resp = await send();
    } catch (_err) {
      throw new ApiError(0, null);
    }
    if (resp.status === 401) { signedOut("Your session has expired. Please sign in again."); throw new ApiError(401); }
    if (!resp.ok && resp.status !== 304) {
      let problem = null;
      try { problem = await resp.json(); } catch (_err) { /* not JSON */ }
      throw new ApiError(resp.status, problem);
    }
    return resp;
  }

  function post(path, body) {
    return api(path, {method: "POST", body: body || {}, headers: {"Content-Type": "application/json",
      "Idempotency-Key": key()}});
  }

  /* ---------------- screens ---------------- */

  function notice(text) {
    el.notice.textContent = text || "";
    el.notice.hidden = !text;
  }

  function show(screen) {
    el.login.hidden = screen !== "login";
    el.board.hidden = screen !== "board";
    el.controls.hidden = screen !== "board";
  }

  function setLink(online) {
    el.link.dataset.state = online ? "online" : "offline";
    el.link.textContent = online ? "Online" : "Offline · reconnecting";
  }

  function signedOut(text) {
    clearTimeout(pollTimer);
    auth = null;
    sessionStorage.removeItem(STORE_KEY);
    show("login");
    notice(text || "");
  }

  async function onLogin(event) {
    event.preventDefault();
    el.loginError.hidden = true;
    let resp;
    try {
      resp = await fetch(API + "/auth/login", {
        method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
        body: JSON.stringify({email: el.loginEmail.value.trim(), password: el.loginPassword.value}),
      });
    } catch (_err) {
      return loginError("Cannot reach the server. Check the connection and try again.");
    }
    if (!resp.ok) {
      return loginError(resp.status === 429 ? "Too many attempts; wait a minute." : "Wrong email or password.");
    }
    saveAuth(await resp.json());
    el.loginPassword.value = "";
    notice("");
    start();
  }

  function loginError(text) {
    el.loginError.textContent = text;
    el.loginError.hidden = false;
  }

  async function onLogout() {
    const presented = auth;
    signedOut("");
    if (presented) {
      fetch(API + "/auth/logout", {method: "POST", headers: {Authorization: "Bearer " + presented.access,
        "Content-Type": "application/json"}, body: JSON.stringify({refresh_token: presented.refresh})})
        .catch(() => {});
    }
  }

  /* ---------------- stations ---------------- */

  async function start() {
    show("board");
    try {
      await loadStations();
    } catch (err) {
      if (err.status === 401) return;
      setLink(false);
      notice("Cannot load the stations; retrying.");
      pollTimer = setTimeout(start, MAX_BACKOFF_MS);
      return;
    }
    notice(Object.keys(stations).length ? "" : "No station is set up at your locations yet.");
    setLink(true);
    poll();
  }

  async function loadStations() {
    const me = await (await api("/auth/me")).json();
    const ids = me.location_ids || [];
    const lists = await Promise.all(ids.map(async (id) => {
      const locationName = await api("/locations/" + id).then((r) => r.json()).then((l) => l.name).catch(() => "");
      const answer = await (await api("/locations/" + id + "/stations")).json();
      return answer.data.filter((s) => s.active).map((s) => Object.assign({locationName}, s));
    }));
    stations = {};
    el.station.textContent = "";
    const several = ids.length > 1;
    for (const station of [].concat(...lists)) {
      stations[station.id] = station;
      const option = document.createElement("option");
      option.value = String(station.id);
      option.textContent = (several ? station.locationName + " · " : "") + station.name;
      el.station.appendChild(option);
    }
    const wanted = params.get("station") || localStorage.getItem(STATION_KEY);
    current = stations[wanted] ? Number(wanted) : (el.station.options.length ? Number(el.station.value) : null);
    if (current !== null) el.station.value = String(current);
  }

  function onStation() {
    current = Number(el.station.value);
    localStorage.setItem(STATION_KEY, String(current));
    generation += 1;
    etag = null;
    tickets = [];
    render();
    clearTimeout(pollTimer);
    poll();
  }

  /* ---------------- the queue ---------------- */

  async function poll() {
    clearTimeout(pollTimer);
    if (!auth || current === null) return;
    const mine = generation;
    let wait = POLL_MS;
    try {
      const resp = await api("/kitchen/stations/" + current + "/tickets",
        {headers: etag ? {"If-None-Match": etag} : {}});
      if (mine !== generation) return;
      if (resp.status === 200) {
        tickets = (await resp.json()).data;
        etag = resp.headers.get("ETag");
        render();
      }
      failures = 0;
      setLink(true);
      el.board.dataset.state = "live";
    } catch (err) {
      if (err.status === 401) return;
      if (err.status === 404) { notice("This station is gone; pick another."); }
      failures += 1;
      wait = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** Math.min(failures - 1, 3));
      setLink(false);
      el.board.dataset.state = "offline";
    }
    pollTimer = setTimeout(poll, wait);
  }

  function age(ticket) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(ticket.created_at)) / 1000));
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return {seconds, text: m + ":" + String(s).padStart(2, "0")};
  }

  function isLate(ticket) {
    const station = stations[ticket.station_id];
    const limit = (station ? station.alert_minutes : 15) * 60;
    return ticket.late || age(ticket).seconds > limit;
  }

  function node(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function card(ticket) {
    const c = node("article", "ticket" + (ticket.kind === "void" ? " void" : ""));
    c.tabIndex = 0;
    c.dataset.id = String(ticket.id);
    c.dataset.kind = ticket.kind;
    c.setAttribute("role", "button");
    c.setAttribute("aria-label", (ticket.kind === "void" ? "Void ticket " : "Ticket ") + ticket.number +
      ": tap to mark ready");
    if (ticket.kind === "void") c.appendChild(node("div", "void-banner", "VOID · DO NOT PREPARE"));
    const head = node("header");
    head.appendChild(node("span", "number", "#" + ticket.number));
    head.appendChild(node("span", "age", age(ticket).text));
    c.appendChild(head);
    const table = ticket.table ? "Table " + ticket.table : "No table";
    c.appendChild(node("div", "meta", table + " · " + ticket.waiter.name + " · Order " + ticket.order_id));
    const list = node("ul");
    for (const line of ticket.lines) {
      const li = node("li", "line");
      const chips = [];
      if (line.seat) chips.push("Seat " + line.seat);
      chips.push("Course " + line.course);
      li.appendChild(node("span", "chips", chips.join(" · ")));
      li.appendChild(node("span", "qty", (ticket.kind === "void" ? "−" : "") + line.quantity + "×"));
      li.appendChild(node("span", "name", line.product_name));
      for (const modifier of line.modifiers || []) li.appendChild(node("div", "mods", "+ " + modifier.name));
      if (line.notes) li.appendChild(node("div", "notes", line.notes));
      list.appendChild(li);
    }
    c.appendChild(list);
    c.addEventListener("click", () => markReady(ticket, c));
    c.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); markReady(ticket, c); }
    });
    return c;
  }

  function render() {
    el.tickets.textContent = "";
    for (const ticket of tickets) el.tickets.appendChild(card(ticket));
    el.empty.hidden = tickets.length > 0;
    tick();
  }

  /** Ages move every second without asking the server. */
  function tick() {
    for (const c of el.tickets.children) {
      const ticket = tickets.find((t) => String(t.id) === c.dataset.id);
      if (!ticket) continue;
      c.querySelector(".age").textContent = age(ticket).text;
      c.classList.toggle("late", isLate(ticket));
    }
  }

  async function markReady(ticket, c) {
    if (c.classList.contains("pending")) return;
    c.classList.add("pending");
    try {
      await post("/kitchen/tickets/" + ticket.id + "/ready");
      tickets = tickets.filter((t) => t.id !== ticket.id);
      render();
      notice("");
    } catch (err) {
      c.classList.remove("pending");
      if (err.status === 409) { tickets = tickets.filter((t) => t.id !== ticket.id); render(); return; }
      if (err.status !== 401) notice(err.status === 0 ? "Offline: the ticket is not marked ready yet." : err.message);
    }
    etag = null;
    poll();
  }

  async function recallLast() {
    if (current === null) return;
    try {
      const ready = (await (await api("/kitchen/stations/" + current + "/tickets?status=ready")).json()).data;
      if (!ready.length) { notice("Nothing to recall: no ticket was made ready in the last 10 minutes."); return; }
      const last = ready.reduce((a, b) => (Date.parse(a.ready_at) >= Date.parse(b.ready_at) ? a : b));
      await post("/kitchen/tickets/" + last.id + "/recall");
      notice("Recalled ticket #" + last.number + ".");
      etag = null;
      poll();
    } catch (err) {
      if (err.status !== 401) notice(err.status === 0 ? "Offline: cannot recall now." : err.message);
    }
  }

  /* ---------------- wiring ---------------- */

  el.loginForm.addEventListener("submit", onLogin);
  el.logout.addEventListener("click", onLogout);
  el.station.addEventListener("change", onStation);
  el.recall.addEventListener("click", recallLast);
  setInterval(tick, 1000);
  window.addEventListener("online", () => { failures = 0; poll(); });
  window.addEventListener("offline", () => setLink(false));

  auth = loadAuth();
  if (auth) start(); else show("login");
})();
