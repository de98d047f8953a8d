// The demo shop's own code: a fake CMP, two buttons, and what each channel did, on the page.
(function () {
  "use strict";
  const PRODUCT = { content_id: "tshirt-001", content_name: "Demo T-shirt", price: 25.0, quantity: 1 };
  let marketing = null; // what the visitor chose in the banner; null = not chosen yet

  window.ttrelay.init({
    endpoint: "/events",
    pixelCode: "CTTRELAYLOCALDEV0001",
    // A real site maps its CMP's marketing category here (and Consent Mode state, if it has it).
    // undefined means "not chosen yet": ttrelay holds events until the banner is answered.
    consent: () => (marketing === null ? undefined : { cmp: { marketing: marketing } }),
    pixelConsent: true, // one decision for both channels: the pixel is held until the collector decides
    debug: true,
  });

  const $ = (id) => document.getElementById(id);
  const serverLines = new Map(); // event_id -> <li> in the server channel's list

  // ---- the pixel channel, as the stub in index.html saw it ----
  const PIXEL_STATES = {
    none: "no consent call yet: sends every event",
    held: "held: waiting for the collector's decision",
    granted: "granted by ttrelay (the collector forwards this visitor's events)",
    revoked: "revoked by ttrelay (refused, dropped or limited: the pixel has no limited mode)",
  };

  function showPixel() {
    const pixel = window.__pixel;
    const sent = window.__pixelSent.map((call) => call[0]);
    $("pixel-channel").textContent = PIXEL_STATES[pixel.consent] +
      ". Sent to TikTok: " + (sent.length ? sent.join(", ") : "nothing") +
      (pixel.waiting.length ? "; kept back: " + pixel.waiting.length : "") +
      (pixel.discarded ? "; discarded: " + pixel.discarded : "") + ".";
    $("ttq-calls").textContent = JSON.stringify(window.__ttqCalls, null, 2);
  }
  window.addEventListener("ttq-stub-change", showPixel);

  // ---- the server channel: what happened to each event, from track()'s answer ----
  const NOT_SENT = {
    consent_refused: "not sent: you refused marketing on this page (final until you reload)",
    consent_timeout: "not sent: no consent choice in time",
    page_hidden: "not sent: the page was hidden before you chose",
    queue_full: "not sent: too many events waiting for your choice",
    network_error: "not sent: network error",
    sent_by_beacon: "sent as the page closed (no answer to show)",
  };

  function serverOutcome(eventId, answer) {
    if (answer.error) return NOT_SENT[answer.error] || "not sent (" + answer.error + ")";
    const body = answer.body || {};
    if (!body.decision) return "not accepted by the collector: HTTP " + answer.status + " " + (body.error || "");
    const rejected = (body.rejected || []).find((item) => item.event_id === eventId);
    if (rejected) return "rejected by the collector: " + rejected.errors.map((error) => error.loc).join(", ");
    const decision = body.decision;
    // A 202 means queued: delivery happens later, in the forwarder (the inspector follows it).
    if (decision.action === "forward") return "accepted, queued for TikTok";
    if (decision.action === "limited") return "accepted, queued for TikTok with limited data use (" + decision.reason + ")";
    return "dropped by the collector (" + decision.regime + ": " + decision.reason + ")";
  }

  function showServer(name, eventId, text) {
    if (!serverLines.size) $("server-channel").textContent = "";
    let line = serverLines.get(eventId);
    if (!line) {
      line = document.createElement("li");
      serverLines.set(eventId, line);
      $("server-channel").appendChild(line);
    }
    line.textContent = name + ": " + text;
  }

  function track(name, properties, options) {
    showServer(name, options.event_id, "waiting for the collector (or for your consent choice)");
    window.ttrelay.track(name, properties, options).then((answer) => {
      showServer(name, options.event_id, serverOutcome(options.event_id, answer));
      $("response").textContent = JSON.stringify(answer, null, 2);
      showPixel();
    });
    showPixel();
  }

  function newId(prefix) {
    return prefix + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  }

  // ---- the fake CMP: a real one would call ttrelay.consentChanged() from its own change event ----
  function choose(value) {
    marketing = value;
    $("consent-state").textContent = value ? "marketing accepted" : "marketing rejected";
    window.ttrelay.consentChanged(); // waiting events leave now (or are discarded, on a refusal)
    showPixel();
  }

  $("accept").addEventListener("click", () => choose(true));
  $("reject").addEventListener("click", () => choose(false));

  $("view").addEventListener("click", () => {
    track("ViewContent", {
      content_type: "product", contents: [PRODUCT], value: PRODUCT.price, currency: "EUR",
    }, { event_id: newId("view") });
  });

  $("buy").addEventListener("click", () => {
    // The order id is the event_id: the pixel and the server report the same purchase under one id.
    const orderId = newId("order");
    const email = $("email").value.trim();
    track("Purchase", {
      content_type: "product", contents: [PRODUCT], value: PRODUCT.price, currency: "EUR", order_id: orderId,
    }, { event_id: orderId, user: email ? { email: email } : undefined });
  });

  showPixel();
})();
