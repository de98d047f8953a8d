// A stand-in for the TikTok pixel's library (analytics.tiktok.com/i18n/pixel/events.js), which the
// browser tests serve in its place: the real one needs the internet. Its internals are not public
// (reference/tiktok-events-api.md §7b), so this does only what a page can observe of it:
// - it replays what the base code queued, in order: the main queue's [method, ...args] entries, then
//   each pixel's queue ttq._i[code], and empties them;
// - it replaces the stub methods with working ones by plain assignment (ttq.track = function ...), on
//   ttq and on every ttq._i[code], so a script that wrapped a stub method loses its wrapper, as it would;
// - cookie consent mode: holdConsent() buffers every send, grantConsent() sends the buffer and then
//   sends directly, revokeConsent() drops the buffer and every later send until a grant;
// - what the real pixel would have sent to TikTok goes to window.__pixelSent as
//   {pixel, event, event_id, properties, user} (Pageview for page(); event_id null when none was given),
//   and every call it received, replayed ones included, to window.__pixelCalls as {pixel, method, args}
//   (pixel null for calls on ttq itself, which concern every loaded pixel).
(function (window) {
  "use strict";
  const ttq = window[window.TiktokAnalyticsObject || "ttq"];
  // One copy runs per ttq.load(code) made before it arrived; the first one serves every loaded pixel.
  if (!ttq || window.__pixelArrived) return;
  const sent = (window.__pixelSent = window.__pixelSent || []);
  const calls = (window.__pixelCalls = window.__pixelCalls || []);
  const state = { consent: "open", buffer: [], users: {} };

  function copy(value) {
    // What was sent is fixed at the call, whatever the page does to its objects afterwards.
    if (typeof value === "function") return "[function]";
    try { return value === undefined ? null : JSON.parse(JSON.stringify(value)); } catch (e) { return "[unserializable]"; }
  }

  function loadedPixels() {
    return Object.keys(ttq._i || {});
  }

  function send(record) {
    if (state.consent === "held") state.buffer.push(record);
    else if (state.consent !== "revoked") sent.push(record);
  }

  function event(pixel, name, properties, options) {
    send({
      pixel: pixel, event: name, event_id: (options && options.event_id) || null,
      properties: copy(properties || {}), user: state.users[pixel] || null,
    });
  }

  // The methods of one scope: ttq itself (pixel null: every loaded pixel) or one pixel's instance.
  function methodsFor(pixel) {
    const targets = () => (pixel === null ? loadedPixels() : [pixel]);
    return {
      track: (name, properties, options) => targets().forEach((code) => event(code, name, properties, options)),
      page: () => targets().forEach((code) => event(code, "Pageview", {}, null)),
      identify: (user) => targets().forEach((code) => { state.users[code] = copy(user); }),
      holdConsent: () => { state.consent = "held"; },
      grantConsent: () => {
        state.consent = "granted";
        state.buffer.splice(0).forEach((record) => sent.push(record));
      },
      revokeConsent: () => {
        state.consent = "revoked";
        state.buffer.length = 0;
      },
      ready: (callback) => { if (typeof callback === "function") setTimeout(callback, 0); },
    };
  }

  function install(target, pixel) {
    // Returns the working methods, so that the replay below calls them directly (as the library's own
    // code would), not whatever a script may have put on the target since.
    const real = methodsFor(pixel);
    const installed = {};
    for (const name of (ttq.methods || []).concat(Object.keys(real))) {
      const run = real[name] || function () {}; // debug, on, off, alias, ... change nothing that is sent
      installed[name] = function () {
        const args = Array.prototype.slice.call(arguments);
        calls.push({ pixel: pixel, method: name, args: args.map(copy) });
        return run.apply(null, args);
      };
      target[name] = installed[name];
    }
    return installed;
  }

  function replay(queue, installed) {
    for (const entry of queue.splice(0)) {
      if (Array.isArray(entry) && installed[entry[0]]) installed[entry[0]].apply(null, entry.slice(1));
    }
  }

  const main = install(ttq, null);
  const perPixel = loadedPixels().map((code) => [ttq._i[code], install(ttq._i[code], code)]);
  ttq.instance = function (code) {
    const loaded = (ttq._i || {})[code];
    if (loaded) return loaded;
    const silent = {}; // the real pixel sends nothing for a pixel it never loaded
    for (const name of ttq.methods || []) silent[name] = function () {};
    return silent;
  };
  ttq.load = function (code) {
    ttq._i = ttq._i || {};
    if (!ttq._i[code]) install((ttq._i[code] = []), code);
  };
  replay(ttq, main);
  perPixel.forEach(([queue, installed]) => replay(queue, installed));
  window.__pixelArrived = true;
})(window);
