import type { Level, NormalizedEvent } from '@trapline/schemas';
import { describe, expect, it } from 'vitest';
import { FIXTURE_KEY, FIXTURE_PROJECT_ID, fixtureBody, loadSdkFixtures, type SdkFixture } from '../../../../test/fixtures/sdk-fixtures.ts';
import type { ProjectKey } from './auth.ts';
import { decompress } from './body.ts';
import { parseEnvelope } from './envelope.ts';
import { runIngest, type Endpoint, type IngestRequest } from './pipeline.ts';

// Golden SDK payloads (test/fixtures/sdk, recorded from the official Node, Python and browser
// SDKs by test/fixtures/capture.ts) through the pure pipeline, field by field. The expectations
// name only what the capture cases fix, so regenerating the fixtures keeps them true.

interface Golden {
  platform: string;
  level: Level;
  sdk: string;
  release: string;
  /** The last exception: type, value, and the innermost in-app frames (file, functions outermost first). */
  exception?: { type?: string; value: string; synthetic?: boolean; file: string; functions: string[] };
  message?: string;
  logentry?: { message: string; params: unknown[] };
  logger?: string;
  tags?: [string, string][];
  user?: Record<string, unknown>;
  breadcrumbs?: string[];
  contexts?: Record<string, unknown>;
  fingerprint?: string[];
}

const NODE = { platform: 'node', sdk: 'sentry.javascript.node', release: 'checkout@1.4.2' };
const PYTHON = { platform: 'python', sdk: 'sentry.python', release: 'billing@0.9.1' };
const BROWSER = { platform: 'javascript', sdk: 'sentry.javascript.browser', release: 'shop@2.3.4' };

const GOLDEN: Record<string, Golden> = {
  'node-exception': {
    ...NODE,
    level: 'error',
    exception: { type: 'RangeError', value: 'invalid amount: 12,50', file: 'capture.ts', functions: ['Object.exception', 'chargeCard', 'parseAmount'] },
  },
  'node-message': {
    ...NODE,
    level: 'warning',
    message: 'payment ord-7 failed after 3 attempts',
    logentry: { message: 'payment %s failed after %s attempts', params: ['ord-7', 3] },
    // attachStacktrace: the SDK sends the message's stack as a typeless synthetic exception.
    exception: { value: 'payment ord-7 failed after 3 attempts', synthetic: true, file: 'capture.ts', functions: ['runNodeCase', 'Object.message'] },
  },
  'node-context': {
    ...NODE,
    level: 'error',
    exception: { type: 'Error', value: 'payment provider unavailable', file: 'capture.ts', functions: ['Object.context', '<anonymous>'] },
    tags: [['checkout.step', 'payment'], ['region', 'eu-west']],
    user: { id: 'u-42', username: 'ada', email: 'ada@example.com' },
    breadcrumbs: ['POST /api/charge', 'retrying charge'],
    contexts: { order: { id: 'ord-7', items: 3 } },
    fingerprint: ['{{ default }}', 'payment-provider'],
  },
  'python-exception': {
    ...PYTHON,
    level: 'error',
    exception: { type: 'ZeroDivisionError', value: 'division by zero', file: 'golden_billing.py', functions: ['<module>', 'monthly_average', 'ratio'] },
  },
  'python-message': {
    ...PYTHON,
    level: 'error',
    logger: 'billing',
    message: 'invoice inv-9 overdue by 14 days',
    logentry: { message: 'invoice %s overdue by %d days', params: ['inv-9', 14] },
  },
  'python-context': {
    ...PYTHON,
    level: 'error',
    exception: { type: 'KeyError', value: "'customer'", file: 'golden_billing.py', functions: ['<module>'] },
    tags: [['plan', 'team']],
    user: { id: 'u-7', email: 'grace@example.com' },
    breadcrumbs: ['SELECT invoices'],
    contexts: { invoice: { id: 'inv-9', amount: 120 } },
  },
  'browser-exception': {
    ...BROWSER,
    level: 'error',
    exception: { type: 'TypeError', value: 'card declined for order ord-7', file: 'app.js', functions: ['HTMLButtonElement.failCheckout', 'checkout', 'chargeCard'] },
    tags: [['checkout.step', 'payment']],
    user: { id: 'u-42', email: 'ada@example.com' },
    breadcrumbs: ['coupon applied', 'payment form submitted'],
    contexts: { cart: { items: 3, total: 129.5 } },
  },
  'browser-message': {
    ...BROWSER,
    level: 'warning',
    message: 'page /cart took 2300 ms',
    logentry: { message: 'page %s took %s ms', params: ['/cart', 2300] },
    exception: { value: 'page /cart took 2300 ms', synthetic: true, file: 'app.js', functions: ['HTMLButtonElement.warnSlowPage'] },
  },
};

