import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSync } from 'esbuild';
import { strToU8, zipSync } from 'fflate';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuild } from '@trapline/projector';
import { createKafka, createLogger } from '@trapline/runtime';
import { launchChromium } from './browser-app.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { sentryCliRunner } from './sentry-cli-runner.ts';

// Source maps end to end with real tools only: a small app bundled and minified by esbuild with
// source maps, `sentry-cli sourcemaps inject` and `upload` against the running stack, the app run
// in Node with @sentry/node and, bundled with @sentry/browser, in Chromium. An event that came before its maps reads as the source once they are
// uploaded; the upload protocol refuses corrupt and oversize chunks.

let trapline: RunningTrapline;
const app = mkdtempSync(join(tmpdir(), 'trapline-source-maps-'));
const ROOT = join(import.meta.dirname, '..');

const CART = `export function totalOf(cart) {
  let sum = 0;
  for (const item of cart.items) sum += item.price * item.quantity;
  return sum;
}

export function checkout(cart) {
  const total = totalOf(cart);
  return { total, currency: 'EUR' };
}
`;
const MAIN = `import { checkout } from './cart.js';

export function placeOrder(cart) {
  return checkout(cart);
}
`;

beforeAll(async () => {
  trapline = await startTrapline();
  mkdirSync(join(app, 'src'));
  writeFileSync(join(app, 'src/cart.js'), CART);
  writeFileSync(join(app, 'src/main.js'), MAIN);
  buildSync({ entryPoints: [join(app, 'src/main.js')], bundle: true, minify: true, sourcemap: true, platform: 'node', format: 'cjs', outfile: join(app, 'dist/app.min.js'), logLevel: 'silent' });
}, 120000);

afterAll(async () => {
  await trapline?.dispose();
});

const sentryCli = sentryCliRunner(() => trapline, { cwd: app });
const org = () => trapline.defaults.organizationSlug;
const auth = () => ({ authorization: `Bearer ${trapline.defaults.token}` });
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

/** The bundled app run in Node with @sentry/node: placeOrder({}) throws in totalOf. */
function runApp(release: string, bundle = 'app.min.js') {
  const script = join(app, 'run.cjs');
  writeFileSync(script, `
const Sentry = require('@sentry/node');
Sentry.init({ dsn: ${JSON.stringify(trapline.defaults.dsn)}, release: ${JSON.stringify(release)}, defaultIntegrations: false, integrations: [Sentry.contextLinesIntegration()] });
const { placeOrder } = require(${JSON.stringify(`./dist/${bundle}`)});
try { placeOrder({}); } catch (error) { console.log(Sentry.captureException(error)); }
Sentry.flush(10000).then(() => process.exit(0));
`);
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules') }, timeout: 60000 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim().replaceAll('-', '');
}

interface Frame { in_app?: boolean; function?: string; filename?: string; abs_path?: string; lineno?: number; colno?: number; context_line?: string; pre_context?: string[]; data?: Record<string, unknown> }
const framesOf = async (eventId: string) =>
  eventually(async () => {
    const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org()}/${trapline.defaults.projectSlug}/events/${eventId}/`, { headers: auth() });
    if (!response.ok) return undefined;
    const event = (await response.json()) as { entries: { type: string; data: { values: { stacktrace: { frames: Frame[] } }[] } }[]; errors: unknown[] };
    return { frames: event.entries.find((entry) => entry.type === 'exception')!.data.values[0]!.stacktrace.frames.filter((frame) => frame.in_app && !frame.filename?.endsWith('run.cjs')), errors: event.errors };
  }, `event ${eventId}`);

/** The in-app function names of an event, once it is stored. */
const functionsOf = async (eventId: string) =>
  (await eventually(async () => {
    const read = await framesOf(eventId);
    return read.frames.length > 0 ? read : undefined;
  }, `event ${eventId} with frames`)).frames.map((frame) => frame.function);

const postChunks = (parts: { field: string; name: string; body: Buffer }[]) => {
  const form = new FormData();
  for (const part of parts) form.append(part.field, new Blob([new Uint8Array(part.body)]), part.name);
  return fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/chunk-upload/`, { method: 'POST', headers: auth(), body: form });
};

