/*! ttrelay.js — sends conversion events to a ttrelay collector, next to the TikTok pixel. Apache-2.0 */
(function (window, document, navigator) {
  "use strict";
  if (window.ttrelay && window.ttrelay.version) return; // loaded twice: keep the first instance

  const VERSION = "0.3.0";
  const TOKEN_KEY = "ttrelay_token";
  const BATCH_DELAY_MS = 50;
  const MAX_EVENTS_PER_REQUEST = 20; // the collector's default cap is 50
  const CMP_TIMEOUT_MS = 300; // a US Privacy API or consent callback that has not answered by then counts as absent
  const BEACON_LIMIT = 60000; // sendBeacon and keepalive fetch share 64 KiB in flight per page
  const MAX_HELD = 100; // events waiting for the visitor's choice, or for init: memory stays bounded
  const PAGE_POLL_MS = 500; // while events wait, the page's consent callback and the dataLayer are read again
  const PAIR_WINDOW_MS = 500; // a dataLayer event and the page's own ttq.track of that event this close are one action
  const MAX_CONTENTS = 200; // the collector's cap on contents[]: a longer cart keeps its first 200 lines
  const KNOWN_IDS_LIMIT = 1000; // ids already given to both channels: a replay of the pixel's queue is not mirrored again
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
    endpoint: "/events", pixelCode: null, consent: null, debug: false, consentWaitMs: 30000, pixelConsent: true,
    payloadHash: false, mirror: true, mirrorEvents: null, dataLayer: null, siteKey: null,
  };
  let ready = false; // init() has run: until then events wait (bounded), nothing is sent
  let identity = {}; // identify(): kept in memory only, never written to storage
  let memoryToken = null;
  let cmpSignals = {}; // consent strings last given by __tcfapi / __gpp / __uspapi
  let tcfData = null; // the TCF CMP's last tcData; null until it has answered
  let gppPing = null; // the GPP CMP's last pingData; null until it has answered
  let pageAnswer; // the init({consent}) callback's last value; undefined = the visitor has not chosen
  const listening = { tcf: false, gpp: false };
  let refused = false; // the visitor refused during this page view: sticky, nothing is sent any more
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

  function isObject(value) {
    return Boolean(value) && typeof value === "object" && !Array.isArray(value);
  }

  function safely(what, fn) {
    // The snippet sits inside the page's own calls (ttq, dataLayer.push): its faults must never reach them.
    try { return fn(); } catch (e) { log(what + " failed"); return undefined; }
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

  function keepToken(token) {
    memoryToken = token;
    try { window.localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* the memory copy will do */ }
  }

  // ---- the pixel (window.ttq), seen in any load order ----
  // The base code makes ttq an array that queues calls until TikTok's library arrives, which replays the
  // queue and swaps real methods in. So: calls already queued are read once, and `track`, `identify` and
  // `instance` become accessors, which wrap whatever function is assigned to them later, library included.
  const pixel = {
    current: undefined, // window.ttq as last assigned
    watched: new WeakSet(), // objects whose methods are wrapped
    inner: new WeakMap(), // wrapped object -> () => the function its `track` wraps now
    knownIds: new Set(), // ids given to both channels already
    call: null, // the last consent call made on the pixel, so each change is made once
    recent: {}, // event name -> time of the page's last own ttq.track of it (pairing with the dataLayer)
  };

  function ttq() {
    return window.ttq;
  }

  function rememberId(eventId) {
    pixel.knownIds.add(eventId);
    if (pixel.knownIds.size > KNOWN_IDS_LIMIT) pixel.knownIds.delete(pixel.knownIds.values().next().value);
  }

  function watchPixel() {
    const descriptor = Object.getOwnPropertyDescriptor(window, "ttq");
    pixel.current = window.ttq;
    if (!descriptor || descriptor.configurable) {
      Object.defineProperty(window, "ttq", {
        configurable: true, enumerable: true,
        get: () => pixel.current,
        set: (value) => { pixel.current = value; safely("watching ttq", () => instrument(value)); },
      });
    } else {
      log("window.ttq cannot be watched; calls are mirrored once it exists at init");
    }
    if (pixel.current) instrument(pixel.current);
  }

  function instrument(target) {
    if (!target || (typeof target !== "object" && typeof target !== "function") || pixel.watched.has(target)) return;
    pixel.watched.add(target);
    wrapMethod(target, "track", null);
    wrapMethod(target, "identify", null);
    wrapInstance(target);
    if (stillQueueing(target)) {
      takeQueued(target, null);
      const instances = isObject(target._i) ? target._i : {};
      for (const code of Object.keys(instances)) instrumentInstance(instances[code], code);
    }
    if (ready) gatePixel();
  }

  function stillQueueing(target) {
    // The base code's stub: an array whose `track` is one of its tiny deferring functions, which push
    // [method, ...args] onto the queue. Once the library has swapped its own methods in, what is left in the array has
    // been sent already and is never read again (it would be mirrored under a second id).
    // An array with no `track` yet is the base code's queue being built (the snippet came first).
    const track = pixel.inner.has(target) ? pixel.inner.get(target)() : target.track;
    if (!Array.isArray(target)) return false;
    if (track === undefined) return true;
    if (typeof track !== "function") return false;
    const source = Function.prototype.toString.call(track);
    return source.length < 300 && /\.push\(\s*\[/.test(source); // push([method, ...args])
  }

  function instrumentInstance(target, code) {
    if (!target || (typeof target !== "object" && typeof target !== "function") || pixel.watched.has(target)) return;
    pixel.watched.add(target);
    wrapMethod(target, "track", code);
    wrapMethod(target, "identify", code);
    if (Array.isArray(target)) takeQueued(target, code);
  }

  function wrapMethod(target, name, code) {
    const inner = wrapAccessor(target, name, (call, args) => {
      safely("mirroring ttq." + name, () => (name === "track" ? mirrorTrack(args, code) : mirrorIdentify(args[0])));
      return call(args);
    });
    if (name === "track") pixel.inner.set(target, inner);
  }

  function wrapInstance(target) {
    wrapAccessor(target, "instance", (call, args) => {
      const found = call(args);
      const code = typeof args[0] === "string" ? args[0] : null;
      safely("watching ttq.instance", () => instrumentInstance(found, code));
      return found;
    });
  }

  function wrapAccessor(target, name, around) {
    // `target[name]` becomes an accessor: whatever function is assigned to it later (the library's own)
    // is called through `around(call, args)`. Returns a reader of the function it wraps now.
    let inner = target[name];
    const wrapper = function () {
      const self = this;
      return around((args) => inner.apply(self, args), Array.prototype.slice.call(arguments));
    };
    try {
      Object.defineProperty(target, name, {
        configurable: true, enumerable: true,
        get: () => (typeof inner === "function" ? wrapper : inner),
        set: (value) => { inner = value; },
      });
    } catch (e) { log("ttq." + name + " cannot be wrapped"); }
    return () => inner;
  }

  function takeQueued(target, code) {
    // Calls the page made before the snippet arrived, still waiting in the base code's queue: each is
    // mirrored, and the event_id it gets is written into the queued call, so the pixel sends the same id.
    for (const entry of target) {
      if (!Array.isArray(entry) || pixel.watched.has(entry)) continue;
      pixel.watched.add(entry);
      if (entry[0] === "track") {
        const args = entry.slice(1);
        safely("mirroring a queued ttq.track", () => mirrorTrack(args, code));
        entry.splice(1, entry.length - 1, ...args);
      } else if (entry[0] === "identify") {
        safely("mirroring a queued ttq.identify", () => mirrorIdentify(entry[1]));
      }
    }
  }

  function optionsOf(args) {
    return isObject(args[2]) ? args[2] : {};
  }

  function mirrorTrack(args, code) {
    // `args` are ttq.track's arguments, changed in place when the call needs the shared event_id.
    const name = args[0];
    if (typeof name !== "string" || !name) return;
    const given = optionsOf(args).event_id;
    if (given !== undefined && given !== null && pixel.knownIds.has(String(given))) return; // ours, or a replay
    const paired = claimPairing(name);
    const eventId = given !== undefined && given !== null && given !== "" ? String(given) : paired || newEventId();
    rememberId(eventId);
    pixel.recent[name] = Date.now();
    if (eventId !== given) {
      while (args.length < 2) args.push({});
      args[2] = Object.assign({}, optionsOf(args), { event_id: eventId });
    }
    enqueue({ event: name, event_id: eventId, properties: isObject(args[1]) ? args[1] : {}, source: "ttq" },
      {}, code);
    log("mirrored ttq.track " + name, { event_id: eventId });
  }

  function mirrorIdentify(user) {
    if (isObject(user)) identity = pickUser(user);
  }

  function wantsMirror(name) {
    if (!config.mirror) return false;
    const only = config.mirrorEvents;
    if (typeof only === "function") return Boolean(safely("mirrorEvents", () => only(name)));
    return Array.isArray(only) ? only.includes(name) : true;
  }

  function pixelTrack(name, properties, eventId) {
    // Our own call: its id is known, so the wrapper passes it straight to the pixel.
    const target = ttq();
    if (!target || typeof target.track !== "function") return;
    rememberId(eventId);
    safely("ttq.track", () => target.track(name, properties, { event_id: eventId }));
  }

  // ---- the pixel's consent: held until the collector decides (init option pixelConsent) ----
  function consentCall(method) {
    const target = ttq();
    if (!target) return;
    if (method === "holdConsent" && stillQueueing(target)) {
      // First in the queue, so the library holds the page view queued before the snippet too.
      target.unshift(["holdConsent"]);
    } else if (typeof target[method] === "function") {
      safely("ttq." + method, () => target[method]());
    } else {
      return log("the pixel has no ttq." + method + " (an old base code?)");
    }
    log("pixel: ttq." + method + "()");
  }

  function canHold(target) {
    // An old base code, or a page's own ttq object, may lack the consent calls: such a pixel cannot be held.
    return stillQueueing(target) || typeof target.holdConsent === "function";
  }

  function gatePixel() {
    if (!config.pixelConsent || pixel.call) return;
    if (!canHold(ttq())) return log("the pixel has no ttq.holdConsent: it follows its own consent settings");
    pixel.call = "holdConsent";
    consentCall("holdConsent");
    if (decision.action) setPixelConsent(decision.action === "forward"); // the pixel arrived after an answer
    else scheduleDecision();
  }

  function setPixelConsent(granted) {
    // The pixel has no limited mode, so anything but `forward` revokes it: the stricter channel wins.
    if (!config.pixelConsent || !ttq()) return;
    const method = granted && !refused ? "grantConsent" : "revokeConsent";
    if (pixel.call === method) return;
    pixel.call = method;
    consentCall(method);
  }

  function followPageSignals() {
    // The collector could not answer: only the page's own explicit choice moves the pixel, never a default.
    const verdict = pageVerdict();
    if (verdict === "granted") setPixelConsent(true);
    else if (verdict === "refused") setPixelConsent(false);
    else log("no decision from the collector and no explicit choice on the page: the pixel stays held");
  }

  // ---- decisions: every collector answer carries one; a probe asks for it when no event goes ----
  const decision = { key: null, action: null, asking: null, timer: null, inFlight: 0 };

  function rememberDecision(body, key) {
    if (!body || !body.decision) return false;
    // The collector stores a click id only under `forward`; under `limited` (opted out of sale or
    // sharing) and `drop` it stores nothing, so neither may the page.
    if (body.decision.action !== "forward") forgetToken();
    else if (typeof body.token === "string" && body.token && !refused) keepToken(body.token); // !refused: an answer in flight
    decision.key = key;
    decision.action = body.decision.action;
    setPixelConsent(body.decision.action === "forward");
    return true;
  }

  function scheduleDecision() {
    clearTimeout(decision.timer);
    decision.timer = setTimeout(askForDecision, BATCH_DELAY_MS * 2); // an event sent meanwhile answers instead
  }

  async function askForDecision() {
    if (!ready || !config.pixelConsent || !ttq() || refused) return;
    if (queue.length || gathering.length || held.length || pairing.length || decision.inFlight) return; // their answer decides
    const consent = await gatherConsent();
    if (consentState() !== "decided") return; // pending: the pixel stays held; refused: already revoked
    const key = JSON.stringify(consent);
    if (key === decision.key || key === decision.asking) return;
    decision.asking = key;
    const answer = await sendProbe(consent);
    if (decision.asking === key) decision.asking = null;
    log("decision probe", { status: answer.status });
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

  // ---- the dataLayer: Google Consent Mode (always) and GA4 ecommerce (init option dataLayer) ----
  // gtag() pushes its `arguments`, so commands arrive as Arguments objects ['consent', 'update', {...}];
  // GTM pages push plain objects {event, ecommerce}. Each layer is read from a cursor, on every push
  // (push is wrapped) and whenever the snippet needs the consent state, so nothing is read twice.
  const layers = {}; // name -> {array, cursor, model: GTM's merged data model, mapEvents}
  const gcm = { defaults: [], update: null, since: 0, waitForUpdate: 0, timer: null };
  let pairing = []; // dataLayer events waiting PAIR_WINDOW_MS for the page's own ttq.track of the same event

  function watchLayer(name, mapEvents) {
    let layer = layers[name];
    if (!layer) layer = layers[name] = { array: null, cursor: 0, model: {}, mapEvents: false, push: null };
    layer.mapEvents = layer.mapEvents || mapEvents;
    readLayer(layer, name);
  }

  function readLayer(layer, name) {
    let array = window[name];
    if (!Array.isArray(array)) {
      // As gtag's and GTM's snippets do (`w[l] = w[l] || []`): theirs keep this array when they load later.
      array = window[name] = [];
    }
    if (array !== layer.array) { layer.array = array; layer.cursor = 0; layer.model = {}; }
    if (array.push !== layer.push) {
      const push = array.push;
      layer.push = function () {
        const result = push.apply(this, arguments);
        safely("reading the dataLayer", () => readLayer(layer, name));
        return result;
      };
      array.push = layer.push;
    }
    while (layer.cursor < array.length) {
      const entry = array[layer.cursor++];
      safely("a dataLayer entry", () => readEntry(layer, entry));
    }
  }

  function readLayers() {
    for (const name of Object.keys(layers)) readLayer(layers[name], name);
  }

  function isCommand(entry) {
    return Boolean(entry) && typeof entry === "object" && typeof entry.length === "number" && typeof entry[0] === "string";
  }

  function readEntry(layer, entry) {
    if (isCommand(entry)) {
      if (entry[0] === "consent") readConsentCommand(entry[1], entry[2]);
      else if (entry[0] === "event" && layer.mapEvents) mapGa4(entry[1], isObject(entry[2]) ? entry[2] : {});
      return;
    }
    if (!isObject(entry)) return;
    if ("ecommerce" in entry) {
      // GTM merges each push into one model, arrays index by index; `{ecommerce: null}` clears it.
      layer.model.ecommerce = entry.ecommerce === null ? null : merge(layer.model.ecommerce, entry.ecommerce);
    }
    if (!layer.mapEvents) return;
    const ecommerce = isObject(layer.model.ecommerce) ? layer.model.ecommerce : {};
    // A Universal Analytics object is read as one whatever the event's name (sites push UA objects under
    // GA4 names too); a GA4 one carries `items`.
    const own = isObject(entry.ecommerce) ? entry.ecommerce : {};
    if (!Array.isArray(own.items) && UA_ACTIONS.some(([key]) => isObject(own[key]))) {
      mapUniversal(own, ecommerce.currencyCode);
    } else if (typeof entry.event === "string" && GA4_EVENTS[entry.event]) {
      mapGa4(entry.event, Object.assign({}, ecommerce, pick(entry, ["search_term", "method"])));
    }
  }

  function merge(into, value) {
    if (!value || typeof value !== "object") return value;
    const out = Array.isArray(value) ? (Array.isArray(into) ? into.slice() : []) : (isObject(into) ? Object.assign({}, into) : {});
    for (const key of Object.keys(value)) out[key] = merge(out[key], value[key]);
    return out;
  }

  function pick(source, keys) {
    const out = {};
    for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
    return out;
  }

  // ---- Consent Mode: a `default` is not the visitor's choice, an `update` is ----
  function consentModeStates(values) {
    // Only the four types, only "granted" or "denied": what the collector's schema takes.
    const states = {};
    for (const key of GCM_KEYS) if (values[key] === "granted" || values[key] === "denied") states[key] = values[key];
    return states;
  }

  function readConsentCommand(kind, values) {
    if (!isObject(values)) return;
    const states = consentModeStates(values);
    if (kind === "update") {
      gcm.update = Object.assign({}, gcm.update, states);
      log("Consent Mode update", gcm.update);
      Promise.resolve().then(consentChanged); // not from inside the read that found it
    } else if (kind === "default") {
      gcm.defaults.push(states);
      if (!gcm.since) gcm.since = Date.now();
      const wait = Number(values.wait_for_update);
      if (Number.isFinite(wait) && wait > gcm.waitForUpdate) gcm.waitForUpdate = Math.min(wait, config.consentWaitMs);
      clearTimeout(gcm.timer);
      gcm.timer = setTimeout(consentChanged, Math.max(0, gcm.since + gcm.waitForUpdate - Date.now()) + 1);
    }
  }

  function deniesAds(states) {
    return states.ad_storage === "denied" || states.ad_user_data === "denied";
  }

  function grantsAds(states) {
    return states.ad_storage === "granted" && states.ad_user_data === "granted";
  }

  function gcmState() {
    if (gcm.update) return deniesAds(gcm.update) ? "refused" : "decided";
    if (!gcm.defaults.length) return "none";
    // Only defaults: a denying one waits for the visitor (the banner is up); granting ones wait at most
    // wait_for_update for an update that could still deny, then count as no signal at all.
    if (gcm.defaults.some(deniesAds)) return "waiting";
    return Date.now() - gcm.since > gcm.waitForUpdate ? "none" : "waiting";
  }

  // ---- GA4 and Universal Analytics ecommerce -> TikTok events ----
  const GA4_EVENTS = {
    view_item: "ViewContent", add_to_wishlist: "AddToWishlist", add_to_cart: "AddToCart",
    begin_checkout: "InitiateCheckout", add_payment_info: "AddPaymentInfo", purchase: "Purchase",
    search: "Search", generate_lead: "Lead", sign_up: "CompleteRegistration",
  };
  const UA_ACTIONS = [["purchase", "Purchase"], ["checkout", "InitiateCheckout"], ["add", "AddToCart"], ["detail", "ViewContent"]];

  function number(value) {
    if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
    if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
    return undefined;
  }

  function text(value) {
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    return typeof value === "string" && value.trim() ? value.trim() : undefined;
  }

  function content(fields) {
    // fields: [content_id, content_name, price, quantity, content_category, brand] from either shape
    const out = {};
    const [id, name, price, quantity, category, brand] = fields;
    if (text(id)) out.content_id = text(id);
    if (text(name)) out.content_name = text(name);
    if (number(price) !== undefined) out.price = number(price);
    if (number(quantity) !== undefined && Number.isInteger(number(quantity))) out.quantity = number(quantity);
    if (text(category)) out.content_category = text(category);
    if (text(brand)) out.brand = text(brand);
    return out;
  }

  function withContents(properties, contents) {
    const usable = contents.filter((item) => Object.keys(item).length).slice(0, MAX_CONTENTS);
    if (usable.length) { properties.contents = usable; properties.content_type = "product"; }
    return properties;
  }

  function mapGa4(ga4Name, params) {
    const name = GA4_EVENTS[ga4Name];
    if (!name) return;
    const items = Array.isArray(params.items) ? params.items.slice(0, MAX_CONTENTS).filter(isObject) : [];
    const properties = withContents({}, items.map((item) =>
      content([item.item_id, item.item_name, item.price, item.quantity, item.item_category, item.item_brand])));
    if (number(params.value) !== undefined) properties.value = number(params.value);
    if (text(params.currency)) properties.currency = text(params.currency);
    if (text(params.transaction_id)) properties.order_id = text(params.transaction_id);
    if (text(params.search_term)) properties.query = text(params.search_term);
    fromDataLayer(name, properties, name === "Purchase" ? properties.order_id : undefined);
  }

  function mapUniversal(ecommerce, modelCurrency) {
    const found = UA_ACTIONS.find(([key]) => isObject(ecommerce[key]));
    if (!found) return;
    const [key, name] = found;
    const action = ecommerce[key];
    const field = isObject(action.actionField) ? action.actionField : {};
    if (key === "checkout" && field.step !== undefined && Number(field.step) !== 1) return; // the checkout's first step only
    const products = Array.isArray(action.products) ? action.products.slice(0, MAX_CONTENTS).filter(isObject) : [];
    const properties = withContents({}, products.map((product) =>
      content([product.id, product.name, product.price, product.quantity, product.category, product.brand])));
    const currency = text(ecommerce.currencyCode) || text(modelCurrency);
    if (currency) properties.currency = currency;
    const revenue = number(field.revenue);
    const total = products.reduce((sum, product) => sum + (number(product.price) || 0) * (number(product.quantity) || 1), 0);
    if (revenue !== undefined) properties.value = revenue;
    else if (total) properties.value = Math.round(total * 100) / 100;
    if (key === "purchase" && text(field.id)) properties.order_id = text(field.id);
    fromDataLayer(name, properties, properties.order_id);
  }

  function fromDataLayer(name, properties, orderId) {
    const recent = pixel.recent[name];
    if (recent && Date.now() - recent < PAIR_WINDOW_MS) {
      return log("dataLayer " + name + " is the page's own ttq.track: sent once, as that call");
    }
    const event = { event: name, event_id: orderId || newEventId(), properties: properties, source: "dataLayer" };
    if (!ttq() || !config.mirror) return enqueue(event, {}, null);
    // The page may track the same action on the pixel itself (a TikTok tag in GTM): wait a moment for it.
    const item = { event: event, timer: null };
    item.timer = setTimeout(() => releasePairing(item), PAIR_WINDOW_MS);
    pairing.push(item);
  }

  function claimPairing(name) {
    const item = pairing.find((waiting) => waiting.event.event === name);
    if (!item) return null;
    clearTimeout(item.timer);
    pairing = pairing.filter((other) => other !== item);
    return item.event.event_id; // the page's call takes the dataLayer event's id (an order id, say)
  }

  function releasePairing(item) {
    if (!pairing.includes(item)) return;
    pairing = pairing.filter((other) => other !== item);
    sendBoth(item.event, enqueue);
  }

  function sendBoth(event, toCollector) {
    // A dataLayer event nobody tracked on the pixel: the snippet sends it there, and to the collector.
    pixelTrack(event.event, event.properties, event.event_id);
    toCollector(event, {}, null);
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
    // The page may hand over its own CMP's choice: init({consent: () => ({cmp, gcm})}).
    // undefined or "pending" = not chosen.
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
    const denied = (answer.cmp && answer.cmp.marketing === false) || deniesAds(answer.gcm || {});
    return denied ? "refused" : "decided";
  }

  function pageVerdict() {
    // The page's own explicit choice, for the pixel when the collector cannot answer: a TCF string with
    // the required purposes, a Consent Mode update, or a marketing boolean; a default is never one.
    if (consentState() === "refused") return "refused";
    const fromPage = isObject(pageAnswer) ? pageAnswer : {};
    const fromWindow = isObject(window.ttrelayConsent) ? window.ttrelayConsent : {};
    const granted = (tcfState() === "decided" && tcfData && tcfData.gdprApplies !== false) ||
      (gcm.update && grantsAds(gcm.update)) || grantsAds(fromPage.gcm || {}) ||
      [fromPage, fromWindow].some((source) => isObject(source.cmp) && source.cmp.marketing === true);
    return granted ? "granted" : "none";
  }

  function consentState() {
    // "none" from every source (no CMP on the page) counts as decided: the collector judges as before.
    // Consent Mode's "waiting" (only defaults) yields to any other source's decision.
    readLayers();
    if (!refused) {
      const states = [tcfState(), gppState(), pageState(), gcmState()];
      if (!states.includes("refused")) {
        if (states.includes("pending")) return "pending";
        return states.includes("waiting") && !states.includes("decided") ? "pending" : "decided";
      }
      refused = true; // sticky for the page view, even if a grant follows
      const hadToken = Boolean(readToken());
      forgetToken();
      setPixelConsent(false);
      log("the visitor refused: nothing more is sent from this page view");
      // The collector's click-id cookie is HttpOnly: only the collector can expire it, and a kept token
      // says it set one. A decision probe (no events) carrying the refusal makes it do so.
      if (hadToken && ready) expireClickIdCookie();
    }
    return "refused";
  }

  function consentChanged() {
    // Called by the CMP listeners, Consent Mode commands, the page (ttrelay.consentChanged()) and the poll.
    const asked = askPage();
    if (asked) asked.then(releaseIfDecided);
    else releaseIfDecided();
  }

  function releaseIfDecided() {
    // Also run when nothing waits, so that a refusal revokes the pixel at once and a choice is probed.
    const state = consentState();
    if (state !== "pending" && held.length && ready) route(takeHeld(), consentNow(), false);
    else if (state === "decided") scheduleDecision();
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
    if (isObject(raw.gcm)) {
      const states = consentModeStates(raw.gcm);
      if (Object.keys(states).length) out.gcm = states;
    }
    if (isObject(raw.cmp)) {
      const cmp = {};
      for (const key of Object.keys(raw.cmp).slice(0, 32)) {
        if (key.length <= 64 && typeof raw.cmp[key] === "boolean") cmp[key] = raw.cmp[key];
      }
      if (Object.keys(cmp).length) out.cmp = cmp;
    }
    return out;
  }

  function consentNow() {
    // Later sources win key by key: CMP APIs and Consent Mode updates < window.ttrelayConsent < the init
    // callback. The browser's Global Privacy Control comes last: a page cannot turn it off.
    readLayers();
    const fromLayer = gcm.update ? { gcm: gcm.update } : {};
    const fromWindow = isObject(window.ttrelayConsent) ? window.ttrelayConsent : {};
    const fromPage = isObject(pageAnswer) ? pageAnswer : {};
    const gpc = navigator.globalPrivacyControl === true ? { gpc: true } : {};
    return fitSchema(Object.assign({}, cmpSignals, fromLayer, fromWindow, fromPage, gpc));
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
      // Fail closed: an event still waiting after consentWaitMs is thrown away, never sent undecided,
      // and the pixel's held copy goes with it.
      item.expiry = setTimeout(() => {
        held = held.filter((other) => other !== item);
        discard([item], "consent_timeout", "no consent choice within " + config.consentWaitMs + " ms");
        setPixelConsent(false);
      }, config.consentWaitMs);
      held.push(item);
    }
    if (held.length > MAX_HELD) {
      discard(held.splice(0, held.length - MAX_HELD), "queue_full", "more than " + MAX_HELD + " events waiting for consent");
    }
    if (!pagePoll) pagePoll = setInterval(consentChanged, PAGE_POLL_MS);
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
  function pixelCodeFor(batch) {
    // A ttq.instance(code) call names its pixel; otherwise init's pixelCode, else the one pixel the base
    // code loaded, else none (the collector's only pixel).
    if (batch.pixelCode) return batch.pixelCode;
    if (config.pixelCode) return config.pixelCode;
    const target = ttq();
    const codes = target && isObject(target._i) ? Object.keys(target._i) : [];
    return codes.length === 1 ? codes[0] : null;
  }

  function requestBody(batch, consent) {
    const body = { consent: consent, context: pageContext(), events: batch.events };
    const code = pixelCodeFor(batch);
    if (code) body.pixel_code = code;
    if (config.siteKey) body.site_key = config.siteKey;
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

  async function post(json, key) {
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
    decision.inFlight++;
    try {
      response = await window.fetch(config.endpoint, request);
    } catch (e) {
      decision.inFlight--;
      followPageSignals();
      return { status: 0, error: "network_error" };
    }
    const body = await response.json().catch(() => null);
    decision.inFlight--;
    if (!rememberDecision(body, key)) followPageSignals(); // a 4xx or 5xx carries no decision
    return { status: response.status, body: body };
  }

  function beacon(json) {
    // sendBeacon cannot set headers, so with payloadHash the keepalive fetch goes at once.
    const queued = !config.payloadHash && json.length < BEACON_LIMIT && typeof navigator.sendBeacon === "function" &&
      navigator.sendBeacon(config.endpoint, new Blob([json], { type: "text/plain" }));
    if (!queued) post(json, null); // too big, refused or hashed: a (keepalive) fetch may still make it out
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
      const decided = body.decision;
      if (decided.action === "drop") {
        events.forEach((event, index) => {
          if (!rejected.has(index)) warn(label(event) + " dropped by the collector: consent " + decided.regime + "/" + decided.reason);
        });
      }
      log("sent", { accepted: body.accepted, dropped: body.dropped, decision: decided });
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
    // A request carries one `user` and one pixel, so events that differ in either travel separately.
    const batches = [];
    for (const item of items) {
      let last = batches[batches.length - 1];
      if (!last || last.userKey !== item.userKey || last.pixelCode !== item.pixelCode ||
        last.events.length >= MAX_EVENTS_PER_REQUEST) {
        last = { user: item.user, userKey: item.userKey, pixelCode: item.pixelCode, events: [], waiters: [] };
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
      else answer = pageIsHiding ? beacon(json) : await post(json, JSON.stringify(consent));
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

  function sendProbe(consent) {
    // A decision probe: no events, the current signals (DESIGN.md): the collector answers the decision
    // and sets or expires its cookie, queueing nothing.
    return send({ events: [], user: {}, waiters: [], pixelCode: null }, consent, false);
  }

  function expireClickIdCookie() {
    sendProbe(consentNow()).then((answer) => log("withdrawal probe", { status: answer.status }));
  }

  function wanted(item) {
    // Mirrored pixel calls follow init's mirror options, known only once init has run.
    if (item.event.source !== "ttq" || wantsMirror(item.event.event)) return true;
    item.resolve({ status: 0, error: "not_mirrored" });
    return false;
  }

  async function flush() {
    clearTimeout(timer);
    timer = null;
    if (!ready) return [];
    const items = queue.filter(wanted);
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
    const pairs = pairing;
    pairing = [];
    for (const item of pairs) {
      clearTimeout(item.timer);
      sendBoth(item.event, addToQueue); // queued only: it leaves with the beacon below
    }
    if (!ready) return;
    const items = gathering.concat(takeHeld(), queue.filter(wanted));
    gathering = [];
    queue = [];
    askPage();
    route(items, consentNow(), true);
  }

  function enqueue(event, user, pixelCode) {
    const result = addToQueue(event, user, pixelCode);
    if (!ready) return result;
    if (document.visibilityState === "hidden") leave();
    else if (!timer) timer = setTimeout(flush, BATCH_DELAY_MS);
    return result;
  }

  function addToQueue(event, user, pixelCode) {
    const merged = Object.assign({}, identity, user);
    const result = new Promise((resolve) => {
      // Properties go unchanged, pixel-style keys included: the collector maps them.
      queue.push({ event: event, user: merged, userKey: JSON.stringify(merged), pixelCode: pixelCode, resolve: resolve });
    });
    if (queue.length > MAX_HELD && !ready) {
      discard(queue.splice(0, queue.length - MAX_HELD), "queue_full", "more than " + MAX_HELD + " events before init");
    }
    log("queued " + event.event, { event_id: event.event_id, source: event.source });
    return result;
  }

  // ---- public API ----
  function pickUser(source) {
    const user = {};
    if (!isObject(source)) return user;
    for (const key of USER_KEYS) {
      const value = source[key];
      if (typeof value === "string" && value.trim()) user[key] = value.trim();
      else if (Array.isArray(value) && value.length && MULTI_USER_KEYS.includes(key)) user[key] = value.map(String);
    }
    return user;
  }

  function flag(value, fallback) {
    return value === undefined ? fallback : Boolean(value);
  }

  function init(options) {
    options = options || {};
    const gateWasOn = config.pixelConsent && pixel.call === "holdConsent";
    config.endpoint = options.endpoint || "/events";
    config.pixelCode = options.pixelCode || null;
    config.consent = typeof options.consent === "function" ? options.consent : null;
    config.debug = Boolean(options.debug);
    config.consentWaitMs = Number.isFinite(options.consentWaitMs) && options.consentWaitMs >= 0 ? options.consentWaitMs : 30000;
    config.pixelConsent = flag(options.pixelConsent, true);
    config.mirror = flag(options.mirror, true);
    config.mirrorEvents = Array.isArray(options.mirrorEvents) || typeof options.mirrorEvents === "function" ? options.mirrorEvents : null;
    config.dataLayer = options.dataLayer === true ? "dataLayer" : (typeof options.dataLayer === "string" && options.dataLayer) || null;
    config.siteKey = typeof options.siteKey === "string" && options.siteKey ? options.siteKey : null;
    config.payloadHash = options.payloadHash === undefined ? throughFrontDoor(config.endpoint) : Boolean(options.payloadHash);
    ready = true;
    if (gateWasOn && !config.pixelConsent) consentCall("grantConsent"); // our own hold, undone: the page manages the pixel
    watchLayer("dataLayer", config.dataLayer === "dataLayer");
    if (config.dataLayer) watchLayer(config.dataLayer, true);
    if (ttq()) gatePixel();
    gatherConsent(); // warm the cache, so a beacon sent as the page hides has the CMPs' answers
    if (queue.length && !timer) timer = setTimeout(flush, BATCH_DELAY_MS);
    log("ready " + VERSION);
    return api;
  }

  function throughFrontDoor(endpoint) {
    // The front door's documented address is <host>/_t/events, so such an endpoint hashes by default.
    try { return new URL(endpoint, window.location.href).pathname.startsWith(FRONT_DOOR_PATH); } catch (e) { return false; }
  }

  function optionsFromScriptTag(script) {
    // <script src="ttrelay.js" data-endpoint="/_t/events" data-pixel-code="C..." data-data-layer>: no code needed.
    const data = script && script.dataset;
    if (!data || !data.endpoint) return null;
    const off = (value) => value === "false" || value === "0";
    const options = { endpoint: data.endpoint, pixelCode: data.pixelCode, siteKey: data.siteKey };
    if (data.dataLayer !== undefined) options.dataLayer = data.dataLayer === "" || data.dataLayer === "true" ? true : !off(data.dataLayer) && data.dataLayer;
    if (data.pixelConsent !== undefined) options.pixelConsent = !off(data.pixelConsent);
    if (data.mirror !== undefined) options.mirror = !off(data.mirror);
    if (data.debug !== undefined) options.debug = !off(data.debug);
    if (data.payloadHash !== undefined) options.payloadHash = !off(data.payloadHash);
    if (data.consentWaitMs !== undefined) options.consentWaitMs = Number(data.consentWaitMs);
    return options;
  }

  function identify(user) {
    identity = pickUser(user);
    const target = ttq();
    if (isObject(user) && target && typeof target.identify === "function") {
      safely("ttq.identify", () => target.identify(user)); // the pixel's advanced matching hashes its own copy
    }
  }

  function track(eventName, properties, options) {
    options = options || {};
    properties = properties || {};
    // One id per user action, given to the pixel and to the collector, so TikTok merges the pair.
    // `event_id` is ttq.track's own spelling; `eventId` is kept for pages written against 0.1.
    const given = options.event_id !== undefined ? options.event_id : options.eventId;
    const eventId = given ? String(given) : newEventId();
    pixelTrack(eventName, properties, eventId);
    return enqueue({ event: eventName, event_id: eventId, properties: properties, source: "ttrelay" },
      pickUser(options.user), null);
  }

  function leaveIfBusy() {
    if (queue.length || gathering.length || held.length || pairing.length) leave();
  }
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") leaveIfBusy(); });
  window.addEventListener("pagehide", leaveIfBusy);

  const api = {
    version: VERSION, init: init, track: track, identify: identify, flush: flush, consentChanged: consentChanged,
  };
  window.ttrelay = api;
  safely("watching the pixel", watchPixel);
  const fromTag = optionsFromScriptTag(document.currentScript);
  if (fromTag) init(fromTag);
})(window, document, navigator);
