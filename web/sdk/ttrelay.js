/*! ttrelay.js — sends conversion events to a ttrelay collector, next to the TikTok pixel. Apache-2.0 */
(function (window, document, navigator) {
  "use strict";
  if (window.ttrelay && window.ttrelay.version) return; // loaded twice: keep the first instance

  const VERSION = "0.1.0";
  const TOKEN_KEY = "ttrelay_token";
  const BATCH_DELAY_MS = 50;
  const MAX_EVENTS_PER_REQUEST = 20; // the collector's default cap is 50
  const CMP_TIMEOUT_MS = 300; // a CMP that has not answered by then counts as absent
  const BEACON_LIMIT = 60000; // sendBeacon and keepalive fetch share 64 KiB in flight per page
  const GCM_KEYS = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"];
  const USER_KEYS = ["email", "phone", "external_id"];

  const config = { endpoint: "/events", pixelCode: null, consent: null, debug: false };
  let identity = {}; // identify(): kept in memory only, never written to storage
  let memoryToken = null;
  let cmpSignals = {}; // last answers of __tcfapi / __gpp / __uspapi
  let pageSignals = {}; // last value of the init({consent}) callback
  let tcfListening = false;
  let queue = [];
  let awaitingConsent = []; // taken from the queue, waiting for the CMPs' answers
  let timer = null;

  function log(message, detail) {
    // Event names, ids, counts and decisions only: never user data, tokens or consent strings.
    if (config.debug && window.console) window.console.debug("[ttrelay] " + message, detail === undefined ? "" : detail);
  }

  function newEventId() {
    const cryptoApi = window.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") return cryptoApi.randomUUID(); // secure contexts only
    const bytes = new Uint8Array(16);
    if (cryptoApi && cryptoApi.getRandomValues) cryptoApi.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- storage: only the collector's signed token, and only while the collector allows storage ----
  function readToken() {
    if (memoryToken) return memoryToken;
    try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function rememberDecision(body) {
    if (!body || !body.decision) return;
    if (body.decision.action === "drop") {
      memoryToken = null;
      try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage blocked: nothing was kept */ }
    } else if (typeof body.token === "string" && body.token) {
      memoryToken = body.token;
      try { window.localStorage.setItem(TOKEN_KEY, body.token); } catch (e) { /* the memory copy will do */ }
    }
  }

  // ---- context ----
  function readCookie(name) {
    const match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    if (!match) return null;
    try { return decodeURIComponent(match[1]); } catch (e) { return match[1]; }
  }

  function findTtclid() {
    // TikTok's capture order: page URL query, then a same-host referrer's query, then the ttclid cookie.
    const fromPage = new URLSearchParams(window.location.search).get("ttclid");
    if (fromPage) return fromPage;
    try {
      const referrer = new URL(document.referrer);
      const fromReferrer = referrer.searchParams.get("ttclid");
      if (referrer.hostname === window.location.hostname && fromReferrer) return fromReferrer;
    } catch (e) { /* no referrer */ }
    return readCookie("ttclid");
  }

  function pageContext() {
    const context = { page_url: window.location.href };
    if (document.referrer) context.referrer = document.referrer;
    if (navigator.language) context.locale = navigator.language;
    const ttclid = findTtclid();
    if (ttclid) context.ttclid = ttclid;
    const ttp = readCookie("_ttp");
    if (ttp) context.ttp = ttp;
    const token = readToken();
    if (token) context.token = token;
    return context;
  }

  // ---- consent: report what the page's CMP says; the collector decides ----
  function withTimeout(start) {
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => { if (!finished) { finished = true; resolve(); } };
      setTimeout(finish, CMP_TIMEOUT_MS);
      try { start(finish); } catch (e) { finish(); }
    });
  }

  function keepTcString(data, ok) {
    if (ok && data && typeof data.tcString === "string" && data.tcString) cmpSignals.tcf = data.tcString;
  }

  function listenTcf() {
    if (tcfListening || typeof window.__tcfapi !== "function") return;
    try {
      window.__tcfapi("addEventListener", 2, keepTcString); // called again whenever the visitor changes it
      tcfListening = true;
    } catch (e) { /* a broken CMP stub: retried on the next flush */ }
  }

  function askTcf() {
    listenTcf();
    if (typeof window.__tcfapi !== "function" || cmpSignals.tcf) return Promise.resolve();
    return withTimeout((done) => window.__tcfapi("getTCData", 2, (data, ok) => { keepTcString(data, ok); done(); }));
  }

  function askGpp() {
    if (typeof window.__gpp !== "function") return Promise.resolve();
    return withTimeout((done) => window.__gpp("ping", (data, ok) => {
      if (ok !== false && data && typeof data.gppString === "string" && data.gppString) {
        cmpSignals.gpp = data.gppString;
        cmpSignals.gpp_sid = data.applicableSections;
      }
      done();
    }));
  }

  function askUsp() {
    if (typeof window.__uspapi !== "function") return Promise.resolve();
    return withTimeout((done) => window.__uspapi("getUSPData", 1, (data, ok) => {
      if (ok && data && typeof data.uspString === "string") cmpSignals.usp = data.uspString;
      done();
    }));
  }

  function askPage() {
    // Google Consent Mode has no public read API, so the page hands its state (and its own CMP's
    // marketing choice) over: init({consent: () => ({gcm, cmp})}) or window.ttrelayConsent.
    if (typeof config.consent !== "function") return undefined;
    try {
      const value = config.consent();
      if (value && typeof value.then === "function") {
        return value.then((resolved) => { if (resolved && typeof resolved === "object") pageSignals = resolved; }, () => {});
      }
      pageSignals = value && typeof value === "object" ? value : {};
    } catch (e) {
      pageSignals = {};
      log("consent callback threw; its signals are left out");
    }
    return undefined;
  }

  function fitSchema(raw) {
    // Shape only, so that one odd value cannot get the whole request rejected (400). Consent strings go
    // as the CMP gave them: the collector reads a malformed one as a denial. One too long for the
    // collector is cut, which keeps it malformed, so it still counts as a denial there.
    const out = {};
    for (const [key, max] of [["tcf", 16384], ["gpp", 16384], ["usp", 16]]) {
      if (typeof raw[key] === "string" && raw[key]) out[key] = raw[key].slice(0, max);
    }
    if (out.gpp && Array.isArray(raw.gpp_sid)) { // [-1] means "no section applies": not an id
      out.gpp_sid = raw.gpp_sid.filter((id) => Number.isInteger(id) && id >= 0 && id <= 1000).slice(0, 64);
    }
    if (typeof raw.gpc === "boolean") out.gpc = raw.gpc;
    if (raw.gcm && typeof raw.gcm === "object") {
      const gcm = {};
      for (const key of GCM_KEYS) if (raw.gcm[key] === "granted" || raw.gcm[key] === "denied") gcm[key] = raw.gcm[key];
      if (Object.keys(gcm).length) out.gcm = gcm;
    }
    if (raw.cmp && typeof raw.cmp === "object") {
      const cmp = {};
      for (const key of Object.keys(raw.cmp).slice(0, 32)) {
        if (key.length <= 64 && typeof raw.cmp[key] === "boolean") cmp[key] = raw.cmp[key];
      }
      if (Object.keys(cmp).length) out.cmp = cmp;
    }
    return out;
  }

  function consentNow() {
    // Later sources win key by key: CMP APIs < window.ttrelayConsent < the init callback. The browser's
    // Global Privacy Control comes last: a page cannot turn it off.
    const fromWindow = window.ttrelayConsent && typeof window.ttrelayConsent === "object" ? window.ttrelayConsent : {};
    const gpc = navigator.globalPrivacyControl === true ? { gpc: true } : {};
    return fitSchema(Object.assign({}, cmpSignals, fromWindow, pageSignals, gpc));
  }

  async function gatherConsent() {
    const pending = askPage();
    await Promise.all([askTcf(), askGpp(), askUsp(), pending ? withTimeout((done) => pending.then(done)) : null]);
    return consentNow();
  }

  // ---- transport ----
  function requestBody(batch, consent) {
    const body = { consent: consent, context: pageContext(), events: batch.events };
    if (config.pixelCode) body.pixel_code = config.pixelCode;
    if (Object.keys(batch.user).length) body.user = batch.user;
    return JSON.stringify(body);
  }

  async function post(json) {
    let body = null;
    try {
      // text/plain keeps this a CORS "simple" request: no preflight, even cross-origin.
      const response = await window.fetch(config.endpoint, {
        method: "POST", body: json, headers: { "Content-Type": "text/plain" },
        keepalive: json.length < BEACON_LIMIT, credentials: "include",
      });
      body = await response.json().catch(() => null);
    } catch (e) {
      log("network error; events not sent");
      return null;
    }
    rememberDecision(body);
    if (body && body.decision) log("sent", { accepted: body.accepted, dropped: body.dropped, decision: body.decision });
    else if (body && body.error) log("rejected", { error: body.error, errors: body.errors });
    return body;
  }

  function beacon(json) {
    const queued = json.length < BEACON_LIMIT && typeof navigator.sendBeacon === "function" &&
      navigator.sendBeacon(config.endpoint, new Blob([json], { type: "text/plain" }));
    if (!queued) post(json); // too big or refused: a fetch may still make it out
  }

  function intoBatches(items) {
    // A request carries one `user`, so events with different user data travel separately.
    const batches = [];
    for (const item of items) {
      let last = batches[batches.length - 1];
      if (!last || last.userKey !== item.userKey || last.events.length >= MAX_EVENTS_PER_REQUEST) {
        last = { user: item.user, userKey: item.userKey, events: [], waiters: [] };
        batches.push(last);
      }
      last.events.push(item.event);
      last.waiters.push(item.resolve);
    }
    return batches;
  }

  async function send(batch, consent, pageIsHiding) {
    let body = null;
    try {
      const json = requestBody(batch, consent);
      if (pageIsHiding) beacon(json);
      else body = await post(json);
    } catch (e) {
      log("could not send: properties that JSON cannot hold?"); // e.g. a cycle or a BigInt
    }
    batch.waiters.forEach((resolve) => resolve(body)); // track() promises settle, whatever happened
    return body;
  }

  async function flush(pageIsHiding) {
    clearTimeout(timer);
    timer = null;
    let items = queue;
    queue = [];
    let consent;
    if (pageIsHiding) {
      // No time to ask the CMPs again: use their last answers, and hand the body to the browser,
      // together with events still waiting for those answers (the page may be gone before they come).
      items = awaitingConsent.concat(items);
      awaitingConsent = [];
      askPage();
      consent = consentNow();
    } else {
      if (!items.length) return [];
      awaitingConsent = awaitingConsent.concat(items);
      consent = await gatherConsent();
      const stillHere = items.filter((item) => awaitingConsent.includes(item)); // not already beaconed
      awaitingConsent = awaitingConsent.filter((item) => !items.includes(item));
      items = stillHere;
    }
    return Promise.all(intoBatches(items).map((batch) => send(batch, consent, pageIsHiding)));
  }

  // ---- public API ----
  function pickUser(source) {
    const user = {};
    if (!source || typeof source !== "object") return user;
    for (const key of USER_KEYS) {
      const value = source[key];
      if (typeof value === "string" && value.trim()) user[key] = value.trim();
      else if (Array.isArray(value) && value.length) user[key] = value.map(String);
    }
    return user;
  }

  function init(options) {
    options = options || {};
    config.endpoint = options.endpoint || "/events";
    config.pixelCode = options.pixelCode || null;
    config.consent = typeof options.consent === "function" ? options.consent : null;
    config.debug = Boolean(options.debug);
    gatherConsent(); // warm the cache, so a beacon sent as the page hides has the CMPs' answers
    log("ready " + VERSION);
    return api;
  }

  function identify(user) {
    identity = pickUser(user);
  }

  function track(eventName, properties, options) {
    options = options || {};
    properties = properties || {};
    // One id per user action, given to the pixel and to the collector, so TikTok merges the pair.
    const eventId = options.eventId ? String(options.eventId) : newEventId();
    if (window.ttq && typeof window.ttq.track === "function") {
      try { window.ttq.track(eventName, properties, { event_id: eventId }); } catch (e) { log("ttq.track threw"); }
    }
    const user = Object.assign({}, identity, pickUser(options.user));
    const result = new Promise((resolve) => {
      queue.push({ event: { event: eventName, event_id: eventId, properties: properties },
        user: user, userKey: JSON.stringify(user), resolve: resolve });
    });
    log("queued " + eventName, { event_id: eventId });
    if (document.visibilityState === "hidden") flush(true);
    else if (!timer) timer = setTimeout(() => flush(false), BATCH_DELAY_MS);
    return result;
  }

  function flushOnHide() {
    if (queue.length || awaitingConsent.length) flush(true);
  }
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flushOnHide(); });
  window.addEventListener("pagehide", flushOnHide);

  const api = { version: VERSION, init: init, track: track, identify: identify, flush: () => flush(false) };
  window.ttrelay = api;
})(window, document, navigator);
