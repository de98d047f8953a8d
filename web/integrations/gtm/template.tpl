___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "ttrelay - TikTok Events API relay",
  "categories": [
    "ADVERTISING",
    "CONVERSIONS"
  ],
  "brand": {
    "id": "brand_dummy",
    "displayName": "ttrelay"
  },
  "description": "Loads ttrelay.js from your site and configures it: the page's TikTok pixel calls and GA4 ecommerce events also reach your ttrelay collector, with one consent decision for both.",
  "containerContexts": [
    "WEB"
  ]
}

___TEMPLATE_PARAMETERS___

[
  {
    "type": "TEXT",
    "name": "snippetUrl",
    "displayName": "Snippet URL (ttrelay.js)",
    "simpleValueType": true,
    "valueHint": "https://shop.example.com/js/ttrelay.js",
    "help": "Where your site serves ttrelay.js (web/sdk/ttrelay.js, version 0.3.0 or later). Add the same URL to this template's \"Injects scripts\" permission (Templates > ttrelay > Permissions): GTM loads only the URLs listed there.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https?://[^/?#\\s]+/\\S*$"
        ]
      }
    ],
    "alwaysInSummary": true
  },
  {
    "type": "TEXT",
    "name": "endpoint",
    "displayName": "Collector endpoint",
    "simpleValueType": true,
    "defaultValue": "/_t/events",
    "valueHint": "/_t/events",
    "help": "The collector's URL as the page calls it: a path of your own site behind CloudFront (/_t/events), or the function URL or CloudFront URL ending in /events.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      }
    ],
    "alwaysInSummary": true
  },
  {
    "type": "TEXT",
    "name": "pixelCode",
    "displayName": "TikTok pixel code",
    "simpleValueType": true,
    "valueHint": "CXXXXXXXXXXXXXXXXXXX",
    "help": "Optional when your relay is configured with exactly one pixel.",
    "valueValidators": [
      {
        "type": "REGEX",
        "args": [
          "^([A-Z0-9]{20})?$"
        ]
      }
    ]
  },
  {
    "type": "CHECKBOX",
    "name": "dataLayer",
    "checkboxText": "Map GA4 ecommerce events from the dataLayer",
    "simpleValueType": true,
    "defaultValue": true,
    "help": "view_item, add_to_cart, begin_checkout, purchase and the other GA4 events pushed to the dataLayer become TikTok events (the table is in ttrelay's docs/events.md). Off: only the page's own ttq.track calls are sent."
  },
  {
    "type": "TEXT",
    "name": "dataLayerName",
    "displayName": "dataLayer name",
    "simpleValueType": true,
    "defaultValue": "dataLayer",
    "help": "Change only if your GTM container snippet renames the dataLayer.",
    "valueValidators": [
      {
        "type": "REGEX",
        "args": [
          "^[A-Za-z_$][A-Za-z0-9_$]*$"
        ]
      }
    ],
    "enablingConditions": [
      {
        "paramName": "dataLayer",
        "paramValue": true,
        "type": "EQUALS"
      }
    ]
  },
  {
    "type": "CHECKBOX",
    "name": "pixelConsent",
    "checkboxText": "Hold the TikTok pixel until the collector's consent decision",
    "simpleValueType": true,
    "defaultValue": true,
    "help": "One decision for both channels: the pixel is held (ttq.holdConsent) and granted or revoked as the collector decides."
  },
  {
    "type": "CHECKBOX",
    "name": "mirror",
    "checkboxText": "Send the page's ttq.track calls to the collector too",
    "simpleValueType": true,
    "defaultValue": true,
    "help": "Each ttq.track and ttq.identify call goes to the pixel unchanged and, for track, the same event with the same event_id goes to the collector."
  },
  {
    "type": "CHECKBOX",
    "name": "userData",
    "checkboxText": "Advanced matching from the dataLayer's user_data",
    "simpleValueType": true,
    "defaultValue": false,
    "help": "Reads user_data (email, phone_number, address) from the dataLayer each time this tag fires and passes it to ttrelay.identify. The collector hashes it; nothing is logged."
  },
  {
    "type": "CHECKBOX",
    "name": "debug",
    "checkboxText": "Debug logging in the browser console",
    "simpleValueType": true,
    "defaultValue": false,
    "help": "Logs event names, event ids and consent decisions, never user data."
  }
]

___SANDBOXED_JS_FOR_WEB_TEMPLATE___

// ttrelay for Google Tag Manager: loads ttrelay.js once per page, configures it from this tag's
// fields and tells it when GTM's consent state changes. Sandboxed JavaScript (ES5.1 with const/let
// and arrow functions; no window, document, new or this). Every API required here has its entry in
// ___WEB_PERMISSIONS___, and nothing more is declared.
const addConsentListener = require('addConsentListener');
const callInWindow = require('callInWindow');
const callLater = require('callLater');
const copyFromDataLayer = require('copyFromDataLayer');
const copyFromWindow = require('copyFromWindow');
const getType = require('getType');
const injectScript = require('injectScript');
const logToConsole = require('logToConsole');
const makeInteger = require('makeInteger');
const queryPermission = require('queryPermission');
const templateStorage = require('templateStorage');

