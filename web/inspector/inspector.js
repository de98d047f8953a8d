// The local stack's live inspector: polls /_local/inspector/feed every second and draws each collect
// request. Every value is put in the page as text (never as HTML): origins, event names and error
// messages come from whoever called the collector.
(function () {
  "use strict";

  var FEED = "/_local/inspector/feed";
  var POLL_MS = 1000;
  var SOURCE_NAMES = { request: "request body / header", cookies: "CMP cookies" };
  var lastDrawn = "";

  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function pill(text, kind) {
    return el("span", "pill " + kind, [text]);
  }

  function clock(seconds) {
    var date = new Date(seconds * 1000);
    return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
  }

  function fact(label, value) {
    return el("div", "fact", [el("span", "label", [label]), el("span", "value", [value])]);
  }

  function sender(request) {
    var who = request.sender;
    if (who.kind === "browser") return "browser, origin " + who.origin;
    if (who.kind === "backend") return "backend, with an API key";
    return "no Origin and no API key";
  }

  function signals(receipt) {
    var parts = [];
    Object.keys(SOURCE_NAMES).forEach(function (source) {
      var names = (receipt.signal_sources || {})[source] || [];
      if (names.length) parts.push(names.join(", ") + " (" + SOURCE_NAMES[source] + ")");
    });
    return parts.length ? parts.join("; ") : "none: no consent signal reached the collector";
  }

  function decisionBlock(request) {
    var decision = request.decision;
    var receipt = decision.receipt;
    var block = el("div", "decision", [
      el("p", "headline", [
        el("strong", null, ["Consent: " + decision.action]),
        " · regime " + decision.regime + " · reason ",
        el("code", null, [decision.reason]),
      ]),
      el("p", "explanation", [decision.explanation]),
    ]);
    if (!receipt) {
      block.appendChild(el("p", "muted", ["(the consent receipt has not arrived from the collector's log yet)"]));
      return block;
    }
    block.appendChild(el("div", "facts", [
      fact("Signals", signals(receipt)),
      fact("Location", receipt.location.explanation),
      receipt.regimes_considered && receipt.regimes_considered.length > 1
        ? fact("Regimes weighed", receipt.regimes_considered.join(", ") + " (the stricter one applied)")
        : null,
      fact("Policy", receipt.policy_version || "?"),
    ]));
    return block;
  }

  function errorBlock(request) {
    var error = request.error;
    var list = el("ul", "errors", (error.errors || []).map(function (item) {
      return el("li", null, [item.loc ? el("code", null, [item.loc]) : null, item.loc ? ": " : "", item.msg || ""]);
    }));
    return el("div", "decision refused", [
      el("p", "headline", [el("strong", null, ["Refused: "]), el("code", null, [String(error.code)])]),
      el("p", "explanation", [error.explanation]),
      list,
    ]);
  }

  function attemptCell(event) {
    var attempts = event.attempts || [];
    if (!attempts.length && !event.parked) return el("span", "muted", ["—"]);
    var lines = attempts.map(function (attempt) {
      var code = attempt.code === null || attempt.code === undefined ? "" : " · code " + attempt.code;
      return el("div", "attempt", [
        pill("HTTP " + attempt.http_status + code, attempt.accepted ? "ok" : "bad"),
        " " + (attempt.message || ""),
        attempt.limited_data_use ? el("span", "muted", [" · limited_data_use"]) : null,
        attempt.request_id ? el("div", "muted small", ["request_id " + attempt.request_id]) : null,
      ]);
    });
    if (event.attempts_total > attempts.length) {
      // Only the last few attempts are kept per event: say so, rather than let them pass for all of them.
      lines.unshift(el("div", "muted small attempts-shown", ["last " + attempts.length + " of " + event.attempts_total + " attempts"]));
    }
    if (event.parked) {
      lines.push(el("div", "attempt", [pill("in the DLQ", "bad"), " reason ", el("code", null, [event.parked.reason])]));
    }
    return el("div", null, lines);
  }

  function matchKeys(event) {
    var attempts = event.attempts || [];
    if (!attempts.length) return el("span", "muted", ["—"]);
    var keys = attempts[attempts.length - 1].match_keys || {};
    var names = Object.keys(keys);
    if (!names.length) return el("span", "muted", ["none"]);
    return el("div", "keys", names.map(function (name) {
      return el("span", "key", [el("b", null, [name]), " " + keys[name]]);
    }));
  }

  function details(event) {
    var lines = [el("div", null, [event.explanation])];
    (event.errors || []).forEach(function (item) {
      lines.push(el("div", "problem", [el("code", null, [item.loc || "?"]), ": " + (item.msg || "")]));
    });
    (event.warnings || []).forEach(function (item) {
      lines.push(el("div", "warning", ["warning ", el("code", null, [item.loc || "?"]), ": " + (item.msg || "")]));
    });
    return el("div", null, lines);
  }

  function eventsTable(request) {
    var rows = request.events.map(function (event) {
      var row = el("tr", "event", [
        el("td", null, [event.event || el("span", "muted", ["(none)"])]),
        el("td", "event-id", [event.event_id ? el("code", null, [event.event_id]) : el("span", "muted", ["(none)"])]),
        el("td", "source source-" + event.source, [event.source_label]),
        el("td", null, [pill(event.status, "status-" + event.status), details(event)]),
        el("td", null, [attemptCell(event)]),
        el("td", null, [matchKeys(event)]),
      ]);
      row.dataset.eventId = event.event_id || "";
      row.dataset.status = event.status;
      row.dataset.source = event.source;
      return row;
    });
    return el("table", "events", [
      el("thead", null, [el("tr", null, ["Event", "event_id", "Source", "What happened", "Events API answer", "Match keys sent"]
        .map(function (title) { return el("th", null, [title]); }))]),
      el("tbody", null, rows),
    ]);
  }

  function counts(request) {
    var c = request.counts;
    if (!c) return null;
    var parts = [c.accepted + " accepted", c.dropped + " dropped by consent", c.rejected + " rejected"];
    if (c.warnings) parts.push(c.warnings + (c.warnings === 1 ? " warning" : " warnings"));
    return el("p", "counts", [parts.join(" · ")]);
  }

  function requestWarnings(request) {
    // Warnings about the request as a whole (no event index): an unknown field, the request's `user`.
    var items = request.warnings || [];
    if (!items.length) return null;
    return el("div", "request-warnings", items.map(function (item) {
      return el("div", "warning", ["warning ", el("code", null, [item.loc || "?"]), ": " + (item.msg || "")]);
    }));
  }

  function card(request) {
    var node = el("article", "request outcome-" + request.outcome, [
      el("div", "summary", [
        el("span", "seq", ["#" + request.seq]),
        el("span", "time", [clock(request.received_at)]),
        el("span", null, ["POST " + request.path]),
        el("span", "muted", [sender(request)]),
        el("span", "spacer"),
        request.token_issued ? el("span", "muted small", ["click-id cookie set"]) : null,
        pill("HTTP " + request.status, request.status < 300 ? "ok" : "bad"),
        pill(request.outcome, "outcome " + request.outcome),
      ]),
      request.decision ? decisionBlock(request) : errorBlock(request),
      counts(request),
      requestWarnings(request),
      request.events.length ? eventsTable(request) : null,
    ]);
    node.dataset.seq = request.seq;
    node.dataset.outcome = request.outcome;
    return node;
  }

  function emptyState() {
    var origin = location.origin;
    return el("section", "empty", [
      el("h2", null, ["No collect requests yet"]),
      el("p", null, [
        "Open the ", el("a", null, ["demo shop"]), ", accept or reject the cookie banner and click Buy; or load ttrelay.js on ",
        "your own page (its origin must be in AllowedOrigins). Each request shows up here within a second.",
      ]),
      el("p", null, ["Or send one yourself:"]),
      el("pre", null, [
        "curl -X POST " + origin + "/events -H 'Origin: " + origin + "' -H 'Content-Type: application/json' \\\n" +
        "  -d '{\"consent\": {\"cmp\": {\"marketing\": true}}, \"events\": [{\"event\": \"Purchase\", \"event_id\": \"order-1\"}]}'",
      ]),
    ]);
  }

  function queueLine(feed) {
    var q = feed.queue;
    var text = "Live · events queue: " + q.visible + " waiting, " + q.in_flight + " being delivered · dead-letter queue: " + q.dlq;
    if (!feed.delivery_followed) text += " · forwarding to the real TikTok endpoint: deliveries are not shown";
    return text;
  }

  function draw(feed) {
    var drawn = JSON.stringify([feed.requests, feed.queue]);
    document.getElementById("status").textContent = queueLine(feed);
    document.getElementById("status").className = "status live";
    if (drawn === lastDrawn) return;
    lastDrawn = drawn;
    document.getElementById("kept").textContent = String(feed.kept);
    var list = document.getElementById("requests");
    var nodes = feed.requests.length ? feed.requests.map(card) : [emptyState()];
    list.replaceChildren.apply(list, nodes);
    var demoLink = list.querySelector(".empty a");
    if (demoLink) demoLink.href = "/demo/";
  }

  function poll() {
    fetch(FEED, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(draw)
      .catch(function (error) {
        var status = document.getElementById("status");
        status.textContent = "The local stack does not answer (" + error.message + "): is `make dev` running?";
        status.className = "status down";
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  poll();
})();
