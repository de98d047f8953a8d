const TTRELAY_CONFIG = { endpoint: "https://collect.example.com/events", siteKey: "ttrelay_pk_REPLACE_ME", pixelCode: "CXXXXXXXXXXXXXXXXXXX" };

// ttrelay custom pixel for Shopify (Settings → Customer events → Add custom pixel). Edit the first line
// only: your collector's address, the publishable site key (`ttrelay keys create --publishable`) and
// your TikTok pixel code. Guide: docs/shopify.md. It runs in Shopify's sandbox: no store DOM, only the
// `analytics`, `browser`, `init` and `customerPrivacy` objects Shopify gives every custom pixel.

/** @typedef {import("@shopify/web-pixels-extension").PixelEventsProductViewed} ProductViewed */
/** @typedef {import("@shopify/web-pixels-extension").PixelEventsSearchSubmitted} SearchSubmitted */
/** @typedef {import("@shopify/web-pixels-extension").PixelEventsProductAddedToCart} ProductAddedToCart */
/** @typedef {import("@shopify/web-pixels-extension").PixelEventsCheckoutStarted} CheckoutStarted */
/** @typedef {import("@shopify/web-pixels-extension").PixelEventsPaymentInfoSubmitted} PaymentInfoSubmitted */
/** @typedef {import("@shopify/web-pixels-extension").PixelEventsCheckoutCompleted} CheckoutCompleted */
/** @typedef {import("@shopify/web-pixels-extension").Checkout} Checkout */
/** @typedef {import("@shopify/web-pixels-extension").ProductVariant} ProductVariant */
/** @typedef {import("@shopify/web-pixels-extension").Context} ShopifyContext */
/** @typedef {import("@shopify/web-pixels-extension").CustomerPrivacyPayload} CustomerPrivacyPayload */
/** @typedef {ProductViewed | SearchSubmitted | ProductAddedToCart | CheckoutStarted | PaymentInfoSubmitted | CheckoutCompleted} MappedEvent */

/**
 * One item of the collector's `contents[]` (docs/events.md).
 * @typedef {{content_id: string, content_name?: string, price?: number, quantity?: number,
 *   brand?: string, content_category?: string}} Content
 */
/** @typedef {Record<string, string | number | Content[]>} Properties */
/** @typedef {{email?: string, phone?: string, external_id?: string}} User */
/** @typedef {{event: string, event_id: string, event_time?: number, properties: Properties, source: "shopify"}} RelayEvent */
/**
 * An event waiting to leave, with what its request needs from the page it happened on.
 * @typedef {{event: RelayEvent, user: User, pageUrl: string, referrer: string, locale: string,
 *   clickId: string, seenAt: number}} Pending
 */

const TTRELAY_PIXEL_VERSION = "1.0.0";
const CLICK_ID_STORAGE_KEY = "ttrelay_ttclid";
const CLICK_ID_DAYS = 30; // as long as TikTok attributes a click
const WAIT_MAX_EVENTS = 100; // events held while the visitor has not chosen
const WAIT_MAX_MS = 30000;
const EVENTS_PER_REQUEST = 50; // the collector's default MaxEventsPerRequest
const KEEPALIVE_LIMIT = 60000;
// The collector's rule for click ids and _ttp values: anything else would make it refuse the request.
const CLICK_TOKEN = /^[A-Za-z0-9._~+/=-]{1,512}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** @type {Record<MappedEvent["name"], string>} */
const TIKTOK_EVENTS = {
  product_viewed: "ViewContent",
  search_submitted: "Search",
  product_added_to_cart: "AddToCart",
  checkout_started: "InitiateCheckout",
  payment_info_submitted: "AddPaymentInfo",
  checkout_completed: "Purchase",
};

// ---- the click id ------------------------------------------------------------------------------
/** @param {string} href */
function clickIdIn(href) {
  try {
    const value = new URL(href).searchParams.get("ttclid");
    return value && CLICK_TOKEN.test(value) ? value : "";
  } catch (error) {
    return "";
  }
}

// The landing URL's click id; written to the store's storage only once marketing is allowed.
let landingClickId = clickIdIn(init.context.document.location.href);

let keptClickId = "";
function rememberClickId() {
  if (!landingClickId || keptClickId === landingClickId) return;
  keptClickId = landingClickId;
  const expires = Date.now() + CLICK_ID_DAYS * 86400000;
  browser.localStorage.setItem(CLICK_ID_STORAGE_KEY, JSON.stringify({ ttclid: landingClickId, expires }));
}

function forgetClickId() {
  landingClickId = keptClickId = "";
  browser.localStorage.removeItem(CLICK_ID_STORAGE_KEY);
}

/** @returns {Promise<string>} the visit's click id: this page's, else one kept from the last 30 days */
async function storedClickId() {
  try {
    const kept = JSON.parse((await browser.localStorage.getItem(CLICK_ID_STORAGE_KEY)) || "null");
    const fresh = kept && typeof kept.ttclid === "string" && kept.expires > Date.now();
    return fresh && CLICK_TOKEN.test(kept.ttclid) ? kept.ttclid : "";
  } catch (error) {
    return "";
  }
}

