// Stand-ins of what Shopify gives a custom pixel, shaped like @shopify/web-pixels-extension's types:
// analytics.subscribe, browser (cookie and localStorage as promises, kept in memory: a sandboxed
// iframe has no storage of its own), init and customerPrivacy.subscribe. The test drives them through
// postMessage from the page that holds the iframe: {type: "event", event} publishes a standard event,
// {type: "consent", customerPrivacy} a visitorConsentCollected, {type: "storage"} asks for the storage.
(function () {
  const scenario = JSON.parse(document.getElementById("scenario").textContent);
  const subscribers = new Map();
  const privacySubscribers = [];
  const cookies = new Map(Object.entries(scenario.cookies));
  const storage = new Map(Object.entries(scenario.localStorage));

  const listeners = (name) => subscribers.get(name) || [];
  window.analytics = {
    subscribe(name, callback) {
      subscribers.set(name, [...listeners(name), callback]);
      return () => true;
    },
  };
  window.browser = {
    cookie: {
      async get(name) {
        return cookies.get(name) || "";
      },
      async set(cookieOrName, value) {
        cookies.set(cookieOrName, value || "");
        return cookieOrName;
      },
    },
    localStorage: {
      async getItem(key) {
        return storage.has(key) ? storage.get(key) : null;
      },
      async setItem(key, value) {
        storage.set(key, String(value));
      },
      async removeItem(key) {
        storage.delete(key);
      },
      async clear() {
        storage.clear();
      },
      async key(index) {
        return [...storage.keys()][index] || null;
      },
      async length() {
        return storage.size;
      },
    },
    async sendBeacon() {
      return false;
    },
  };
  window.init = scenario.init;
  window.customerPrivacy = {
    subscribe(name, callback) {
      if (name === "visitorConsentCollected") privacySubscribers.push(callback);
      return () => true;
    },
  };

  window.addEventListener("message", (message) => {
    const command = message.data;
    if (command.type === "event") {
      for (const callback of [...listeners(command.event.name), ...listeners("all_standard_events")]) {
        callback(command.event);
      }
    } else if (command.type === "consent") {
      for (const callback of privacySubscribers) callback({ customerPrivacy: command.customerPrivacy });
    } else if (command.type === "storage") {
      parent.postMessage({ type: "storage", localStorage: Object.fromEntries(storage) }, "*");
    }
  });
  addEventListener("load", () => parent.postMessage({ type: "ready", origin: self.origin }, "*"));
})();
