import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

// A tiny web app for the browser SDK tests: one page on its own origin (127.0.0.1, its own
// port) that loads @sentry/browser and an app script with named functions, so events carry real
// frames. Debian's Chromium runs it headless; Playwright never downloads a browser here.

export const CHROMIUM_PATH = '/usr/bin/chromium';

// The package ships only npm builds (ESM/CJS), no browser bundle, so esbuild makes one.
async function bundleSentryBrowser(): Promise<string> {
  const result = await build({
    stdin: { contents: "import * as Sentry from '@sentry/browser'; window.Sentry = Sentry;", resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** The page's app: `shop.init(dsn)` from the test, then a click on #pay (exception) or #slow (message). */
export const APP_SCRIPT = `
function chargeCard(order) {
  throw new TypeError('card declined for order ' + order.id);
}
function checkout(order) {
  chargeCard(order);
}
window.shop = {
  init: function (dsn, transportHeaders) {
    Sentry.init({ dsn: dsn, release: 'shop@2.3.4', environment: 'golden', transportOptions: transportHeaders ? { headers: transportHeaders } : undefined });
  },
  failCheckout: function () {
    Sentry.setUser({ id: 'u-42', email: 'ada@example.com' });
    Sentry.setTag('checkout.step', 'payment');
    Sentry.setContext('cart', { items: 3, total: 129.5 });
    Sentry.addBreadcrumb({ category: 'cart', message: 'coupon applied', level: 'info' });
    console.info('payment form submitted');
    try {
      checkout({ id: 'ord-7' });
    } catch (error) {
      Sentry.captureException(error);
    }
  },
  warnSlowPage: function () {
    Sentry.captureMessage(Sentry.parameterize\`page \${'/cart'} took \${2300} ms\`, 'warning');
  },
  flush: function () {
    return Sentry.flush(5000);
  },
};
// Clicks, not page.evaluate, start the cases: frames come from this file only.
document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('pay').addEventListener('click', window.shop.failCheckout);
  document.getElementById('slow').addEventListener('click', window.shop.warnSlowPage);
});
`;

const PAGE = '<!doctype html><html><head><title>shop</title><script src="/sentry.js"></script><script src="/app.js"></script></head><body><button id="pay">Pay</button><button id="slow">Slow</button></body></html>';

/** `window` of the page, as tests reach into it with page.evaluate. */
export interface BrowserShop {
  shop: { init(dsn: string, transportHeaders?: Record<string, string>): void; flush(): Promise<boolean> };
}

export interface BrowserApp {
  url: string;
  close(): Promise<void>;
}

export async function serveBrowserApp(): Promise<BrowserApp> {
  const files: Record<string, [string, string]> = {
    '/': ['text/html', PAGE],
    '/sentry.js': ['text/javascript', await bundleSentryBrowser()],
    '/app.js': ['text/javascript', APP_SCRIPT],
  };
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://page').pathname];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}