describe('chunk upload', () => {
  it('offers sentry-cli its options', async () => {
    const response = await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/chunk-upload/`, { headers: auth() });
    expect(await response.json()).toMatchObject({ url: `${trapline.publicUrl}/api/0/organizations/${org()}/chunk-upload/`, hashAlgorithm: 'sha1', compression: ['gzip'], chunkSize: 8388608 });
  });

  it('refuses corrupt chunks (400) and oversize ones (413), storing nothing of the request', async () => {
    const good = Buffer.from('a good chunk');
    const bad = await postChunks([{ field: 'file_gzip', name: sha1(good), body: gzipSync(good) }, { field: 'file_gzip', name: sha1(Buffer.from('other')), body: gzipSync(Buffer.from('tampered')) }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/corrupt/);
    expect((await postChunks([{ field: 'file_gzip', name: sha1(good), body: Buffer.from('not gzip') }])).status).toBe(400);
    const huge = Buffer.alloc(8 * 1024 * 1024 + 1);
    expect((await postChunks([{ field: 'file_gzip', name: sha1(huge), body: gzipSync(huge) }])).status).toBe(413);
    // The good chunk of the refused request was not kept: assembling from it finds it missing.
    const assemble = await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/artifactbundle/assemble/`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ checksum: sha1(good), chunks: [sha1(good)], projects: [trapline.defaults.projectSlug] }),
    });
    expect(await assemble.json()).toEqual({ state: 'not_found', missingChunks: [sha1(good)], detail: null });
  });

  it('assembles nothing from chunks that are not a bundle', async () => {
    const junk = Buffer.from('PK\u0003\u0004 but not a zip at all');
    expect((await postChunks([{ field: 'file', name: sha1(junk), body: junk }])).status).toBe(200);
    const assemble = await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/artifactbundle/assemble/`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ checksum: sha1(junk), chunks: [sha1(junk)], projects: [trapline.defaults.projectSlug] }),
    });
    expect(await assemble.json()).toMatchObject({ state: 'error' });
  });
});

describe('sourcemaps inject + upload, then @sentry/node', () => {
  let early: string;

  it('an event before its maps shows the minified frames', async () => {
    const injected = sentryCli('sourcemaps', 'inject', join(app, 'dist'));
    expect(injected.status, injected.output).toBe(0);
    early = runApp('web@3.0.0');
    const { frames } = await framesOf(early);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.map((frame) => frame.function)).not.toContain('totalOf');
  });

  it('once uploaded, the same event reads as the source: functions, files, lines, context', async () => {
    const uploaded = sentryCli('sourcemaps', 'upload', '--release', 'web@3.0.0', join(app, 'dist'));
    expect(uploaded.status, uploaded.output).toBe(0);
    const { frames, errors } = await eventually(async () => {
      const read = await framesOf(early);
      return read.frames.some((frame) => frame.data?.symbolicated) ? read : undefined;
    }, 'the symbolicated event');
    expect(errors).toEqual([]);
    const innermost = frames.at(-1)!;
    expect(innermost).toMatchObject({ function: 'totalOf', filename: 'src/cart.js', lineno: 3, context_line: '  for (const item of cart.items) sum += item.price * item.quantity;' });
    expect(innermost.pre_context).toEqual(['export function totalOf(cart) {', '  let sum = 0;']);
    expect(frames.map((frame) => frame.function)).toEqual(['placeOrder', 'checkout', 'totalOf']);
    expect(frames.map((frame) => `${frame.filename}:${frame.lineno}`)).toEqual(['src/main.js:4', 'src/cart.js:8', 'src/cart.js:3']);
  });

  it('an event after the upload reads as the source at once', async () => {
    expect(await functionsOf(runApp('web@3.0.0'))).toEqual(['placeOrder', 'checkout', 'totalOf']);
  });
});

describe('grouping and broken maps', () => {
  it('the same bug in two builds is one issue: grouping uses the resolved frames', async () => {
    // A second build (the next version of the entry file) with other minified names and another bundle name.
    mkdirSync(join(app, 'v2/src'), { recursive: true });
    writeFileSync(join(app, 'v2/src/main.js'), `import { checkout } from '../../src/cart.js';\n\nexport function audit(list) { return list.map(String); }\n\nexport function placeOrder(cart) {\n  return checkout(cart);\n}\n`);
    const out = join(app, 'dist2');
    buildSync({ entryPoints: [join(app, 'v2/src/main.js')], bundle: true, minify: true, sourcemap: true, platform: 'node', format: 'cjs', outfile: join(out, 'shop.min.js'), logLevel: 'silent' });
    expect(sentryCli('sourcemaps', 'inject', out).status).toBe(0);
    const uploaded = sentryCli('sourcemaps', 'upload', '--release', 'web@3.1.0', out);
    expect(uploaded.status, uploaded.output).toBe(0);
    const first = runApp('web@3.0.0');
    const second = runApp('web@3.1.0', '../dist2/shop.min.js');
    const groupOf = (eventId: string) =>
      eventually(async () => {
        const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org()}/${trapline.defaults.projectSlug}/events/${eventId}/`, { headers: auth() });
        return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
      }, `event ${eventId}`);
    expect(await groupOf(second)).toBe(await groupOf(first));
    const { frames } = await framesOf(second);
    expect(frames.map((frame) => frame.function)).toEqual(['placeOrder', 'checkout', 'totalOf']);
  });

  it('a map that does not parse leaves the frames as they came and says why in errors', async () => {
    const debugId = 'deadbeef-0000-4000-8000-00000000c0de';
    const minified = 'function a(b){return b.c.d}module.exports={run:a};\n//# sourceMappingURL=broken.min.js.map\n';
    const manifest = {
      files: {
        '_/_/broken.min.js': { type: 'minified_source', url: '~/broken.min.js', headers: { 'debug-id': debugId, Sourcemap: 'broken.min.js.map' } },
        '_/_/broken.min.js.map': { type: 'source_map', url: '~/broken.min.js.map', headers: { 'debug-id': debugId } },
      },
      attributes: { org: org() },
    };
    const bundle = Buffer.from(zipSync({ 'manifest.json': strToU8(JSON.stringify(manifest)), '_/_/broken.min.js': strToU8(minified), '_/_/broken.min.js.map': strToU8('{"version":3,"mappings":') }));
    expect((await postChunks([{ field: 'file_gzip', name: sha1(bundle), body: gzipSync(bundle) }])).status).toBe(200);
    const assembled = await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/artifactbundle/assemble/`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ checksum: sha1(bundle), chunks: [sha1(bundle)], projects: [trapline.defaults.projectSlug] }),
    });
    expect(await assembled.json()).toMatchObject({ state: 'ok' });
    const url = new URL(trapline.defaults.dsn);
    const frame = { filename: '/srv/broken.min.js', abs_path: '/srv/broken.min.js', function: 'a', lineno: 1, colno: 23, in_app: true };
    const sent = await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, {
      method: 'POST',
      body: JSON.stringify({ platform: 'node', exception: { values: [{ type: 'TypeError', value: 'x', stacktrace: { frames: [frame] } }] }, debug_meta: { images: [{ type: 'sourcemap', code_file: '/srv/broken.min.js', debug_id: debugId }] } }),
    });
    const eventId = ((await sent.json()) as { id: string }).id;
    const { frames, errors } = await framesOf(eventId);
    expect(frames).toEqual([expect.objectContaining({ function: 'a', lineno: 1, colno: 23 })]);
    expect(errors).toEqual([expect.objectContaining({ type: 'js_invalid_source', url: '~/broken.min.js.map', reason: expect.stringMatching(/does not parse/) })]);
  });
});

describe('release files (the older upload)', () => {
  it('a release file and its map, found by release and abs_path', async () => {
    const out = join(app, 'dist4');
    buildSync({ entryPoints: [join(app, 'src/main.js')], bundle: true, minify: true, sourcemap: true, platform: 'node', format: 'cjs', outfile: join(out, 'app.min.js'), logLevel: 'silent' });
    expect((await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/releases/`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ version: 'web@4.0.0', projects: [trapline.defaults.projectSlug] }) })).status).toBe(201);
    await eventually(async () => ((await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/releases/web@4.0.0/`, { headers: auth() })).ok ? true : undefined), 'the release');
    const upload = async (file: string, name: string) => {
      const form = new FormData();
      form.append('name', name);
      form.append('file', new Blob([new Uint8Array(readFileSync(join(out, file)))]), file);
      return fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/releases/web@4.0.0/files/`, { method: 'POST', headers: auth(), body: form });
    };
    // Node's frames name the file by its path: uploaded as ~/<path>, as `--url-prefix ~/` would.
    expect((await upload('app.min.js', `~${out}/app.min.js`)).status).toBe(201);
    expect((await upload('app.min.js.map', `~${out}/app.min.js.map`)).status).toBe(201);
    const noName = new FormData();
    noName.append('file', new Blob([new Uint8Array([1])]), 'x');
    expect((await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/releases/web@4.0.0/files/`, { method: 'POST', headers: auth(), body: noName })).status).toBe(400);
    const files = await eventually(async () => {
      const listed = (await (await fetch(`${trapline.publicUrl}/api/0/organizations/${org()}/releases/web@4.0.0/files/`, { headers: auth() })).json()) as { name: string }[];
      return listed.length === 2 ? listed : undefined;
    }, 'the files');
    expect(files.map((file) => file.name).sort()).toEqual([`~${out}/app.min.js`, `~${out}/app.min.js.map`]);
    expect(await functionsOf(runApp('web@4.0.0', '../dist4/app.min.js'))).toEqual(['placeOrder', 'checkout', 'totalOf']);
  });
});

describe('@sentry/browser in Chromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('a minified browser bundle (the SDK inside it) reads as the source', async () => {
    const web = join(app, 'web');
    mkdirSync(join(web, 'src'), { recursive: true });
    writeFileSync(join(web, 'src/shop.js'), `import * as Sentry from '@sentry/browser';
import { placeOrder } from '../../src/main.js';

Sentry.init({ dsn: window.DSN, release: 'web@5.0.0', defaultIntegrations: false });

function payNow() {
  try {
    placeOrder({});
  } catch (error) {
    Sentry.captureException(error);
  }
}

document.getElementById('pay').addEventListener('click', () => {
  payNow();
  void Sentry.flush(5000).then(() => (document.title = 'sent'));
});
`);
    buildSync({ entryPoints: [join(web, 'src/shop.js')], bundle: true, minify: true, sourcemap: true, platform: 'browser', format: 'iife', target: 'es2020', outfile: join(web, 'static/shop.min.js'), nodePaths: [join(ROOT, 'node_modules')], logLevel: 'silent' });
    expect(sentryCli('sourcemaps', 'inject', join(web, 'static')).status).toBe(0);
    const uploaded = sentryCli('sourcemaps', 'upload', '--release', 'web@5.0.0', '--url-prefix', '~/static', join(web, 'static'));
    expect(uploaded.status, uploaded.output).toBe(0);
    const bundle = readFileSync(join(web, 'static/shop.min.js'));
    server = createServer((request, response) => {
      if (request.url === '/static/shop.min.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>shop</title><script>window.DSN = ${JSON.stringify(trapline.defaults.dsn)};</script></head><body><button id="pay">Pay</button><script src="/static/shop.min.js"></script></body></html>`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
    const page = await browser.newPage();
    const sent = page.waitForRequest((request) => request.url().includes('/envelope/'));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.click('#pay');
    const body = (await sent).postData() ?? '';
    const eventId = (JSON.parse(body.split('\n')[0]!) as { event_id: string }).event_id;
    const functions = await eventually(async () => {
      const names = await functionsOf(eventId).catch(() => undefined);
      return names?.includes('totalOf') ? names : undefined;
    }, 'the symbolicated browser event');
    expect(functions.slice(-4)).toEqual(['payNow', 'placeOrder', 'checkout', 'totalOf']);
    const { frames } = await framesOf(eventId);
    expect(frames.at(-1)).toMatchObject({ filename: 'src/cart.js', lineno: 3 });
  });
});

