// The shop half of the CMP demo pages (cookieconsent.html, tcf.html): ttrelay set up as a site would,
// one button that tracks ViewContent, and the collector's answer on the page. How consent reaches the
// snippet is each page's own business (cmp-cookieconsent.js, cmp-tcf.js).
window.startDemoShop = function (consent) {
  "use strict";
  window.ttrelay.init({
    endpoint: "/events", pixelCode: "CTTRELAYLOCALDEV0001", consent: consent, debug: true,
  });

  const response = document.getElementById("response");
  document.getElementById("view").addEventListener("click", () => {
    // While the visitor has not answered the banner, the snippet holds the event: the answer comes later.
    response.textContent = "(waiting for the collector's answer)";
    window.ttrelay.track("ViewContent", { content_type: "product", contents: [{ content_id: "tshirt-001" }] })
      // {status, body} from the collector, or {status: 0, error} when the event stayed in the page
      .then((answer) => { response.textContent = JSON.stringify(answer, null, 2); });
  });
};
