// The plain pixel shop's own script: a cookie banner that sets Google Consent Mode, and the shop's
// TikTok pixel calls. Nothing here calls ttrelay: its script tag configures it.
(function () {
  "use strict";
  const CHOICE_KEY = "pixel-shop-consent"; // the banner's own record of the choice, as CMPs keep one
  const TYPES = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"];
  const PRODUCT = { content_id: "TSHIRT-1", content_name: "Demo T-shirt", price: 25, quantity: 1 };
  const log = document.getElementById("pixel-log");

  function shown(text) {
    const line = document.createElement("li");
    line.textContent = text;
    log.appendChild(line);
  }

  function choose(state, remember) {
    gtag("consent", "update", Object.fromEntries(TYPES.map((type) => [type, state])));
    if (remember) localStorage.setItem(CHOICE_KEY, state);
    document.getElementById("banner").hidden = true;
    document.getElementById("consent-state").textContent = state === "granted" ? "accepted" : "rejected";
  }

  // A returning visitor's choice is given again on every page, before any tracking, as CMPs do.
  const stored = localStorage.getItem(CHOICE_KEY);
  if (stored === "granted" || stored === "denied") choose(stored, false);

  document.getElementById("accept").addEventListener("click", () => choose("granted", true));
  document.getElementById("reject").addEventListener("click", () => choose("denied", true));
  document.getElementById("preferences").addEventListener("click", () => {
    document.getElementById("banner").hidden = false;
  });

  function cart() {
    return { contents: [PRODUCT], content_type: "product", value: 25, currency: "EUR" };
  }

  document.getElementById("view").addEventListener("click", () => {
    ttq.track("ViewContent", cart());
    shown("ttq.track('ViewContent')");
  });
  document.getElementById("add-to-cart").addEventListener("click", () => {
    ttq.track("AddToCart", cart());
    shown("ttq.track('AddToCart')");
  });
  document.getElementById("buy").addEventListener("click", () => {
    const email = document.getElementById("email").value.trim();
    if (email) {
      ttq.identify({ email: email });
      shown("ttq.identify({email})");
    }
    // The order id is the purchase's event id: the pixel and any server copy then share it.
    const order = "ORDER-" + Date.now();
    ttq.track("Purchase", Object.assign(cart(), { order_id: order }), { event_id: order });
    shown("ttq.track('Purchase', …, {event_id: '" + order + "'})");
  });
})();