async function ttpCookie() {
  try {
    const value = await browser.cookie.get("_ttp");
    return value && CLICK_TOKEN.test(value) ? value : "";
  } catch (error) {
    return "";
  }
}

// ---- consent -----------------------------------------------------------------------------------
// "unknown" until the visitor decides. Shopify's start state says false both for "declined earlier"
// and "not asked yet", so only a visitorConsentCollected event can refuse; a grant at start counts.
/** @type {"granted" | "refused" | "unknown"} */
let marketing = init.customerPrivacy && init.customerPrivacy.marketingAllowed === true ? "granted" : "unknown";
let saleOfDataRefused = Boolean(init.customerPrivacy && init.customerPrivacy.saleOfDataAllowed === false);
/** @type {Pending[]} */
let waiting = [];

customerPrivacy.subscribe("visitorConsentCollected", (/** @type {CustomerPrivacyPayload} */ payload) => {
  const privacy = payload.customerPrivacy;
  saleOfDataRefused = privacy.saleOfDataAllowed === false;
  if (privacy.marketingAllowed === true) {
    marketing = "granted";
    const now = Date.now();
    const ready = waiting.filter((item) => now - item.seenAt <= WAIT_MAX_MS);
    waiting = [];
    rememberClickId();
    send(ready);
  } else {
    marketing = "refused";
    waiting = []; // never sent after a refusal, not even what happened before it
    forgetClickId();
  }
});

/** The signals the collector decides on (reference: docs/consent.md). */
function consentSignals() {
  /** @type {{cmp: {marketing: boolean}, usp?: string}} */
  const signals = { cmp: { marketing: true } };
  // A sale opt-out is stated as a US Privacy string: the collector reads it as an opt-out in the US
  // only (events leave with limited_data_use), and ignores it elsewhere, as Shopify means it.
  if (saleOfDataRefused) signals.usp = "1YYN";
  return signals;
}

// ---- Shopify events into the collector's shapes (docs/events.md) ---------------------------------
/** @param {ProductVariant | null} variant @param {number} [quantity] @returns {Content | null} */
function variantContent(variant, quantity) {
  if (!variant) return null;
  const id = variant.id || (variant.product && variant.product.id);
  if (!id) return null;
  /** @type {Content} */
  const content = { content_id: String(id) };
  const name = (variant.product && variant.product.title) || variant.title;
  if (name) content.content_name = name;
  if (variant.price && typeof variant.price.amount === "number") content.price = variant.price.amount;
  if (typeof quantity === "number") content.quantity = quantity;
  if (variant.product && variant.product.vendor) content.brand = variant.product.vendor;
  if (variant.product && variant.product.type) content.content_category = variant.product.type;
  return content;
}

/** @param {Checkout} checkout @returns {Properties} */
function checkoutProperties(checkout) {
  /** @type {Content[]} */
  const contents = [];
  for (const item of checkout.lineItems || []) {
    const content = variantContent(item.variant, item.quantity);
    if (!content) continue;
    if (item.title) content.content_name = item.title;
    contents.push(content);
  }
  /** @type {Properties} */
  const properties = { content_type: "product" };
  if (contents.length) properties.contents = contents;
  const total = checkout.totalPrice;
  if (total && typeof total.amount === "number") properties.value = total.amount;
  const currency = (total && total.currencyCode) || checkout.currencyCode;
  if (currency) properties.currency = currency;
  return properties;
}

/** @param {MappedEvent} event @returns {Properties} */
function propertiesOf(event) {
  switch (event.name) {
    case "product_viewed": {
      const variant = event.data.productVariant;
      const content = variantContent(variant);
      /** @type {Properties} */
      const properties = { content_type: "product" };
      if (content) properties.contents = [content];
      if (variant && variant.price) {
        properties.value = variant.price.amount;
        properties.currency = variant.price.currencyCode;
      }
      return properties;
    }
    case "search_submitted":
      return event.data.searchResult && event.data.searchResult.query ? { query: event.data.searchResult.query } : {};
    case "product_added_to_cart": {
      const line = event.data.cartLine;
      if (!line) return {};
      const content = variantContent(line.merchandise, line.quantity);
      /** @type {Properties} */
      const properties = { content_type: "product" };
      if (content) properties.contents = [content];
      if (line.cost && line.cost.totalAmount) {
        properties.value = line.cost.totalAmount.amount;
        properties.currency = line.cost.totalAmount.currencyCode;
      }
      return properties;
    }
    case "checkout_completed": {
      const properties = checkoutProperties(event.data.checkout);
      const order = event.data.checkout.order;
      if (order && order.id) properties.order_id = String(order.id);
      return properties;
    }
    default:
      return checkoutProperties(event.data.checkout);
  }
}

/** The Purchase is keyed on the order, so a reloaded thank-you page counts once. @param {MappedEvent} event */
function eventIdOf(event) {
  if (event.name === "checkout_completed") {
    const checkout = event.data.checkout;
    if (checkout.order && checkout.order.id) return String(checkout.order.id);
    if (checkout.token) return String(checkout.token); // no order id yet: the checkout is as stable
  }
  return String(event.id);
}

