// tcf.html's CMP: a minimal IAB TCF v2.2 CMP. @iabtcf/cmpapi serves __tcfapi; @iabtcf/core encodes the
// TC string. For the demo and the tests only: the CMP id is not registered with IAB Europe, the vendor
// list is a hand-written test list, and the banner leaves out the texts the TCF policy requires.
import { CmpApi } from "@iabtcf/cmpapi";
import { GVL, TCModel, TCString } from "@iabtcf/core";

const CMP_ID = 4095; // a test id (0 and 1 are invalid); no registered CMP has it
const CMP_VERSION = 1;
// What "Accept all" consents to: the purposes the relay requires (reference/consent.md §1.8), which are
// also every purpose the test vendors declare.
const PURPOSES = [1, 3, 4, 7];
const COOKIE = "euconsent-v2"; // where most CMPs keep the TC string; the collector reads it as a fallback
const COOKIE_MAX_AGE = 390 * 86400; // the relay treats an older string as stale (consent.md §8)

// The site's own static test list (vendor-list.json there): nothing is fetched from IAB's servers.
GVL.baseUrl = "/demo/vendor/test-gvl/";
const gvl = new GVL();

// Takes over the stub's queue (see tcf.html): calls made before this module loaded, such as the snippet's
// addEventListener, get their answers from the first update() below. Service-specific, as TCF 2.2 requires.
const cmpApi = new CmpApi(CMP_ID, CMP_VERSION, true);
const banner = document.getElementById("tcf-banner");

function storedString() {
  const match = document.cookie.match(new RegExp("(?:^|;\\s*)" + COOKIE + "=([^;]*)"));
  return match ? match[1] : null;
}

function showStatus() {
  window.__tcfapi("getTCData", 2, (data) => {
    document.getElementById("tcf-status").textContent = data.eventStatus;
  });
}

function showBanner() {
  banner.hidden = false;
  // eventStatus "cmpuishown": a first visit has no TC string yet (""); a revisit keeps its last one.
  cmpApi.update(storedString() || "", true);
  showStatus();
}

async function choose(accept) {
  await gvl.readyPromise;
  const model = new TCModel(gvl); // takes the list's version and policy version (4: TCF 2.2)
  model.cmpId = CMP_ID;
  model.cmpVersion = CMP_VERSION;
  model.isServiceSpecific = true;
  if (accept) {
    model.purposeConsents.set(PURPOSES);
    model.vendorConsents.set(Object.keys(gvl.vendors).map(Number));
  }
  const tcString = TCString.encode(model);
  document.cookie = `${COOKIE}=${tcString}; path=/; max-age=${COOKIE_MAX_AGE}; SameSite=Lax`;
  banner.hidden = true;
  cmpApi.update(tcString, false); // listeners get eventStatus "useractioncomplete"
  showStatus();
}

document.getElementById("tcf-accept").addEventListener("click", () => choose(true));
document.getElementById("tcf-reject").addEventListener("click", () => choose(false));
document.getElementById("tcf-settings").addEventListener("click", showBanner);

const stored = storedString();
if (stored) {
  cmpApi.update(stored, false); // eventStatus "tcloaded": the visitor answered on an earlier visit
  showStatus();
} else {
  showBanner();
}
