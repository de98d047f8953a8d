// cookieconsent.html's banner: vanilla-cookieconsent v3 (vendor/vanilla-cookieconsent/), driving ttrelay.
(function (CookieConsent) {
  "use strict";
  // The collector reads the same choice server-side from `cc_cookie` (reference/consent.md §6): the names
  // below must match its CmpCookieConfig (cookieconsent_cookie, cookieconsent_category).
  const COOKIE = "cc_cookie";
  const MARKETING = "marketing";

  // Until the visitor answers, "pending" makes the snippet hold events instead of sending them without a
  // signal (which an opt-in region drops); after that, the category as the banner stored it.
  function consent() {
    if (!CookieConsent.validConsent()) return "pending";
    return { cmp: { marketing: CookieConsent.acceptedCategory(MARKETING) } };
  }

  // Called on the first answer, on every later change, and on each page load that finds a stored answer:
  // the snippet then sends what it held, and later events carry the new choice.
  function choiceMade() {
    document.getElementById("consent-state").textContent =
      CookieConsent.acceptedCategory(MARKETING) ? "marketing accepted" : "marketing rejected";
    if (typeof window.ttrelay.consentChanged === "function") window.ttrelay.consentChanged();
  }

  window.startDemoShop(consent);
  CookieConsent.run({
    cookie: { name: COOKIE },
    // By default the banner hides from "bots", which includes every automated browser, so the browser
    // tests (tests/browser/test_demo_cmps.py) would never see it. A real site may keep the default.
    hideFromBots: false,
    categories: { necessary: { enabled: true, readOnly: true }, [MARKETING]: {} },
    onConsent: choiceMade,
    onChange: choiceMade,
    language: {
      default: "en",
      translations: {
        en: {
          consentModal: {
            title: "Cookies on the demo shop",
            description: "With your consent, your purchases here are reported to TikTok to measure our ads.",
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
              { title: "Marketing", description: "Report conversions to TikTok (pixel and Events API).",
                linkedCategory: MARKETING },
            ],
          },
        },
      },
    },
  });

  document.getElementById("preferences").addEventListener("click", () => CookieConsent.showPreferences());
})(window.CookieConsent);
