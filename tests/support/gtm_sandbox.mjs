// A stand-in of Google Tag Manager's sandbox for a web tag template (.tpl), for tests that cannot
// reach GTM. Node only, no packages.
//
//   node gtm_sandbox.mjs TEMPLATE.tpl < scenario.json   runs the template's code through a scenario
//   node gtm_sandbox.mjs TEMPLATE.tpl --audit           the APIs the code requires and what is declared
//
// The code runs in a `vm` context as the body of a function of `require` and `data`, with the
// browser's and JavaScript's globals shadowed. Each API follows the semantics documented on
// developers.google.com/tag-platform/tag-manager/templates/api, and is checked, as GTM does,
// against the template's ___WEB_PERMISSIONS___: a use the permissions do not declare throws.
//
// A scenario (JSON on stdin):
//   data         the tag's field values
//   environment  "live" (default) or "debug" (GTM's preview): which logging permission applies
//   scripts      {url: {"ttrelay_version": "0.3.0" | null}}: URLs that load, and the ttrelay they
//                define (null: loads but defines nothing); any other URL fails to load
//   data_model   GTM's data layer model (what copyFromDataLayer reads)
//   consent      GTM's consent state {type: "granted" | "denied"}; a type left out has no state
//   steps        [{"fire": true} | {"consent": {...}} | {"push": {...}}], default one firing
// The answer (JSON on stdout): firings [{outcome, calls, errors}], window_calls [[path, ...args]],
// missing_calls, requests, logs, used (permission items exercised), denied (uses refused).
import { readFileSync } from "node:fs";
import vm from "node:vm";

const SECTION = /^___([A-Z_]+)___$/;

export function sections(text) {
  const found = {};
  let name = null;
  for (const line of text.split("\n")) {
    const match = SECTION.exec(line.trim());
    if (match) {
      name = match[1];
      found[name] = [];
    } else if (name) {
      found[name].push(line);
    }
  }
  return Object.fromEntries(Object.entries(found).map(([key, lines]) => [key, lines.join("\n").trim()]));
}

// ---- the permissions, as items a use can match ----

function paramValue(value) {
  if (value.type === 1) return value.string;
  if (value.type === 8) return value.boolean;
  if (value.type === 2) return value.listItem.map(paramValue);
  if (value.type === 3) {
    return Object.fromEntries(value.mapKey.map((key, i) => [paramValue(key), paramValue(value.mapValue[i])]));
  }
  throw new Error(`permission value of unknown type ${value.type}`);
}

export function declaredItems(permissions) {
  const items = [];
  for (const entry of permissions) {
    const id = entry.instance.key.publicId;
    const params = Object.fromEntries(entry.instance.param.map((p) => [p.key, paramValue(p.value)]));
    if (id === "logging") items.push({ id, item: "logging", environments: params.environments });
    else if (id === "inject_script") for (const url of params.urls) items.push({ id, item: `inject_script:${url}`, pattern: url });
    else if (id === "access_globals") {
      for (const key of params.keys) {
        for (const access of ["read", "write", "execute"]) {
          if (key[access]) items.push({ id, item: `access_globals:${key.key}:${access}`, key: key.key, access });
        }
      }
    } else if (id === "read_data_layer") {
      if (params.allowedKeys === "any") items.push({ id, item: "read_data_layer:*", pattern: "*" });
      else for (const pattern of params.keyPatterns) items.push({ id, item: `read_data_layer:${pattern}`, pattern });
    } else if (id === "access_consent") {
      for (const type of params.consentTypes) {
        for (const access of ["read", "write"]) {
          if (type[access]) items.push({ id, item: `access_consent:${type.consentType}:${access}`, type: type.consentType, access });
        }
      }
    } else if (id === "access_template_storage") items.push({ id, item: "access_template_storage" });
    else throw new Error(`permission ${id} is not modelled by this stand-in`);
  }
  return items;
}

