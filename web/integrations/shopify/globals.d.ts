// The objects Shopify gives a custom pixel's code, typed from @shopify/web-pixels-extension.
import type { ExtensionApi } from "@shopify/web-pixels-extension";

declare global {
  const analytics: ExtensionApi["analytics"];
  const browser: ExtensionApi["browser"];
  const init: ExtensionApi["init"];
  const customerPrivacy: ExtensionApi["customerPrivacy"];
}

export {};
