// gtm-shop.html's own code: what a GTM + GA4 shop runs, and nothing else. A cookie
// banner (vanilla-cookieconsent) sends Google Consent Mode updates; the shop pushes GA4 ecommerce events.
(function (CookieConsent) {
  "use strict";
  const SHIRT = {
    item_id: "SKU-LINEN-01", item_name: "Linen shirt", item_brand: "Demo Apparel", item_category: "Shirts",
    price: 25.0,
  };
  const CURRENCY = "EUR";
  let quantity = 0; // shirts in the cart

  const $ = (id) => document.getElementById(id);

  function showDataLayer() {
    // gtag pushes its `arguments` object: shown as the array it stands for.
    const isArguments = (entry) => Object.prototype.toString.call(entry) === "[object Arguments]";
    const entries = window.dataLayer.map((entry) => (isArguments(entry) ? Array.from(entry) : entry));
    $("datalayer").textContent = JSON.stringify(entries, null, 2);
  }

  // GTM's recommended pattern: clear the previous ecommerce object, so none of its keys leak into this one.
  function pushEcommerce(event, ecommerce) {
    window.dataLayer.push({ ecommerce: null });
    window.dataLayer.push({ event: event, ecommerce: ecommerce });
    showDataLayer();
  }

  function items(count) {
    return [Object.assign({}, SHIRT, { quantity: count })];
  }

  // ---- the banner: each choice (and each page load that finds a stored one) becomes a Consent Mode update ----
  function updateConsentMode() {
    const state = (category) => (CookieConsent.acceptedCategory(category) ? "granted" : "denied");
    window.gtag("consent", "update", {
      ad_storage: state("marketing"), ad_user_data: state("marketing"), ad_personalization: state("marketing"),
      analytics_storage: state("analytics"),
    });
    $("consent-state").textContent = "update: marketing " + state("marketing") + ", analytics " + state("analytics");
    showDataLayer();
  }

  CookieConsent.run({
    // The collector also reads this cookie's "marketing" category (docs/consent.md, CMP cookies).
    cookie: { name: "cc_cookie" },
    hideFromBots: false, // the banner otherwise hides from automated browsers, the tests' included
    categories: { necessary: { enabled: true, readOnly: true }, analytics: {}, marketing: {} },
    onConsent: updateConsentMode,
    onChange: updateConsentMode,
    language: {
      default: "en",
      translations: {
        en: {
          consentModal: {
            title: "Cookies on the demo shop",
            description: "With your consent we measure visits (analytics) and report purchases to TikTok (marketing).",
            acceptAllBtn: "Accept all",
            acceptNecessaryBtn: "Reject all",
            showPreferencesBtn: "Choose",
          },
          preferencesModal: {
            title: "Cookie preferences",
            acceptAllBtn: "Accept all",
            acceptNecessaryBtn: "Reject all",
            savePreferencesBtn: "Save my choice",
            sections: [
              { title: "Necessary", description: "What the shop needs to work.", linkedCategory: "necessary" },
              { title: "Analytics", description: "Google Analytics.", linkedCategory: "analytics" },
              { title: "Marketing", description: "TikTok (pixel and Events API).", linkedCategory: "marketing" },
            ],
          },
        },
      },
    },
  });

  // ---- the shop: GA4's recommended ecommerce events ----
  // A product page reports its view on load, before the visitor has answered the banner.
  pushEcommerce("view_item", { currency: CURRENCY, value: SHIRT.price, items: items(1) });

  $("add-to-cart").addEventListener("click", () => {
    quantity += 1;
    $("cart").textContent = quantity + " × " + SHIRT.item_name;
    pushEcommerce("add_to_cart", { currency: CURRENCY, value: SHIRT.price, items: items(1) });
  });

  $("buy").addEventListener("click", () => {
    const bought = Math.max(quantity, 1);
    const transactionId = "T-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
    // The purchase through gtag.js, as a site with the GA4 tag sends it.
    window.gtag("event", "purchase", {
      transaction_id: transactionId, currency: CURRENCY, value: SHIRT.price * bought, items: items(bought),
    });
    quantity = 0;
    $("cart").textContent = "nothing (order " + transactionId + " placed)";
    showDataLayer();
  });

  $("preferences").addEventListener("click", () => CookieConsent.showPreferences());
  showDataLayer();
})(window.CookieConsent);