const LOG_PREFIX = '[ttrelay tag] ';
// templateStorage lives as long as the page: init and the consent listeners happen once,
// however many triggers fire this tag.
const STARTED = 'started';
// An update denying either type is a refusal for ttrelay, granting both can allow sending.
const DECIDING_CONSENT_TYPES = ['ad_storage', 'ad_user_data'];
// GA4's user-provided data (user_data) under ttrelay.identify's names. Plain values only:
// the pixel and the collector hash them.
const USER_FIELDS = [['email', 'email'], ['phone_number', 'phone_number']];
const ADDRESS_FIELDS = [
  ['first_name', 'first_name'], ['last_name', 'last_name'], ['postal_code', 'zip_code'],
  ['city', 'city'], ['region', 'state'], ['country', 'country']
];

function log(message) {
  // URLs, versions and consent type names only: never user data.
  logToConsole(LOG_PREFIX + message);
}

function debug(message) {
  if (data.debug) log(message);
}

// ttrelay.js 0.3.0 brought the options set below (mirror, dataLayer, pixelConsent by default);
// an older file would ignore them without a word.
function hasTagOptions(version) {
  if (getType(version) !== 'string') return false;
  const parts = version.split('.');
  const major = makeInteger(parts[0]);
  const minor = makeInteger(parts[1]);
  return major > 0 || minor >= 3;
}

function dataLayerOption() {
  if (!data.dataLayer) return false;
  const name = data.dataLayerName ? data.dataLayerName.trim() : '';
  return name === '' || name === 'dataLayer' ? true : name;
}

function initOptions() {
  const options = {
    endpoint: data.endpoint.trim(),
    dataLayer: dataLayerOption(),
    // An unset checkbox (a tag saved before the field existed) keeps the snippet's default: on.
    pixelConsent: data.pixelConsent !== false,
    mirror: data.mirror !== false,
    debug: data.debug === true
  };
  if (data.pixelCode) options.pixelCode = data.pixelCode.trim();
  return options;
}

function copyText(source, pairs, user) {
  let found = false;
  pairs.forEach((pair) => {
    const value = source[pair[0]];
    if (getType(value) === 'string' && value.trim() !== '') {
      user[pair[1]] = value.trim();
      found = true;
    }
  });
  return found;
}

function userFromDataLayer() {
  const userData = copyFromDataLayer('user_data', 2);
  if (getType(userData) !== 'object') return null;
  const user = {};
  let found = copyText(userData, USER_FIELDS, user);
  let address = userData.address;
  if (getType(address) === 'array') address = address[0];
  if (getType(address) === 'object') found = copyText(address, ADDRESS_FIELDS, user) || found;
  return found ? user : null;
}

// GTM calls a listener only when a type turns from granted to denied or back, and a type with no
// state counts as granted: the change is a cue, not the visitor's choice. ttrelay.js reads the
// choice itself from the dataLayer's consent commands. One update can change both types: one call.
let consentCuePending = false;

function onConsentChange(consentType, granted) {
  debug(consentType + (granted ? ' granted' : ' denied') + ' in GTM: ttrelay reads consent again');
  if (consentCuePending) return;
  consentCuePending = true;
  callLater(() => {
    consentCuePending = false;
    callInWindow('ttrelay.consentChanged');
  });
}

function start(version) {
  templateStorage.setItem(STARTED, true);
  callInWindow('ttrelay.init', initOptions());
  DECIDING_CONSENT_TYPES.forEach((type) => addConsentListener(type, onConsentChange));
  debug('ttrelay ' + version + ' initialised');
}

function onSnippetLoaded() {
  const version = copyFromWindow('ttrelay.version');
  if (!hasTagOptions(version)) {
    log(data.snippetUrl + ' loaded but did not define ttrelay 0.3.0 or later (found ' + version +
      '): check the Snippet URL.');
    data.gtmOnFailure();
    return;
  }
  if (!templateStorage.getItem(STARTED)) start(version);
  if (data.userData) {
    const user = userFromDataLayer();
    if (user) callInWindow('ttrelay.identify', user);
  }
  data.gtmOnSuccess();
}

function onSnippetFailed() {
  log('could not load ' + data.snippetUrl + ': nothing is sent to the collector from this page.');
  data.gtmOnFailure();
}

if (queryPermission('inject_script', data.snippetUrl)) {
  // The URL is the cache token: one request per page, later firings wait for the same load.
  injectScript(data.snippetUrl, onSnippetLoaded, onSnippetFailed, data.snippetUrl);
} else {
  log(data.snippetUrl + ' is not in this template\'s "Injects scripts" permission: add it under ' +
    'Templates > ttrelay > Permissions.');
  data.gtmOnFailure();
}

___WEB_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "all"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "inject_script",
        "versionId": "1"
      },
      "param": [
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://shop.example.com/js/ttrelay.js"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_globals",
        "versionId": "1"
      },
      "param": [
        {
          "key": "keys",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ttrelay.version"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": false
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ttrelay.init"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ttrelay.consentChanged"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ttrelay.identify"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "read_data_layer",
        "versionId": "1"
      },
      "param": [
        {
          "key": "allowedKeys",
          "value": {
            "type": 1,
            "string": "specific"
          }
        },
        {
          "key": "keyPatterns",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "user_data"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_consent",
        "versionId": "1"
      },
      "param": [
        {
          "key": "consentTypes",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ad_storage"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ad_user_data"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_template_storage",
        "versionId": "1"
      },
      "param": []
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  }
]

___TESTS___

scenarios: []

___NOTES___

ttrelay's web tag template (issue 15). Setup: docs/gtm.md in the ttrelay repository.
Its sandboxed code is tested outside GTM, against a stand-in of the APIs it uses and of the
permissions above: tests/unit/test_gtm_template.py (run by make test). GTM's own test runner has no
scenarios here so that the tests live in one place.
