import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// `npm start` supervises what it starts (the services set with `supervise`, as `trapline start`
// makes it): a service that dies comes back and the restart is printed, a crash loop says so with
// its log's last lines, and while the projector is down the API's system health says that
// acknowledged events are not becoming visible.

let trapline: RunningTrapline;
const printed: string[] = [];
let publicKey: string;

beforeAll(async () => {
  trapline = await startTrapline({}, { supervise: (line) => printed.push(line) });
  publicKey = new URL(trapline.defaults.dsn).username;
});

afterAll(async () => {
  await trapline?.dispose();
});

const send = async (message: string) => {
  const response = await fetch(`${trapline.publicUrl}/api/1/store/?sentry_key=${publicKey}`, { method: 'POST', body: JSON.stringify({ message }) });
  expect(response.status).toBe(200);
};
const stored = async (message: string) => ((await trapline.pool.query('SELECT 1 FROM events WHERE payload->>\'message\' = $1', [message])).rowCount === 1 ? true : undefined);
const health = async () => (await (await fetch(`${trapline.publicUrl}/api/0/internal/health/`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } })).json()) as { healthy: { projector: boolean }; problems: { id: string; message: string }[] };

describe('npm start\'s supervision', () => {
  it('restarts a projector killed with SIGKILL, says so, and what was acknowledged meanwhile appears', async () => {
    const before = trapline.services.services.get('projector')!.process;
    before.kill('SIGKILL');
    const message = `after the kill ${randomBytes(4).toString('hex')}`;
    await send(message);
    await eventually(async () => (printed.some((line) => /^projector was killed by SIGKILL after [\d.]+ s; restarting in 1 s \(restart 1 in a row\)$/.test(line)) ? true : undefined), 'the restart to be printed');
    await eventually(async () => {
      const now = trapline.services.services.get('projector');
      return now && now.process !== before && now.process.exitCode === null && (await fetch(now.healthUrl)).ok ? true : undefined;
    }, 'a new projector to answer its health check', 90000);
    await eventually(() => stored(message), 'the event acknowledged while the projector was down', 90000);
    expect((await health()).healthy.projector).toBe(true);
  });

  it('says a service is in a crash loop, with the last lines of its log', async () => {
    // A second ingest whose port is taken (by Redis, which answers no HTTP) exits at every start.
    const taken = new URL(trapline.config.REDIS_URL).port;
    await expect(trapline.services.startInstance('ingest', 'doomed', { INGEST_PORT: taken })).rejects.toThrow(/exited/);
    const loop = await eventually(async () => printed.find((line) => line.startsWith('ingest.doomed is in a crash loop')), 'the crash loop to be reported', 120000);
    expect(loop).toMatch(/3 exits in a row, each within 60 s of its start/);
    expect(loop).toMatch(/Last lines of .*ingest\.doomed\.log:\n[\s\S]*EADDRINUSE/);
    expect(printed.filter((line) => line.startsWith('ingest.doomed exited with code')).length).toBeGreaterThanOrEqual(3);
    await trapline.services.stop('ingest.doomed');
  }, 150_000);

  it('reports through /api/0/internal/health/ while the projector is down, and clears once it is back', async () => {
    await trapline.services.stop('projector', 'SIGKILL'); // stopped on purpose: not restarted
    const message = `while down ${randomBytes(4).toString('hex')}`;
    await send(message);
    const down = await eventually(async () => {
      const answer = await health();
      return answer.problems.some((problem) => problem.id === 'projector-down') ? answer : undefined;
    }, 'the projector to be reported down', 90000);
    expect(down.healthy.projector).toBe(false);
    expect(down.problems[0]!.message).toMatch(/acknowledged but do not appear \([1-9]\d* records waiting\)/);
    await trapline.services.start('projector');
    await eventually(() => stored(message), 'the waiting event', 90000);
    await eventually(async () => ((await health()).healthy.projector ? true : undefined), 'the projector to be healthy again', 60000);
  }, 240_000);
});
