import http from 'node:http';
import https from 'node:https';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Pool } from '@trapline/runtime';
import { ACTION, type Action, type AlertDelivery } from '@trapline/schemas';
import { emailMessage, serviceHookRequest, slackMessage } from '../domain/messages.ts';
import { readEachTime, readRecipients, type ReadOnce } from './recipients.ts';

// Carries one delivery out: a signed POST to a service hook, a POST to a Slack incoming webhook,
// or an e-mail over SMTP. Every attempt is bounded by the timeout. What happened is a value:
// sent, not sent (nothing to send to, and never will be), or failed (permanent or worth a retry).

export type SendOutcome =
  | { status: 'sent'; target: string }
  | { status: 'not_sent'; target: string; reason: string }
  | { status: 'failed'; target: string; permanent: boolean; error: string };

export interface SenderSettings {
  timeoutMs: number;
  smtpUrl: string | undefined;
  emailFrom: string;
}

/** A 4xx other than 408 (timeout) and 429 (slow down) will answer the same next time. */
const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** A URL without its path and query (a Slack webhook's path is its secret), for the delivery log. */
const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

// node:http rather than fetch: fetch's streams and WebIDL checks cost about as much CPU per
// webhook as deciding a hundred events (bench/results/2026-12-03-alerts-cpu.md). Connections are
// kept alive between sends to the same receiver.
interface Agents {
  'http:': http.Agent;
  'https:': https.Agent;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** One POST; resolves with the status once the answer is read (or broken off), rejects if there is none. */
function postOnce(agents: Agents, url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    const protocol = parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.protocol : undefined;
    if (!protocol) {
      reject(new Error(`unsupported URL scheme ${parsed.protocol}`));
      return;
    }
    const client = protocol === 'https:' ? https : http;
    let status: number | undefined;
    const done = () => {
      clearTimeout(timer);
      if (status !== undefined) resolve(status);
    };
    const request = client.request(parsed, { method: 'POST', agent: agents[protocol], headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (response) => {
      status = response.statusCode ?? 0;
      response.on('error', done).on('close', done).resume();
    });
    // The answer's status counts even if its body is cut off by the timeout (as fetch's arrayBuffer, whose failure was ignored).
    const timer = setTimeout(() => request.destroy(new TimeoutError('timed out')), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      if (status === undefined) reject(Object.assign(error, { reusedSocket: request.reusedSocket }));
      else resolve(status);
    });
    request.end(body);
  });
}

/**
 * A kept-alive connection the receiver closed while it was idle fails the next request on it
 * before any answer (ECONNRESET, EPIPE): that request is sent once more, on a new connection.
 */
function reusedAndClosed(error: unknown): boolean {
  const { code, reusedSocket } = error as { code?: string; reusedSocket?: boolean };
  return reusedSocket === true && (code === 'ECONNRESET' || code === 'EPIPE');
}

async function post(agents: Agents, url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendOutcome> {
  const target = originOf(url);
  try {
    const status = await postOnce(agents, url, body, headers, timeoutMs).catch((error: unknown) => {
      if (reusedAndClosed(error)) return postOnce(agents, url, body, headers, timeoutMs);
      throw error;
    });
    if (status >= 200 && status < 300) return { status: 'sent', target };
    return { status: 'failed', target, permanent: isPermanent(status), error: `${target} answered ${status}` };
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { status: 'failed', target, permanent: false, error: timedOut ? `${target} did not answer within ${timeoutMs} ms` : `${target}: ${(error as Error).message}` };
  }
}

export class Senders {
  private readonly mailer: Transporter | undefined;
  private readonly agents: Agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

  constructor(
    private readonly pool: Pool,
    private readonly settings: SenderSettings,
    private readonly now: () => number = Date.now,
  ) {
    const timeouts = { connectionTimeout: settings.timeoutMs, greetingTimeout: settings.timeoutMs, socketTimeout: settings.timeoutMs };
    // The URL's settings (host, port, auth, secure, ?tls options) with the bounded timeouts over them.
    this.mailer = settings.smtpUrl ? nodemailer.createTransport({ url: settings.smtpUrl, ...timeouts } as Parameters<typeof nodemailer.createTransport>[0]) : undefined;
  }

  /**
   * The deliveries of one chunk, sent at once. What they read (a hook's URL and secret, a project's
   * members) is read once for them all: the alerts of one issue go to the same hook and members,
   * and each read costs as much CPU as deciding a few dozen events.
   */
  sendAll(deliveries: AlertDelivery[]): Promise<SendOutcome[]> {
    const made = new Map<string, Promise<unknown>>();
    const once: ReadOnce = <T>(key: string, read: () => Promise<T>) => {
      let result = made.get(key) as Promise<T> | undefined;
      if (!result) made.set(key, (result = read()));
      return result;
    };
    return Promise.all(deliveries.map((delivery) => this.send(delivery, once)));
  }

  async send(delivery: AlertDelivery, once: ReadOnce = readEachTime): Promise<SendOutcome> {
    const action = JSON.parse(delivery.action) as Action & { hookId?: string };
    if (action.id === ACTION.slack) return post(this.agents, action.webhookUrl, slackMessage(delivery), { 'Content-Type': 'application/json' }, this.settings.timeoutMs);
    if (action.id === ACTION.service) return this.sendHook(delivery, action.hookId ?? '', once);
    return this.sendEmail(delivery, action, once);
  }

  private async sendHook(delivery: AlertDelivery, hookId: string, once: ReadOnce): Promise<SendOutcome> {
    const result = await once(`hook/${delivery.projectId}/${hookId}`, () => this.pool.query<{ url: string; secret: string; status: string }>('SELECT url, secret, status FROM service_hooks WHERE hook_id = $1 AND project_id = $2', [hookId, delivery.projectId]));
    const hook = result.rows[0];
    if (!hook || hook.status !== 'active') return { status: 'not_sent', target: `hook ${hookId}`, reason: 'the service hook was removed' };
    const request = serviceHookRequest(delivery, { hookId, secret: hook.secret }, this.now());
    return post(this.agents, hook.url, request.body, request.headers, this.settings.timeoutMs);
  }

  private async sendEmail(delivery: AlertDelivery, action: Extract<Action, { id: typeof ACTION.email }>, once: ReadOnce): Promise<SendOutcome> {
    const recipients = await readRecipients(this.pool, delivery.projectId, action, once);
    if ('none' in recipients) return { status: 'not_sent', target: action.targetType, reason: recipients.none };
    const { to } = recipients;
    const target = to.join(', ');
    if (!this.mailer) return { status: 'not_sent', target, reason: 'no SMTP server is configured (SMTP_URL)' };
    try {
      await this.mailer.sendMail({ from: this.settings.emailFrom, to, ...emailMessage(delivery), headers: { 'X-Trapline-Delivery': delivery.deliveryId } });
      return { status: 'sent', target };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      // SMTP 5xx replies are permanent refusals (no such mailbox); 4xx and network errors pass.
      return { status: 'failed', target, permanent: code !== undefined && code >= 500, error: `SMTP: ${(error as Error).message}` };
    }
  }

  close(): void {
    this.mailer?.close();
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
