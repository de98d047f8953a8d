// How a bundled site (Vite, webpack, Next.js) uses the package, type-checked by `tsc -p web/sdk` in
// make test. The @ts-expect-error lines are mistakes the declarations must refuse: tsc fails if one
// of them is accepted.
import ttrelay, { consentChanged, flush, identify, init, track, version } from "ttrelay-sdk";
import type { CollectResponse, ConsentAnswer, InitOptions, TrackResult } from "ttrelay-sdk";

declare const cmp: { answered(): boolean; allows(category: string): boolean };

const options: InitOptions = {
  endpoint: "/_t/events",
  pixelCode: "CXXXXXXXXXXXXXXXXXXX",
  dataLayer: true,
  mirrorEvents: ["Purchase", "AddToCart", "MyCustomEvent"],
  consent: (): ConsentAnswer =>
    cmp.answered() ? { cmp: { marketing: cmp.allows("marketing") }, gcm: { ad_storage: "granted" } } : "pending",
};
const api = init(options);
init({ mirror: false, pixelConsent: false, dataLayer: "shopLayer", siteKey: "pk_live_1", consentWaitMs: 10_000 });
init({ mirrorEvents: (eventName) => eventName !== "ViewContent", consent: async () => undefined });

identify({ email: "jane@example.com", phone_number: ["+33612345678"], external_id: "customer-7" });
identify(null);
consentChanged();

export async function purchase(orderId: string): Promise<string> {
  const answer: TrackResult = await track(
    "Purchase",
    {
      value: 42.5,
      currency: "EUR",
      content_type: "product",
      contents: [{ content_id: "sku-1", content_name: "T-shirt", price: 42.5, quantity: 1 }],
      coupon: "SPRING",
    },
    { event_id: orderId, user: { email: "jane@example.com" } },
  );
  await flush();
  return describe(answer);
}

function describe(answer: TrackResult): string {
  if (answer.error) return `not sent: ${answer.error}`; // e.g. "consent_timeout", "no_browser"
  const body: CollectResponse | null | undefined = answer.body;
  if (!body) return `HTTP ${answer.status}`;
  if ("decision" in body) {
    const rejected = (body.rejected ?? []).map((item) => item.event_id ?? `#${item.index}`);
    return `${body.accepted} accepted, ${body.dropped} dropped (${body.decision.action}/${body.decision.reason}), rejected: ${rejected.join(",")}`;
  }
  return `${body.error}: ${body.errors.map((error) => `${error.loc ?? ""} ${error.msg}`).join("; ")}`;
}

// The same API as a global, when ttrelay.js came by a <script> tag (absent if a blocker stopped it).
window.ttrelay?.track("ViewContent", { content_id: ["sku-1"], content_type: "product" });
window.ttrelayConsent = { cmp: { marketing: true } };
const sameInstance: boolean = api === ttrelay && ttrelay.version === version;
export { sameInstance };

// @ts-expect-error an event name is a string
void track(42);
// @ts-expect-error pixelConsent is a boolean
init({ pixelConsent: "yes" });
// @ts-expect-error Consent Mode values are "granted" or "denied"
init({ consent: () => ({ gcm: { ad_storage: "allowed" } }) });
// @ts-expect-error cmp categories are booleans
init({ consent: () => ({ cmp: { marketing: "yes" } }) });
// @ts-expect-error identify takes no array
identify([{ email: "jane@example.com" }]);
// @ts-expect-error a misspelt option is refused
init({ endPoint: "/events" });
// @ts-expect-error a content needs its content_id
void track("AddToCart", { contents: [{ price: 1 }] });
// @ts-expect-error the window's ttrelay may be missing
window.ttrelay.flush();