// GTM's URL match patterns: scheme and host exact, a host may start with "*." for subdomains, "*" in
// the path matches any characters, a path ending in "/" matches everything below it. The URL's query
// and fragment are not compared.
export function urlMatches(pattern, url) {
  const p = /^(https?):\/\/([^/]+)(\/.*)$/.exec(pattern);
  const u = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?/.exec(url);
  if (!p || !u) return false;
  const [, pScheme, pHost, pPath] = p;
  const [, uScheme, uHost, uPath = "/"] = u;
  if (pScheme !== uScheme) return false;
  const hostOk = pHost.startsWith("*.") ? uHost.endsWith(pHost.slice(1)) : uHost === pHost;
  if (!hostOk) return false;
  if (pPath.endsWith("/") && !pPath.includes("*")) return uPath.startsWith(pPath);
  const pathRegex = new RegExp(`^${pPath.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return pathRegex.test(uPath);
}

function dataLayerKeyMatches(pattern, key) {
  if (pattern === "*" || pattern === key) return true;
  return pattern.endsWith(".*") && key.startsWith(pattern.slice(0, -1));
}

// Which permission each API needs (null: none). An API missing here is refused by require().
export const API_PERMISSIONS = {
  addConsentListener: "access_consent",
  callInWindow: "access_globals",
  callLater: null,
  copyFromDataLayer: "read_data_layer",
  copyFromWindow: "access_globals",
  getType: null,
  injectScript: "inject_script",
  logToConsole: "logging",
  makeInteger: null,
  queryPermission: null,
  templateStorage: "access_template_storage",
};

function requiredApis(code) {
  return [...code.matchAll(/require\(\s*['"]([A-Za-z]+)['"]\s*\)/g)].map((m) => m[1]);
}

// ---- the page: window, data layer model, consent state, network, task queue ----

const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value, (k, v) => (typeof v === "function" ? "[function]" : v))));

function getPath(root, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), root);
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

class Page {
  constructor(template, scenario) {
    this.code = template.SANDBOXED_JS_FOR_WEB_TEMPLATE;
    this.declared = declaredItems(JSON.parse(template.WEB_PERMISSIONS));
    this.scenario = scenario;
    this.environment = scenario.environment || "live";
    this.window = {};
    this.model = copy(scenario.data_model || {});
    this.consent = { ...(scenario.consent || {}) };
    this.listeners = [];
    this.storage = new Map();
    this.scripts = new Map(); // cache token -> {state: "loading" | "loaded" | "failed", waiters}
    this.tasks = [];
    this.out = { firings: [], window_calls: [], missing_calls: [], requests: [], logs: [], used: new Set(), denied: [] };
  }

  // A use the permissions allow is recorded; any other use throws, as in GTM.
  check(description, predicate) {
    const item = this.declared.find(predicate);
    if (!item) {
      this.out.denied.push(description);
      throw new Error(`permission denied: ${description}`);
    }
    this.out.used.add(item.item);
    return item;
  }

  allows(predicate) {
    return this.declared.some(predicate);
  }

  later(task) {
    this.tasks.push(task);
  }

  drain(firing) {
    while (this.tasks.length) {
      const task = this.tasks.shift();
      try {
        task();
      } catch (error) {
        (firing || this.out.firings.at(-1)).errors.push(String(error.message || error));
      }
    }
  }

  granted(type) {
    return this.consent[type] !== "denied"; // GTM: a type with no state counts as granted
  }

  load(url, token) {
    const entry = { state: "loading", waiters: [] };
    this.scripts.set(token, entry);
    this.out.requests.push(url);
    this.later(() => {
      const script = (this.scenario.scripts || {})[url];
      entry.state = script ? "loaded" : "failed";
      if (script && script.ttrelay_version) this.defineTtrelay(script.ttrelay_version);
      for (const waiter of entry.waiters.splice(0)) (entry.state === "loaded" ? waiter.onSuccess : waiter.onFailure)();
    });
    return entry;
  }

  defineTtrelay(version) {
    const noop = () => undefined;
    this.window.ttrelay = { version, init: noop, track: noop, identify: noop, consentChanged: noop, flush: noop };
  }

  apis() {
    const page = this;
    return {
      // Calls the function at a dotted path of the window with copies of the arguments.
      callInWindow(path, ...args) {
        page.check(`access_globals execute ${path}`, (i) => i.id === "access_globals" && i.key === path && i.access === "execute");
        const fn = getPath(page.window, path);
        if (typeof fn !== "function") {
          page.out.missing_calls.push(path);
          return undefined;
        }
        page.out.window_calls.push([path, ...args.map(copy)]);
        return copy(fn(...args.map(copy)));
      },
      // Runs the function after the current code returns (setTimeout 0).
      callLater(fn) {
        page.later(() => fn());
      },
      // The data layer model's value at the key (version 2: dotted keys read nested values).
      copyFromDataLayer(key, version = 2) {
        page.check(`read_data_layer ${key}`, (i) => i.id === "read_data_layer" && dataLayerKeyMatches(i.pattern, key));
        return copy(version === 1 ? page.model[key] : getPath(page.model, key));
      },
      // A copy of the window's value at a dotted path.
      copyFromWindow(path) {
        page.check(`access_globals read ${path}`, (i) => i.id === "access_globals" && i.key === path && i.access === "read");
        return copy(getPath(page.window, path));
      },
      getType: typeOf,
      // Adds a script tag; the callbacks run once it has loaded or failed. With a cache token the URL
      // is requested once per page and later calls wait for, or reuse, that load.
      injectScript(url, onSuccess, onFailure, cacheToken) {
        page.check(`inject_script ${url}`, (i) => i.id === "inject_script" && urlMatches(i.pattern, url));
        const waiter = { onSuccess: onSuccess || (() => {}), onFailure: onFailure || (() => {}) };
        const known = cacheToken !== undefined ? page.scripts.get(cacheToken) : undefined;
        const entry = known || page.load(url, cacheToken === undefined ? Symbol(url) : cacheToken);
        if (entry.state === "loading") entry.waiters.push(waiter);
        else page.later(entry.state === "loaded" ? waiter.onSuccess : waiter.onFailure);
      },
      logToConsole(...args) {
        const item = page.check("logging", (i) => i.id === "logging");
        if (item.environments === "all" || page.environment === "debug") page.out.logs.push(args.map(String).join(" "));
      },
      makeInteger(value) {
        return Math.trunc(Number(value));
      },
      // Whether a use is allowed, without using it (needs no permission of its own).
      queryPermission(id, ...args) {
        if (id === "inject_script") return page.allows((i) => i.id === id && urlMatches(i.pattern, args[0]));
        throw new Error(`queryPermission('${id}') is not modelled by this stand-in`);
      },
      // Listeners run when a type turns from granted to denied or back; no state counts as granted.
      addConsentListener(type, listener) {
        page.check(`access_consent read ${type}`, (i) => i.id === "access_consent" && i.type === type && i.access === "read");
        page.listeners.push({ type, listener });
      },
      // Values shared by every run of this template for the life of the page.
      templateStorage: {
        getItem(key) {
          page.check("access_template_storage", (i) => i.id === "access_template_storage");
          return page.storage.has(key) ? copy(page.storage.get(key)) : null;
        },
        setItem(key, value) {
          page.check("access_template_storage", (i) => i.id === "access_template_storage");
          page.storage.set(key, copy(value));
        },
      },
    };
  }

  fire() {
    const firing = { outcome: null, calls: 0, errors: [] };
    this.out.firings.push(firing);
    const data = copy(this.scenario.data || {});
    data.gtmOnSuccess = () => { firing.calls += 1; firing.outcome = "success"; };
    data.gtmOnFailure = () => { firing.calls += 1; firing.outcome = "failure"; };
    const apis = this.apis();
    const require = (name) => {
      if (!(name in apis) || !(name in API_PERMISSIONS)) throw new Error(`require('${name}'): not an API this stand-in models`);
      return apis[name];
    };
    try {
      this.run(require, data);
    } catch (error) {
      firing.errors.push(String(error.message || error));
    }
    this.drain(firing);
  }

  run(require, data) {
    // What sandboxed code cannot reach: the browser's globals and JavaScript's global constructors.
    const shadowed = ["window", "document", "globalThis", "self", "navigator", "location", "Object", "Array",
      "String", "Number", "Boolean", "JSON", "Math", "Date", "RegExp", "Function", "Promise", "Symbol", "Map",
      "Set", "Reflect", "Proxy", "setTimeout", "setInterval", "console", "encodeURIComponent", "encodeURI",
      "decodeURIComponent", "parseInt", "parseFloat", "isNaN"];
    const source = `(function (require, data, ${shadowed.join(", ")}) {\n"use strict";\n${this.code}\n})`;
    const body = vm.runInNewContext(source, {}, { filename: "template.tpl:SANDBOXED_JS" });
    body(require, data);
  }

  changeConsent(update) {
    const before = Object.fromEntries(this.listeners.map(({ type }) => [type, this.granted(type)]));
    Object.assign(this.consent, update);
    const firing = this.out.firings.at(-1);
    for (const { type, listener } of this.listeners) {
      const now = this.granted(type);
      if (now !== before[type]) {
        try {
          listener(type, now);
        } catch (error) {
          firing.errors.push(String(error.message || error));
        }
      }
    }
    this.drain(firing);
  }

  play() {
    for (const step of this.scenario.steps || [{ fire: true }]) {
      if (step.fire) this.fire();
      else if (step.consent) this.changeConsent(step.consent);
      else if (step.push) Object.assign(this.model, copy(step.push));
      else throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
    return { ...this.out, used: [...this.out.used].sort() };
  }
}

function audit(template) {
  const required = requiredApis(template.SANDBOXED_JS_FOR_WEB_TEMPLATE);
  const declared = declaredItems(JSON.parse(template.WEB_PERMISSIONS));
  const declaredIds = new Set(declared.map((i) => i.id));
  return {
    required,
    unmodelled: required.filter((api) => !(api in API_PERMISSIONS)),
    undeclared: required.filter((api) => API_PERMISSIONS[api] && !declaredIds.has(API_PERMISSIONS[api])),
    declared: declared.map((i) => i.item),
    // A declared permission that no required API needs.
    unneeded: [...declaredIds].filter((id) => !required.some((api) => API_PERMISSIONS[api] === id)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const template = sections(readFileSync(process.argv[2], "utf8"));
  const result = process.argv[3] === "--audit"
    ? audit(template)
    : new Page(template, JSON.parse(readFileSync(0, "utf8"))).play();
  process.stdout.write(JSON.stringify(result));
}