describe('the web UI in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the frames with their original functions, files and source lines, and the releases', async () => {
    const eventId = runApp('web@3.0.0');
    const groupId = await eventually(async () => {
      const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org()}/${trapline.defaults.projectSlug}/events/${eventId}/`, { headers: auth() });
      return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
    }, 'the event');
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${trapline.publicUrl}/`);
    await page.fill('#token', trapline.defaults.token);
    await page.click('button:text("Use token")');
    await page.waitForURL('**/issues/');
    await page.goto(`${trapline.publicUrl}/organizations/${org()}/issues/${groupId}/`);
    await page.locator('.frame.in-app').first().waitFor();
    const functions = await page.locator('.frame.in-app code.function').allTextContents();
    expect(functions).toEqual(expect.arrayContaining(['placeOrder', 'checkout', 'totalOf']));
    expect(await page.locator('.frame.in-app').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('src/cart.js')]));
    expect(await page.locator('.context .current').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('for (const item of cart.items) sum += item.price * item.quantity;')]));
    expect(await page.locator('[data-release=first]').textContent()).toContain('3.0.0');
    await page.click('text=Releases');
    await page.locator('tr[data-version="web@3.0.0"]').waitFor();
    expect(await page.locator('tr[data-version="web@3.1.0"]').count()).toBe(1);
  });
});

describe('trapline rebuild', () => {
  it('groups on the resolved frames by its bulk path as the projector did live: the same issues, events and titles', async () => {
    const state = async () => ({
      groups: (await trapline.pool.query('SELECT id, short_id, title, culprit, metadata, times_seen, first_seen, last_seen FROM groups ORDER BY id')).rows,
      events: (await trapline.pool.query('SELECT project_id, event_id, group_id, title FROM events ORDER BY project_id, event_id')).rows,
    });
    const live = await state();
    expect(new Set(live.events.map((row) => row.group_id)).size).toBeLessThan(live.events.length); // the two builds' events share an issue
    const result = await rebuild({ config: trapline.config, kafka: createKafka(trapline.config.kafkaBrokers, 'test-rebuild', createLogger('test', 'error')), logger: createLogger('test', 'error'), handoverLag: 0, bulkMinRecords: 0 });
    expect(result.bulk).toMatchObject({ stopped: [] });
    expect(result.bulk!.events).toBe(live.events.length);
    expect(await state()).toEqual(live);
  }, 120000);
});
