/*! ttrelay.js — sends conversion events to a ttrelay collector, next to the TikTok pixel. Apache-2.0 */
(function (window) {
  "use strict";
  if (window.ttrelay && window.ttrelay.version) return; // loaded twice: keep the first instance

  var VERSION = "0.1.0";
  var TOKEN_KEY = "ttrelay_token";
  var BATCH_DELAY_MS = 50;
  var MAX_EVENTS_PER_REQUEST = 20; // the collector allows 50 by default; stay well below
  var CMP_TIMEOUT_MS = 300; // a CMP that does not answer by then is treated as absent
  var BEACON_LIMIT = 60000; // sendBeacon and keepalive fetch share a 64 KiB budget per page
  var GCM_KEYS = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"];
  var USER_KEYS = ["email", "phone", "external_id"];

  var config = { endpoint: "/events", pixelCode: null, consent: null, debug: false };
  var identity = {}; // identify(): memory only, never written to storage
  var cmpSignals = {}; // last answers from __tcfapi / __gpp / __uspapi
  var callbackConsent = {}; // last resolved value of init({consent})
  var memoryToken = null;
  var queue = [];
  var timer = null;
  var tcfListening = false;

  function log(message, detail) {
    // Only event names, counts and decisions are logged: never user data, tokens or consent strings.
    if (config.debug && window.console) window.console.debug("[ttrelay] " + message, detail === undefined ? "" : detail);
  }

  function newEventId() {
    var cryptoApi = window.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") return cryptoApi.randomUUID();
    var bytes = new Uint8Array(16);
    if (cryptoApi && cryptoApi.getRandomValues) cryptoApi.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // ---- storage: only the collector's signed token, only while the server allows storage ----
  function readToken() {
    if (memoryToken) return memoryToken;
    try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function rememberDecision(body) {
    if (!body || !body.decision) return;
    if (body.decision.action === "drop") {
      memoryToken = null;
      try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage blocked: nothing kept */ }
    } else if (typeof body.token === "string" && body.token) {
      memoryToken = body.token;
      try { window.localStorage.setItem(TOKEN_KEY, body.token); } catch (e) { /* memory copy is enough */ }
    }
  }

  // ---- context ----
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    if (!match) return null;
    try { return decodeURIComponent(match[1]); } catch (e) { return match[1]; }
  }

  function ttclid() {
    // TikTok's capture order: landing URL query, then a same-host referrer's query, then the ttclid cookie.
    var fromPage = new URLSearchParams(window.location.search).get("ttclid");
    if (fromPage) return fromPage;
    try {
      var ref = new URL(document.referrer);
      if (ref.hostname === window.location.hostname && ref.searchParams.get("ttclid")) return ref.searchParams.get("ttclid");
    } catch (e) { /* no or odd referrer */ }
    return cookie("ttclid");
  }

  function context() {
    var out = { page_url: window.location.href, locale: navigator.language || undefined };
    if (document.referrer) out.referrer = document.referrer;
    var clickId = ttclid();
    if (clickId) out.ttclid = clickId;
    var ttp = cookie("_ttp");
    if (ttp) out.ttp = ttp;
    var token = readToken();
    if (token) out.token = token;
    return out;
  }

  // ---- consent: gather what the page's CMP says; the collector decides ----
  function withTimeout(start) {
    return new Promise(function (resolve) {
      var done = false;
      function finish(value) { if (!done) { done = true; resolve(value); } }
      setTimeout(finish, CMP_TIMEOUT_MS);
      try { start(finish); } catch (e) { finish(undefined); }
    });
  }

  function listenTcf() {
    if (tcfListening || typeof window.__tcfapi !== "function") return;
    tcfListening = true;
    try {
      window.__tcfapi("addEventListener", 2, function (data, ok) {
        if (ok && data && typeof data.tcString === "string" && data.tcString) cmpSignals.tcf = data.tcString;
      });
    } catch (e) { tcfListening = false; }
  }

  function askTcf() {
    listenTcf();
    if (typeof window.__tcfapi !== "function" || cmpSignals.tcf) return Promise.resolve();
    return withTimeout(function (done) {
      window.__tcfapi("getTCData", 2, function (data, ok) {
        if (ok && data && typeof data.tcString === "string" && data.tcString) cmpSignals.tcf = data.tcString;
        done();
      });
    });
  }

  function askGpp() {
    if (typeof window.__gpp !== "function") return Promise.resolve();
    return withTimeout(function (done) {
      window.__gpp("ping", function (data, ok) {
        if (ok !== false && data && typeof data.gppString === "string" && data.gppString) {
          cmpSignals.gpp = data.gppString;
          // -1 means "no section applies"; the collector accepts section ids 0..1000 only.
          cmpSignals.gpp_sid = (Array.isArray(data.applicableSections) ? data.applicableSections : [])
            .filter(function (id) { return Number.isInteger(id) && id >= 0 && id <= 1000; });
        }
        done();
      });
    });
  }

  function askUsp() {
    if (typeof window.__uspapi !== "function") return Promise.resolve();
    return withTimeout(function (done) {
      window.__uspapi("getUSPData", 1, function (data, ok) {
        if (ok && data && typeof data.uspString === "string") cmpSignals.usp = data.uspString;
        done();
      });
    });
  }

  function pageConsent() {
    // Google Consent Mode has no public read API, so the page hands its state over, either as
    // window.ttrelayConsent = {gcm: {...}, cmp: {marketing}} or from init({consent: () => ({...})}),
    // the callback winning key by key. A callback that returns a Promise is awaited (flush) or its
    // last resolved value is used (page hide, which cannot wait).
    var fromWindow = window.ttrelayConsent && typeof window.ttrelayConsent === "object" ? window.ttrelayConsent : {};
    var fromCallback = callbackConsent;
    if (typeof config.consent === "function") {
      try {
        var value = config.consent();
        if (value && typeof value.then !== "function") fromCallback = callbackConsent = value;
      } catch (e) { log("consent callback threw; its signals are not sent"); }
    }
    return Object.assign({}, fromWindow, fromCallback);
  }

  function clean(raw) {
    // Fail closed on the client too: a malformed signal is left out rather than guessed.
    var out = {};
    ["tcf", "gpp", "usp"].forEach(function (key) {
      if (typeof raw[key] === "string" && raw[key]) out[key] = raw[key];
    });
    if (out.gpp && Array.isArray(raw.gpp_sid)) out.gpp_sid = raw.gpp_sid.filter(Number.isInteger);
    if (typeof raw.gpc === "boolean") out.gpc = raw.gpc;
    if (raw.gcm && typeof raw.gcm === "object") {
      var gcm = {};
      GCM_KEYS.forEach(function (key) {
        if (raw.gcm[key] === "granted" || raw.gcm[key] === "denied") gcm[key] = raw.gcm[key];
      });
      if (Object.keys(gcm).length) out.gcm = gcm;
    }
    if (raw.cmp && typeof raw.cmp === "object") {
      var cmp = {};
      Object.keys(raw.cmp).forEach(function (key) { if (typeof raw.cmp[key] === "boolean") cmp[key] = raw.cmp[key]; });
      if (Object.keys(cmp).length) out.cmp = cmp;
    }
    return out;
  }

  function consentNow() {
    var gpc = navigator.globalPrivacyControl === true ? { gpc: true } : {};
    return clean(Object.assign({}, cmpSignals, gpc, pageConsent()));
  }

  function gatherConsent() {
    var asked = [askTcf(), askGpp(), askUsp()];
    if (typeof config.consent === "function") {
      asked.push(withTimeout(function (done) {
        Promise.resolve(config.consent()).then(function (value) {
          if (value && typeof value === "object") callbackConsent = value;
          done();
        }, function () { done(); });
      }));
    }
    return Promise.all(asked).then(consentNow);
  }

  // ---- transport ----
  function payload(batch, consent) {
    var body = { consent: consent, context: context(), events: batch.events };
    if (config.pixelCode) body.pixel_code = config.pixelCode;
    if (Object.keys(batch.user).length) body.user = batch.user;
    return JSON.stringify(body);
  }

  function post(json) {
    // text/plain keeps this a "simple" request: no CORS preflight even cross-origin.
    return window.fetch(config.endpoint, {
      method: "POST", body: json, headers: { "Content-Type": "text/plain" },
      keepalive: json.length < BEACON_LIMIT, credentials: "include",
    }).then(function (response) {
      return response.json().catch(function () { return null; });
    }).then(function (body) {
      rememberDecision(body);
      if (body && body.decision) log("sent", { accepted: body.accepted, dropped: body.dropped, decision: body.decision });
      else if (body && body.error) log("rejected", { error: body.error, errors: body.errors });
      return body;
    }, function () {
      log("network error; events not sent");
      return null;
    });
  }

  function beacon(json) {
    var sent = json.length < BEACON_LIMIT && typeof navigator.sendBeacon === "function" &&
      navigator.sendBeacon(config.endpoint, new Blob([json], { type: "text/plain" }));
    if (!sent) post(json); // over quota or unsupported: a keepalive fetch still outlives the page
    return null;
  }

  function batches(items) {
    // One request carries one user, so events with different user data go in separate requests.
    var out = [];
    items.forEach(function (item) {
      var last = out[out.length - 1];
      if (!last || last.userKey !== item.userKey || last.events.length >= MAX_EVENTS_PER_REQUEST) {
        last = { user: item.user, userKey: item.userKey, events: [], waiters: [] };
        out.push(last);
      }
      last.events.push(item.event);
      last.waiters.push(item.resolve);
    });
    return out;
  }

  function flush(onPageHide) {
    clearTimeout(timer);
    timer = null;
    var items = queue.splice(0, queue.length);
    if (!items.length) return Promise.resolve([]);
    if (onPageHide) {
      // The page is going away: no time to ask the CMPs again, use what they said last.
      var consent = consentNow();
      batches(items).forEach(function (batch) {
        beacon(payload(batch, consent));
        batch.waiters.forEach(function (resolve) { resolve(null); });
      });
      return Promise.resolve([]);
    }
    return gatherConsent().then(function (consent) {
      return Promise.all(batches(items).map(function (batch) {
        return post(payload(batch, consent)).then(function (body) {
          batch.waiters.forEach(function (resolve) { resolve(body); });
          return body;
        });
      }));
    });
  }

  // ---- public API ----
  function pickUser(source) {
    var out = {};
    if (!source) return out;
    USER_KEYS.forEach(function (key) {
      var value = source[key];
      if (typeof value === "string" && value.trim()) out[key] = value.trim();
      else if (Array.isArray(value) && value.length) out[key] = value.map(String);
    });
    return out;
  }

  function init(options) {
    options = options || {};
    config.endpoint = options.endpoint || "/events";
    config.pixelCode = options.pixelCode || null;
    config.consent = typeof options.consent === "function" ? options.consent : null;
    config.debug = !!options.debug;
    listenTcf();
    gatherConsent(); // warm the cache so a page-hide beacon has CMP answers
    log("ready " + VERSION);
    return api;
  }

  function identify(user) {
    identity = pickUser(user);
  }

  function track(eventName, properties, options) {
    options = options || {};
    // One id per user action, given to the pixel and the collector alike so TikTok merges the pair.
    var eventId = options.eventId ? String(options.eventId) : newEventId();
    properties = properties || {};
    if (window.ttq && typeof window.ttq.track === "function") {
      try { window.ttq.track(eventName, properties, { event_id: eventId }); } catch (e) { log("ttq.track threw"); }
    }
    var user = Object.assign({}, identity, pickUser(options.user));
    var promise = new Promise(function (resolve) {
      queue.push({
        event: { event: eventName, event_id: eventId, properties: properties },
        user: user, userKey: JSON.stringify(user), resolve: resolve,
      });
    });
    log("queued " + eventName, { event_id: eventId });
    if (document.visibilityState === "hidden") flush(true);
    else if (!timer) timer = setTimeout(flush, BATCH_DELAY_MS);
    return promise;
  }

  function onHide() {
    if (queue.length) flush(true);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") onHide();
  });
  window.addEventListener("pagehide", onHide);

  var api = { version: VERSION, init: init, track: track, identify: identify, flush: function () { return flush(false); } };
  window.ttrelay = api;
})(window);
