// Type declarations of ttrelay.js 0.3.0 (the classic script, window.ttrelay) and of its ES module build
// ttrelay.mjs (the same functions as named exports and the default export). The collector's answers
// mirror docs/openapi.json; tests/unit/test_sdk_package.py fails when they drift apart.

/** Google Consent Mode v2: a value of an `update` the visitor made. */
export type ConsentModeValue = "granted" | "denied";

/** Google Consent Mode v2 types the collector reads (sent as `consent.gcm`). */
export interface ConsentModeSignals {
  ad_storage?: ConsentModeValue;
  ad_user_data?: ConsentModeValue;
  ad_personalization?: ConsentModeValue;
  analytics_storage?: ConsentModeValue;
}

/**
 * The visitor's consent signals, as the request's `consent` object. The snippet reads `tcf`, `gpp`,
 * `usp`, `gpc` and Consent Mode itself; a page adds what only it knows (usually `cmp`).
 */
export interface ConsentSignals {
  /** IAB TCF v2 TC string, as the CMP gave it. */
  tcf?: string;
  /** IAB GPP string. */
  gpp?: string;
  /** GPP section ids that apply (0 to 1000; -1 is left out). */
  gpp_sid?: number[];
  /** US Privacy string, e.g. "1YNN". */
  usp?: string;
  /** Global Privacy Control; the browser's own value is applied last and cannot be switched off. */
  gpc?: boolean;
  gcm?: ConsentModeSignals;
  /** The page's CMP categories, e.g. `{ marketing: true }`: `marketing` is the one the collector reads. */
  cmp?: { [category: string]: boolean };
}

/** What the `consent` callback returns: `undefined` or "pending" while the visitor has not chosen. */
export type ConsentAnswer = ConsentSignals | undefined | "pending";

/** Called before each request; a Promise is awaited up to 300 ms. */
export type ConsentCallback = () => ConsentAnswer | PromiseLike<ConsentAnswer>;

/** TikTok's standard web events and the legacy names still in use; any other name is a custom event. */
export type StandardEventName =
  | "AddPaymentInfo" | "AddToCart" | "AddToWishlist" | "ApplicationApproval" | "CompleteRegistration"
  | "Contact" | "CustomizeProduct" | "Download" | "FindLocation" | "InitiateCheckout" | "Lead"
  | "Purchase" | "Schedule" | "Search" | "StartTrial" | "SubmitApplication" | "Subscribe" | "ViewContent"
  | "CompletePayment" | "PlaceAnOrder" | "ClickButton" | "SubmitForm";

/** Event names are case-sensitive: "purchase" is a custom event and never merges with "Purchase". */
export type EventName = StandardEventName | (string & {});

export interface Content {
  content_id: string;
  content_name?: string;
  content_category?: string;
  brand?: string;
  price?: number;
  quantity?: number;
}

/**
 * `ttq.track`'s second argument, sent to the collector unchanged: the Events API's names, the pixel's
 * classic ones, and custom keys (strings, numbers, booleans or lists of them) within the collector's bounds.
 */
export interface EventProperties {
  value?: number | string;
  currency?: string;
  content_type?: "product" | "product_group";
  contents?: Content[];
  content_ids?: string[];
  num_items?: number;
  order_id?: string;
  shop_id?: string;
  description?: string;
  search_string?: string;
  query?: string;
  content_id?: string | string[];
  content_name?: string;
  content_category?: string;
  brand?: string;
  price?: number | string;
  quantity?: number | string;
  [custom: string]: unknown;
}

/**
 * Advanced matching, in `ttq.identify`'s names or the Events API's. Send values raw (trimmed): the
 * collector normalises and hashes them before anything is queued. Other keys are not sent.
 */
export interface User {
  email?: string | string[];
  phone_number?: string | string[];
  phone?: string | string[];
  external_id?: string | string[];
  first_name?: string;
  last_name?: string;
  zip_code?: string;
  city?: string;
  state?: string;
  country?: string;
}

export interface InitOptions {
  /** The collector's URL. Default "/events"; "/_t/events" through your own CloudFront. */
  endpoint?: string;
  /** The pixel the collector sends to. Default: the one pixel the base code loaded. */
  pixelCode?: string;
  /** The page's own consent answer, merged over what the CMP APIs give. */
  consent?: ConsentCallback;
  /** How long an event may wait for the visitor's choice before it is discarded. Default 30000. */
  consentWaitMs?: number;
  /** Hold the pixel (`ttq.holdConsent()`) until the collector decides, then grant or revoke. Default true. */
  pixelConsent?: boolean;
  /** Send the page's own `ttq.track` and `ttq.identify` calls to the collector as well. Default true. */
  mirror?: boolean;
  /** Which pixel events mirror: a list of names or a test. Default: all. */
  mirrorEvents?: readonly EventName[] | ((eventName: string) => boolean);
  /**
   * Map GA4 ecommerce events of a dataLayer to TikTok events: `true` reads `window.dataLayer`, a string
   * names another dataLayer. Default false.
   */
  dataLayer?: boolean | string;
  /** A publishable site key, sent as `site_key` (for pages whose requests carry no usable Origin). */
  siteKey?: string;
  /** `console.debug` names, ids, counts and decisions (never user data or consent strings). Default false. */
  debug?: boolean;
  /** Send the body's SHA-256 in `x-amz-content-sha256`. Default: on for an endpoint under "/_t/". */
  payloadHash?: boolean;
}