/** Raw email and phone: the collector normalises and hashes them before anything is queued. @param {MappedEvent} event */
function userOf(event) {
  /** @type {User} */
  const user = {};
  const customer = init.data.customer;
  if (customer && customer.email) user.email = customer.email;
  if (customer && customer.phone) user.phone = customer.phone;
  if (customer && customer.id) user.external_id = String(customer.id);
  if ("checkout" in event.data) {
    const checkout = event.data.checkout;
    if (checkout.email) user.email = checkout.email;
    if (checkout.phone) user.phone = checkout.phone;
    const buyer = checkout.order && checkout.order.customer;
    if (!user.external_id && buyer && buyer.id) user.external_id = String(buyer.id);
  }
  return user;
}

/** @param {MappedEvent} event @returns {Pending} */
function pendingOf(event) {
  /** @type {RelayEvent} */
  const relayed = {
    event: TIKTOK_EVENTS[event.name], event_id: eventIdOf(event), properties: propertiesOf(event), source: "shopify",
  };
  const seconds = Math.floor(Date.parse(event.timestamp) / 1000);
  if (Number.isFinite(seconds)) relayed.event_time = seconds;
  const page = event.context.document;
  const clickId = clickIdIn(page.location.href);
  if (clickId) landingClickId = clickId;
  const language = event.context.navigator && event.context.navigator.language;
  return {
    event: relayed,
    user: userOf(event),
    pageUrl: page.location.href,
    referrer: page.referrer || "",
    locale: language && LOCALE.test(language) ? language : "",
    clickId,
    seenAt: Date.now(),
  };
}

/** @param {MappedEvent} event */
function receive(event) {
  if (marketing === "refused" || !TTRELAY_CONFIG.siteKey) return;
  const item = pendingOf(event);
  if (marketing === "granted") {
    rememberClickId();
    send([item]);
    return;
  }
  waiting.push(item);
  if (waiting.length > WAIT_MAX_EVENTS) waiting.shift();
}

// ---- sending -----------------------------------------------------------------------------------
/** @param {Pending[]} items */
async function send(items) {
  if (!items.length) return;
  const visitClickId = landingClickId || (await storedClickId());
  const ttp = await ttpCookie();
  // A request has one page and one user: events that share them travel together.
  /** @type {Map<string, {context: Record<string, string>, user: User, events: RelayEvent[]}>} */
  const requests = new Map();
  for (const item of items) {
    /** @type {Record<string, string>} */
    const context = { page_url: item.pageUrl };
    if (item.referrer) context.referrer = item.referrer;
    if (item.clickId || visitClickId) context.ttclid = item.clickId || visitClickId;
    if (ttp) context.ttp = ttp;
    if (item.locale) context.locale = item.locale;
    const key = JSON.stringify([context, item.user]);
    const request = requests.get(key) || { context, user: item.user, events: [] };
    request.events.push(item.event);
    requests.set(key, request);
  }
  for (const { context, user, events } of requests.values()) {
    for (let start = 0; start < events.length; start += EVENTS_PER_REQUEST) {
      const batch = events.slice(start, start + EVENTS_PER_REQUEST);
      await post({ pixel_code: TTRELAY_CONFIG.pixelCode, consent: consentSignals(), context, user, events: batch });
    }
  }
}

/** @param {Record<string, unknown>} body */
async function post(body) {
  const url = new URL(TTRELAY_CONFIG.endpoint);
  url.searchParams.set("site_key", TTRELAY_CONFIG.siteKey);
  const json = JSON.stringify(body);
  // text/plain keeps the request CORS-simple (no preflight, which a sandboxed page could not pass);
  // no credentials: the sandbox has no cookies of its own, and the collector sets none for it.
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "text/plain" };
  try {
    // keepalive lets a Purchase leave while the thank-you page unloads; browsers cap it at 64 KiB.
    const keepalive = json.length < KEEPALIVE_LIMIT;
    const response = await fetch(url.toString(), { method: "POST", keepalive, credentials: "omit", headers, body: json });
    if (response.status !== 202) console.warn(`[ttrelay] the collector answered ${response.status}: ${await errorCode(response)}`);
  } catch (error) {
    console.warn("[ttrelay] the collector could not be reached");
  }
}

/** The machine-readable error only: answers never carry personal data, but logs should not either. @param {Response} response */
async function errorCode(response) {
  try {
    const answer = await response.json();
    return answer && typeof answer.error === "string" ? answer.error : "no error code";
  } catch (error) {
    return "no readable answer";
  }
}

for (const name of /** @type {(keyof typeof TIKTOK_EVENTS)[]} */ (Object.keys(TIKTOK_EVENTS))) {
  analytics.subscribe(name, (/** @type {MappedEvent} */ event) => receive(event));
}
if (TTRELAY_CONFIG.siteKey.endsWith("REPLACE_ME")) console.warn("[ttrelay] edit TTRELAY_CONFIG: siteKey is the placeholder");
console.info(`[ttrelay] custom pixel ${TTRELAY_PIXEL_VERSION} for ${TTRELAY_CONFIG.pixelCode}`);
