/*! ttrelay.js — sends conversion events to a ttrelay collector, next to the TikTok pixel. Apache-2.0 */
(function (window, document, navigator) {
  "use strict";
  if (window.ttrelay && window.ttrelay.version) return; // loaded twice: keep the first instance

  const VERSION = "0.2.0";
  const TOKEN_KEY = "ttrelay_token";
  const BATCH_DELAY_MS = 50;
  const MAX_EVENTS_PER_REQUEST = 20; // the collector's default cap is 50
  const CMP_TIMEOUT_MS = 300; // a US Privacy API or consent callback that has not answered by then counts as absent
  const BEACON_LIMIT = 60000; // sendBeacon and keepalive fetch share 64 KiB in flight per page
  const MAX_HELD = 100; // events waiting for the visitor's consent choice: memory stays bounded
  const PAGE_POLL_MS = 500; // while events wait, the page's consent callback is asked again this often
  const GCM_KEYS = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"];
  // ttq.identify's names and the Events API's (the collector maps phone_number to phone and hashes).
  // Only the identifiers may hold several values; the address and name fields are single strings.
  const MULTI_USER_KEYS = ["email", "phone", "phone_number", "external_id"];
  const USER_KEYS = MULTI_USER_KEYS.concat(["first_name", "last_name", "zip_code", "city", "state", "country"]);
  // The relay's required TCF purposes (reference/consent.md §1.8): withholding any of them is a refusal.
  const TCF_REQUIRED_PURPOSES = [1, 3, 4, 7];

  const FRONT_DOOR_PATH = "/_t/"; // where the stack's CloudFront front door serves the collector
  const PAYLOAD_HASH_HEADER = "x-amz-content-sha256";

  const config = {
    endpoint: "/events", pixelCode: null, consent: null, debug: false, consentWaitMs: 30000, pixelConsent: false,
    payloadHash: false,
  };
  let identity = {}; // identify(): kept in memory only, never written to storage
  let memoryToken = null;
  let cmpSignals = {}; // consent strings last given by __tcfapi / __gpp / __uspapi
  let tcfData = null; // the TCF CMP's last tcData; null until it has answered
  let gppPing = null; // the GPP CMP's last pingData; null until it has answered
  let pageAnswer; // the init({consent}) callback's last value; undefined = the visitor has not chosen
  const listening = { tcf: false, gpp: false };
  let refused = false; // the visitor refused during this page view: sticky, nothing is sent any more
  let pixelCall = null; // the last consent call made on ttq, so each change is made once
  let queue = []; // waiting for the batching delay
  let gathering = []; // taken from the queue, waiting for the CMPs' answers
  let held = []; // waiting for the visitor's consent choice
  let timer = null;
  let pagePoll = null;

  function log(message, detail) {
    // Event names, ids, counts and decisions only: never user data, tokens or consent strings.
    if (config.debug && window.console) window.console.debug("[ttrelay] " + message, detail === undefined ? "" : detail);
  }

  function warn(message) {
    // Always on: an event that does not reach TikTok should never fail silently. Same rule as log().
    if (window.console) window.console.warn("[ttrelay] " + message);
  }

  function label(event) {
    return event.event + " (event_id " + event.event_id + ")";
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function newEventId() {
    const cryptoApi = window.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") return cryptoApi.randomUUID(); // secure contexts only
    const bytes = new Uint8Array(16);
    if (cryptoApi && cryptoApi.getRandomValues) cryptoApi.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return hex(bytes);
  }

  // ---- storage: only the collector's signed token, and only while the collector allows storage ----
  function readToken() {
    if (memoryToken) return memoryToken;
    try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function forgetToken() {
    memoryToken = null;
    try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage blocked: nothing was kept */ }
  }

  function rememberDecision(body) {
    if (!body || !body.decision) return;
    // The collector stores a click id only under `forward`; under `limited` (opted out of sale or
    // sharing) and `drop` it stores nothing, so neither may the page.
    if (body.decision.action !== "forward") forgetToken();
    else if (typeof body.token === "string" && body.token && !refused) { // !refused: an answer still in flight
      memoryToken = body.token;
      try { window.localStorage.setItem(TOKEN_KEY, body.token); } catch (e) { /* the memory copy will do */ }
    }
    setPixelConsent(body.decision.action === "forward");
  }

  // ---- the pixel's consent, in step with the collector's decision (init option pixelConsent) ----
  function callPixel(method) {
    const ttq = window.ttq;
    if (!config.pixelConsent || !ttq || typeof ttq[method] !== "function") return;
    try { ttq[method](); } catch (e) { log("ttq." + method + " threw"); }
    log("pixel: ttq." + method + "()");
  }

  function setPixelConsent(granted) {
    // The pixel has no limited mode, so anything but `forward` revokes it: the stricter channel wins.
    const method = granted && !refused ? "grantConsent" : "revokeConsent";
    if (pixelCall === method) return;
    pixelCall = method;
    callPixel(method);
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

  // ---- consent: report what the page's CMP says; the collector decides. Hold events while the
  // visitor has not chosen yet, and never send after they refused. ----
  function withTimeout(start) {
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => { if (!finished) { finished = true; resolve(); } };
      setTimeout(finish, CMP_TIMEOUT_MS);
      try { start(finish); } catch (e) { finish(); }
    });
  }

  function listenToCmps() {
    // addEventListener answers at once with the current state and again on every change, so events
    // held for a decision leave as soon as it is made. A CMP that loads after the snippet is picked up
    // at the next flush.
    if (!listening.tcf && typeof window.__tcfapi === "function") {
      try {
        window.__tcfapi("addEventListener", 2, (data, ok) => {
          if (!ok || !data) return;
          tcfData = data;
          if (typeof data.tcString === "string" && data.tcString) cmpSignals.tcf = data.tcString;
          consentChanged();
        });
        listening.tcf = true;
      } catch (e) { /* a broken CMP stub: retried at the next flush */ }
    }
    if (!listening.gpp && typeof window.__gpp === "function") {
      try {
        window.__gpp("addEventListener", (event, ok) => {
          const ping = event && event.pingData;
          if (ok === false || !ping) return;
          gppPing = ping;
          if (typeof ping.gppString === "string" && ping.gppString) {
            cmpSignals.gpp = ping.gppString;
            cmpSignals.gpp_sid = ping.applicableSections;
          }
          consentChanged();
        });
        listening.gpp = true;
      } catch (e) { /* as above */ }
    }
  }

  function askUsp() {
    // US Privacy has no "not decided yet" state: it only ever adds an opt-out, so nothing waits for it.
    if (typeof window.__uspapi !== "function") return Promise.resolve();
    return withTimeout((done) => window.__uspapi("getUSPData", 1, (data, ok) => {
      if (ok && data && typeof data.uspString === "string") cmpSignals.usp = data.uspString;
      done();
    }));
  }

  function askPage() {
    // Google Consent Mode has no public read API, so the page hands its state (and its own CMP's
    // marketing choice) over: init({consent: () => ({gcm, cmp})}). undefined or "pending" = not chosen.
    if (typeof config.consent !== "function") return undefined;
    try {
      const value = config.consent();
      if (value && typeof value.then === "function") {
        return value.then((resolved) => { pageAnswer = resolved; }, () => { pageAnswer = undefined; });
      }
      pageAnswer = value;
    } catch (e) {
      pageAnswer = undefined; // fail closed: events wait, and are discarded if no answer comes in time
      log("consent callback threw; events wait");
    }
    return undefined;
  }

  function tcfState() {
    if (typeof window.__tcfapi !== "function") return "none";
    const data = tcfData;
    if (!data) return "pending"; // the CMP is on the page but has not answered yet
    if (data.gdprApplies === false) return "decided";
    if (data.eventStatus === "cmpuishown" || !data.tcString) return "pending"; // the banner is up
    const consents = (data.purpose && data.purpose.consents) || {};
    return TCF_REQUIRED_PURPOSES.every((id) => consents[id] === true) ? "decided" : "refused";
  }

  function gppState() {
    if (typeof window.__gpp !== "function") return "none";
    // A ready GPP string is a decision; what it says (an opt-out, say) is the collector's to judge.
    return !gppPing || gppPing.signalStatus === "not ready" ? "pending" : "decided";
  }

  function pageState() {
    if (typeof config.consent !== "function") return "none";
    const answer = pageAnswer;
    if (answer === undefined || answer === "pending") return "pending";
    if (!answer || typeof answer !== "object") return "decided";
    const gcm = answer.gcm || {};
    const denied = (answer.cmp && answer.cmp.marketing === false) ||
      gcm.ad_storage === "denied" || gcm.ad_user_data === "denied";
    return denied ? "refused" : "decided";
  }

  function consentState() {
    // "none" from every source (no CMP on the page) counts as decided: the collector judges as before.
    if (!refused) {
      const states = [tcfState(), gppState(), pageState()];
      if (!states.includes("refused")) return states.includes("pending") ? "pending" : "decided";
      refused = true; // sticky for the page view, even if a grant follows
      const hadToken = Boolean(readToken());
      forgetToken();
      setPixelConsent(false);
      log("the visitor refused: nothing more is sent from this page view");
      // The collector's click-id cookie is HttpOnly: only the collector can expire it, and a kept token
      // says it set one. A decision probe (no events) carrying the refusal makes it do so.
      if (hadToken) expireClickIdCookie();
    }
    return "refused";
  }

  function consentChanged() {
    // Called by the CMP listeners, by the page (ttrelay.consentChanged()) and by the poll below.
    const asked = askPage();
    if (asked) asked.then(releaseIfDecided);
    else releaseIfDecided();
  }

  function releaseIfDecided() {
    // Also run when nothing waits, so that a refusal revokes the pixel at once.
    if (consentState() === "pending" || !held.length) return;
    route(takeHeld(), consentNow(), false);
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
    const fromPage = pageAnswer && typeof pageAnswer === "object" ? pageAnswer : {};
    const gpc = navigator.globalPrivacyControl === true ? { gpc: true } : {};
    return fitSchema(Object.assign({}, cmpSignals, fromWindow, fromPage, gpc));
  }

  async function gatherConsent() {
    listenToCmps();
    const asked = askPage();
    await Promise.all([askUsp(), asked ? withTimeout((done) => asked.then(done)) : null]);
    return consentNow();
  }

  // ---- holding events until the visitor chooses ----
  function hold(items) {
    for (const item of items) {
      // Fail closed: an event still waiting after consentWaitMs is thrown away, never sent undecided.
      item.expiry = setTimeout(() => {
        held = held.filter((other) => other !== item);
        discard([item], "consent_timeout", "no consent choice within " + config.consentWaitMs + " ms");
      }, config.consentWaitMs);
      held.push(item);
    }
    if (held.length > MAX_HELD) {
      discard(held.splice(0, held.length - MAX_HELD), "queue_full", "more than " + MAX_HELD + " events waiting for consent");
    }
    if (!pagePoll && typeof config.consent === "function") pagePoll = setInterval(consentChanged, PAGE_POLL_MS);
    log("waiting for the visitor's consent choice", { events: held.length });
  }

  function takeHeld() {
    const items = held;
    held = [];
    items.forEach((item) => clearTimeout(item.expiry));
    clearInterval(pagePoll);
    pagePoll = null;
    return items;
  }

  function discard(items, error, why) {
    for (const item of items) {
      clearTimeout(item.expiry);
      warn(label(item.event) + " not sent: " + why);
      item.resolve({ status: 0, error: error });
    }
  }

  function route(items, consent, pageIsHiding) {
    if (!items.length) return Promise.resolve([]);
    const state = consentState();
    if (state === "refused") return discard(items, "consent_refused", "the visitor refused consent on this page");
    if (state === "pending") {
      if (pageIsHiding) return discard(items, "page_hidden", "the page was hidden before the visitor chose");
      return hold(items);
    }
    return Promise.all(intoBatches(items).map((batch) => send(batch, consent, pageIsHiding)));
  }

  // ---- transport ----
  function requestBody(batch, consent) {
    const body = { consent: consent, context: pageContext(), events: batch.events };
    if (config.pixelCode) body.pixel_code = config.pixelCode;
    if (Object.keys(batch.user).length) body.user = batch.user;
    return JSON.stringify(body);
  }

  // ---- the body's SHA-256 (init option payloadHash): the front door's origin access control signs it,
  // and Lambda refuses a POST without it (CloudFront does not compute it). ----
  function canHashPayload() {
    // crypto.subtle exists only in secure contexts (https, localhost).
    return Boolean(window.crypto && window.crypto.subtle && typeof window.crypto.subtle.digest === "function");
  }

  async function addPayloadHash(request) {
    // Hash the very bytes that are sent, so the digest cannot differ from the body (UTF-8, no re-encoding).
    const bytes = new TextEncoder().encode(request.body);
    const digest = await window.crypto.subtle.digest("SHA-256", bytes);
    request.body = bytes;
    request.keepalive = bytes.length < BEACON_LIMIT;
    request.headers[PAYLOAD_HASH_HEADER] = hex(new Uint8Array(digest));
  }

  async function post(json) {
    // text/plain keeps this a CORS "simple" request: no preflight, even cross-origin (the hash header,
    // when on, makes it non-simple; the collector answers that preflight).
    const request = {
      method: "POST", body: json, headers: { "Content-Type": "text/plain" },
      keepalive: json.length < BEACON_LIMIT, credentials: "include",
    };
    if (config.payloadHash) {
      try { await addPayloadHash(request); } catch (e) { return { status: 0, error: "payload_hash_unavailable" }; }
    }
    let response;
    try {
      response = await window.fetch(config.endpoint, request);
    } catch (e) {
      return { status: 0, error: "network_error" };
    }
    const body = await response.json().catch(() => null);
    rememberDecision(body);
    return { status: response.status, body: body };
  }

  function beacon(json) {
    // sendBeacon cannot set headers, so with payloadHash the keepalive fetch goes at once.
    const queued = !config.payloadHash && json.length < BEACON_LIMIT && typeof navigator.sendBeacon === "function" &&
      navigator.sendBeacon(config.endpoint, new Blob([json], { type: "text/plain" }));
    if (!queued) post(json); // too big, refused or hashed: a (keepalive) fetch may still make it out
    return { status: 0, error: "sent_by_beacon" }; // the page is going away: no answer to read
  }

  function errorPaths(errors) {
    // Paths and the collector's messages, which never echo a submitted value.
    return (errors || []).map((error) => (error.loc ? error.loc + ": " : "") + error.msg).join("; ");
  }

  function report(events, answer) {
    const body = answer.body;
    if (answer.error === "network_error") {
      events.forEach((event) => warn(label(event) + " not sent: network error"));
    } else if (body && body.decision) {
      const rejected = new Set();
      for (const item of body.rejected || []) {
        rejected.add(item.index);
        warn(label(events[item.index] || item) + " rejected by the collector: " + errorPaths(item.errors));
      }
      for (const item of body.warnings || []) {
        // Without an index the warning is about the request itself (an unknown field, `user`).
        const about = item.index === undefined ? "request" : label(events[item.index] || item);
        warn(about + ": " + errorPaths([item]));
      }
      const decision = body.decision;
      if (decision.action === "drop") {
        events.forEach((event, index) => {
          if (!rejected.has(index)) warn(label(event) + " dropped by the collector: consent " + decision.regime + "/" + decision.reason);
        });
      }
      log("sent", { accepted: body.accepted, dropped: body.dropped, decision: decision });
    } else if (answer.status) {
      // The whole request was refused (4xx, or a 5xx): each event gets its own errors and the request's.
      const errors = (body && body.errors) || [];
      const why = "HTTP " + answer.status + ((body && body.error) ? " " + body.error : "");
      events.forEach((event, index) => {
        const own = errorsAbout(errors, index);
        warn(label(event) + " not accepted by the collector (" + why + ")" + (own.length ? ": " + errorPaths(own) : ""));
      });
    }
  }

  function errorsAbout(errors, index) {
    // Errors with an `events.<i>.` path concern that event; those without one, the whole request.
    const prefix = "events." + index + ".";
    return errors.filter((error) => !/^events\./.test(error.loc || "") || (error.loc + ".").startsWith(prefix));
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
    let answer;
    try {
      const json = requestBody(batch, consent);
      // Checked before sending: through the front door a request without the hash is refused anyway.
      if (config.payloadHash && !canHashPayload()) answer = { status: 0, error: "payload_hash_unavailable" };
      else answer = pageIsHiding ? beacon(json) : await post(json);
    } catch (e) {
      answer = { status: 0, error: "unserializable" }; // e.g. a cycle or a BigInt in the properties
      batch.events.forEach((event) => warn(label(event) + " not sent: its properties cannot be turned into JSON"));
    }
    if (answer.error === "payload_hash_unavailable") {
      batch.events.forEach((event) => warn(label(event) + " not sent: payloadHash needs crypto.subtle, which only secure (https) pages have"));
    }
    report(batch.events, answer);
    batch.waiters.forEach((resolve) => resolve(answer)); // track() promises settle, whatever happened
    return answer;
  }

  function expireClickIdCookie() {
    send({ events: [], user: {}, waiters: [] }, consentNow(), false)
      .then((answer) => log("withdrawal probe", { status: answer.status }));
  }

  async function flush() {
    clearTimeout(timer);
    timer = null;
    const items = queue;
    queue = [];
    if (!items.length) return [];
    gathering = gathering.concat(items);
    const consent = await gatherConsent();
    const stillHere = items.filter((item) => gathering.includes(item)); // not already taken by leave()
    gathering = gathering.filter((item) => !items.includes(item));
    return route(stillHere, consent, false);
  }

  function leave() {
    // The page is being hidden or unloaded: no time to ask the CMPs again, so their last answers
    // decide, and whatever may be sent leaves in a beacon, events still waiting for the CMPs included.
    clearTimeout(timer);
    timer = null;
    const items = gathering.concat(takeHeld(), queue);
    gathering = [];
    queue = [];
    askPage();
    route(items, consentNow(), true);
  }

  // ---- public API ----
  function pickUser(source) {
    const user = {};
    if (!source || typeof source !== "object") return user;
    for (const key of USER_KEYS) {
      const value = source[key];
      if (typeof value === "string" && value.trim()) user[key] = value.trim();
      else if (Array.isArray(value) && value.length && MULTI_USER_KEYS.includes(key)) user[key] = value.map(String);
    }
    return user;
  }

  function init(options) {
    options = options || {};
    config.endpoint = options.endpoint || "/events";
    config.pixelCode = options.pixelCode || null;
    config.consent = typeof options.consent === "function" ? options.consent : null;
    config.debug = Boolean(options.debug);
    config.consentWaitMs = Number.isFinite(options.consentWaitMs) && options.consentWaitMs >= 0 ? options.consentWaitMs : 30000;
    config.pixelConsent = Boolean(options.pixelConsent);
    config.payloadHash = options.payloadHash === undefined ? throughFrontDoor(config.endpoint) : Boolean(options.payloadHash);
    if (config.pixelConsent) callPixel("holdConsent"); // until the collector's first decision
    gatherConsent(); // warm the cache, so a beacon sent as the page hides has the CMPs' answers
    log("ready " + VERSION);
    return api;
  }

  function throughFrontDoor(endpoint) {
    // The front door's documented address is <host>/_t/events, so such an endpoint hashes by default.
    try { return new URL(endpoint, window.location.href).pathname.startsWith(FRONT_DOOR_PATH); } catch (e) { return false; }
  }

  function identify(user) {
    identity = pickUser(user);
  }

  function track(eventName, properties, options) {
    options = options || {};
    properties = properties || {};
    // One id per user action, given to the pixel and to the collector, so TikTok merges the pair.
    // `event_id` is ttq.track's own spelling; `eventId` is kept for pages written against 0.1.
    const given = options.event_id !== undefined ? options.event_id : options.eventId;
    const eventId = given ? String(given) : newEventId();
    if (window.ttq && typeof window.ttq.track === "function") {
      try { window.ttq.track(eventName, properties, { event_id: eventId }); } catch (e) { log("ttq.track threw"); }
    }
    const user = Object.assign({}, identity, pickUser(options.user));
    const result = new Promise((resolve) => {
      // Properties go unchanged, pixel-style keys included: the collector maps them.
      queue.push({ event: { event: eventName, event_id: eventId, properties: properties },
        user: user, userKey: JSON.stringify(user), resolve: resolve });
    });
    log("queued " + eventName, { event_id: eventId });
    if (document.visibilityState === "hidden") leave();
    else if (!timer) timer = setTimeout(flush, BATCH_DELAY_MS);
    return result;
  }

  function leaveIfBusy() {
    if (queue.length || gathering.length || held.length) leave();
  }
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") leaveIfBusy(); });
  window.addEventListener("pagehide", leaveIfBusy);

  const api = {
    version: VERSION, init: init, track: track, identify: identify, flush: flush, consentChanged: consentChanged,
  };
  window.ttrelay = api;
})(window, document, navigator);
