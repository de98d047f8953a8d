// The demo shop's own code: a fake CMP, two buttons, and the collector's answer on the page.
(function () {
  "use strict";
  const PRODUCT = { content_id: "tshirt-001", content_name: "Demo T-shirt", price: 25.0, quantity: 1 };
  let marketing = null; // what the visitor chose in the banner; null = not asked yet

  window.ttrelay.init({
    endpoint: "/events",
    pixelCode: "CTTRELAYLOCALDEV0001",
    // A real site maps its CMP's marketing category here (and Consent Mode state, if it has it).
    consent: () => (marketing === null ? {} : { cmp: { marketing: marketing } }),
    debug: true,
  });

  const $ = (id) => document.getElementById(id);

  function showResponse(body) {
    $("response").textContent = body === null ? "(no response: sent as a beacon or the network failed)"
      : JSON.stringify(body, null, 2);
    $("ttq-calls").textContent = JSON.stringify(window.__ttqCalls, null, 2);
  }

  function choose(value) {
    marketing = value;
    $("consent-state").textContent = value ? "marketing accepted" : "marketing rejected";
  }

  $("accept").addEventListener("click", () => choose(true));
  $("reject").addEventListener("click", () => choose(false));

  $("view").addEventListener("click", () => {
    window.ttrelay.track("ViewContent", {
      content_type: "product", contents: [PRODUCT], value: PRODUCT.price, currency: "EUR",
    }).then(showResponse);
  });

  $("buy").addEventListener("click", () => {
    // The order id is the event_id: the pixel and the server report the same purchase under one id.
    const orderId = "order-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
    const email = $("email").value.trim();
    window.ttrelay.track("Purchase", {
      content_type: "product", contents: [PRODUCT], value: PRODUCT.price, currency: "EUR", order_id: orderId,
    }, { eventId: orderId, user: email ? { email: email } : undefined }).then(showResponse);
  });
})();