const KEY: ProjectKey = { publicKey: FIXTURE_KEY, secretKey: 'f'.repeat(32), projectId: FIXTURE_PROJECT_ID, active: true };
const LIMITS = { maxEventBytes: 1024 * 1024, maxRequestBytes: 20 * 1024 * 1024 };
const RECEIVED = 2_000_000_000;

function ingestRequestOf(fixture: SdkFixture): IngestRequest {
  const url = new URL(fixture.path, 'http://ingest');
  const [, , projectId, endpoint] = url.pathname.split('/');
  return {
    endpoint: endpoint as Endpoint,
    projectId: projectId!,
    body: fixtureBody(fixture),
    contentEncoding: fixture.headers['content-encoding'],
    xSentryAuth: fixture.headers['x-sentry-auth'],
    authorization: fixture.headers.authorization,
    query: Object.fromEntries(url.searchParams),
    received: RECEIVED,
  };
}

/** The envelope header the SDK wrote: its event_id and sent_at. */
function envelopeHeaderOf(fixture: SdkFixture): { event_id: string; sent_at: string } {
  const body = decompress(fixtureBody(fixture), fixture.headers['content-encoding'], LIMITS.maxRequestBytes);
  if (!body.ok) throw new Error(`${fixture.name}: ${body.rejection.reason}`);
  const envelope = parseEnvelope(body.value);
  if (!envelope.ok) throw new Error(`${fixture.name}: ${envelope.rejection.reason}`);
  return envelope.value.headers as { event_id: string; sent_at: string };
}

const fixtures = loadSdkFixtures();

describe('golden SDK payloads', () => {
  it('cover every captured SDK and case, each with its expectations', () => {
    expect(fixtures.map((fixture) => fixture.name).sort()).toEqual(Object.keys(GOLDEN).sort());
  });

  describe.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (name, fixture) => {
    const golden = GOLDEN[name]!;
    const result = runIngest(ingestRequestOf(fixture), (publicKey) => (publicKey === KEY.publicKey ? KEY : undefined), LIMITS);
    if (!result.ok) throw new Error(`${name} was refused: ${JSON.stringify(result.rejection)}`);
    const [event] = result.value.events as [NormalizedEvent];
    const header = envelopeHeaderOf(fixture);

    it('is accepted as one event under the id the SDK chose, sent at the time it says', () => {
      expect(result.value.projectKey).toBe(KEY);
      expect(result.value.events).toHaveLength(1);
      expect(event.event_id).toBe(header.event_id);
      expect(result.value.answerId).toBe(header.event_id);
      expect(event.received).toBe(RECEIVED);
      expect(Math.abs(event.timestamp - Date.parse(header.sent_at) / 1000)).toBeLessThan(5);
    });

    it('keeps platform, level, release, environment and the SDK', () => {
      expect(event.platform).toBe(golden.platform);
      expect(event.level).toBe(golden.level);
      expect(event.release).toBe(golden.release);
      expect(event.environment).toBe('golden');
      expect(event.sdk?.name).toBe(golden.sdk);
      expect(fixture.sdk).toBe(`${golden.sdk}/${event.sdk?.version}`);
      if (golden.platform !== 'javascript') expect(event.server_name).toBe('golden-host');
      expect(event.logger).toBe(golden.logger);
    });

    it('keeps the exception: type, value and in-app frames', () => {
      const exception = event.exception?.values.at(-1);
      if (!golden.exception) return expect(event.exception).toBeUndefined();
      expect(exception?.type).toBe(golden.exception.type);
      expect(exception?.value).toBe(golden.exception.value);
      expect(exception?.mechanism).toMatchObject({ handled: true, ...(golden.exception.synthetic ? { synthetic: true } : {}) });
      // The Python SDK leaves in_app unset on application frames; library frames say false.
      const inApp = (exception?.stacktrace?.frames ?? []).filter((frame) => frame.in_app !== false);
      const innermost = inApp.slice(-golden.exception.functions.length);
      expect(innermost.map((frame) => frame.function)).toEqual(golden.exception.functions);
      for (const frame of innermost) {
        expect(frame.filename?.endsWith(golden.exception.file)).toBe(true);
        expect(frame.lineno).toBeGreaterThan(0);
      }
    });

    it('keeps the message and its logentry with params', () => {
      expect(event.message).toBe(golden.message);
      if (golden.logentry) expect(event.logentry).toMatchObject({ ...golden.logentry, formatted: golden.message });
      else expect(event.logentry).toBeUndefined();
    });

    it('keeps tags, user, breadcrumbs, contexts and fingerprint', () => {
      expect(event.tags).toEqual(golden.tags ?? []);
      expect(event.user).toEqual(golden.user);
      expect((event.breadcrumbs?.values ?? []).map((crumb) => crumb.message)).toEqual(golden.breadcrumbs ?? []);
      expect(event.contexts).toMatchObject({ ...golden.contexts, trace: { trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      expect(event.fingerprint).toEqual(golden.fingerprint);
    });
  });
});
