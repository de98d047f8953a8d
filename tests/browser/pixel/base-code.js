// The TikTok pixel's base code, as TikTok's Events Manager gives it to sites to paste into <head>
// (the widely published copy described in reference/tiktok-events-api.md §7b; the seed's copy is garbled).
// Laid out readably here, with the same behaviour: `ttq` starts as an array that queues every call as
// [method, ...args], `ttq.instance(code)` is the per-pixel queue `ttq._i[code]`, and `ttq.load(code)`
// inserts the library's <script async>, which replays the queues when it arrives.
// The pixel code in ttq.load below is a placeholder: tests/browser/pixel_page.py's base_code() fills it in.
!function (w, d, t) {
  w.TiktokAnalyticsObject = t;
  var ttq = w[t] = w[t] || [];
  ttq.methods = ["page", "track", "identify", "instances", "debug", "on", "off", "once", "ready", "alias",
    "group", "enableCookie", "disableCookie", "holdConsent", "revokeConsent", "grantConsent"];
  ttq.setAndDefer = function (target, method) {
    target[method] = function () {
      target.push([method].concat(Array.prototype.slice.call(arguments, 0)));
    };
  };
  for (var i = 0; i < ttq.methods.length; i++) ttq.setAndDefer(ttq, ttq.methods[i]);
  ttq.instance = function (code) {
    var queue = ttq._i[code] || [];
    for (var n = 0; n < ttq.methods.length; n++) ttq.setAndDefer(queue, ttq.methods[n]);
    return queue;
  };
  ttq.load = function (code, options) {
    var library = "https://analytics.tiktok.com/i18n/pixel/events.js";
    ttq._i = ttq._i || {};
    ttq._i[code] = [];
    ttq._i[code]._u = library;
    ttq._t = ttq._t || {};
    ttq._t[code] = +new Date();
    ttq._o = ttq._o || {};
    ttq._o[code] = options || {};
    var script = d.createElement("script");
    script.type = "text/javascript";
    script.async = true;
    script.src = library + "?sdkid=" + code + "&lib=" + t;
    var first = d.getElementsByTagName("script")[0];
    first.parentNode.insertBefore(script, first);
  };
  ttq.load("__PIXEL__");
  ttq.page();
}(window, document, "ttq");