export interface TrackOptions {
  /** One id per user action, shared with the pixel: the order id for a purchase. Default: generated. */
  event_id?: string;
  /** `event_id`'s earlier spelling, still accepted. */
  eventId?: string;
  /** This event's advanced matching; wins field by field over `identify()`. */
  user?: User;
}

export type Action = "forward" | "limited" | "drop";
export type Regime = "opt_in" | "opt_out" | "notice";

/** The collector's consent decision for the request's signals and visitor. */
export interface DecisionSummary {
  action: Action;
  regime: Regime;
  reason: string;
}

/** One problem; it names a path, never the submitted value. */
export interface ErrorDetail {
  /** Dotted path, e.g. "events.0.event"; a key the sender chose shows as "<key>". */
  loc?: string;
  type?: string;
  msg: string;
}

/** An unusable event of an accepted request: skipped, the others were not. */
export interface RejectedEvent {
  /** Position in the request's events. */
  index: number;
  event_id: string | null;
  errors: ErrorDetail[];
}

/** Something left out or ignored; without `index`, about the request itself. */
export interface EventWarning {
  index?: number;
  event_id?: string | null;
  loc: string;
  msg: string;
}

/** 202: the request was judged event by event; accepted + dropped + rejected = the events sent. */
export interface CollectAccepted {
  accepted: number;
  dropped: number;
  rejected?: RejectedEvent[];
  warnings?: EventWarning[];
  decision: DecisionSummary;
  /** The signed click-id token; null unless consent allows storage. */
  token: string | null;
}

/** Every 4xx: a stable code (invalid_request, origin_not_allowed, body_too_large, ...) and its details. */
export interface CollectError {
  error: string;
  errors: ErrorDetail[];
}

/** The collector's body: `"decision" in body` tells a 202 from an error. */
export type CollectResponse = CollectAccepted | CollectError;

/** Why an event got no answer from the collector (then `status` is 0). */
export type TrackError =
  | "network_error" // fetch failed: offline, blocked, CORS
  | "sent_by_beacon" // left as the page hid: no answer is read
  | "consent_refused" // the visitor refused on this page: never sent
  | "consent_timeout" // no choice within consentWaitMs: discarded
  | "page_hidden" // the page was hidden while the visitor had not chosen
  | "queue_full" // more than 100 events waited for a choice (or for init): the oldest went
  | "unserializable" // the properties cannot be turned into JSON
  | "payload_hash_unavailable" // payloadHash is on but crypto.subtle is missing
  | "no_browser"; // the ES module build outside a browser (server-side rendering): nothing runs

/** What `track()` resolves with; it never rejects. */
export interface TrackResult {
  /** The collector's HTTP status (202 when judged), or 0 when there was no answer (see `error`). */
  status: number;
  /** The collector's answer for the whole request the event went in; null if it was not JSON. */
  body?: CollectResponse | null;
  error?: TrackError;
}

/** `window.ttrelay`, and the ES module build's default export. */
export interface TTRelay {
  readonly version: string;
  /** Configures the snippet (a later call reconfigures it); returns the API. Until then events wait. */
  init(options?: InitOptions): TTRelay;
  /** Sends one event to the pixel (`ttq.track`) and to the collector with one event_id. */
  track(eventName: EventName, properties?: EventProperties, options?: TrackOptions): Promise<TrackResult>;
  /** Advanced matching for the page's later events, kept in memory only (also `ttq.identify`); null forgets. */
  identify(user: User | null): void;
  /** The page's consent changed: waiting events leave (or are discarded on a refusal), a probe follows. */
  consentChanged(): void;
  /** Sends what is queued now instead of after the batching delay. */
  flush(): Promise<void>;
}

declare const ttrelay: TTRelay;
export default ttrelay;

export declare const version: TTRelay["version"];
export declare const init: TTRelay["init"];
export declare const track: TTRelay["track"];
export declare const identify: TTRelay["identify"];
export declare const consentChanged: TTRelay["consentChanged"];
export declare const flush: TTRelay["flush"];

declare global {
  interface Window {
    /** Set by ttrelay.js; absent until it has loaded, or when a blocker stopped it. */
    ttrelay?: TTRelay;
    /** Consent signals a tag manager keeps up to date; passed on as they are. */
    ttrelayConsent?: ConsentSignals;
  }
}
