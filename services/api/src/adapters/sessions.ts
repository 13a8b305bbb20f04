import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from '@trapline/runtime';

// Sign-in sessions and sign-in throttling, in Redis (not domain history, so not on the log).
// Redis holds only the SHA-256 of a session id, so its contents cannot be replayed as cookies.

export interface Session {
  userId: string;
  /** The synchronizer token a cookie-authenticated write must send as X-CSRFToken. */
  csrfToken: string;
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds: number,
  ) {}

  private key = (sessionId: string) => `${this.prefix}:session:${digest(sessionId)}`;

  async create(userId: string): Promise<{ sessionId: string; session: Session }> {
    const sessionId = randomBytes(32).toString('base64url');
    const session = { userId, csrfToken: randomBytes(32).toString('base64url') };
    await this.redis.set(this.key(sessionId), JSON.stringify(session), 'EX', this.ttlSeconds);
    return { sessionId, session };
  }

  async get(sessionId: string): Promise<Session | undefined> {
    const raw = await this.redis.get(this.key(sessionId));
    return raw === null ? undefined : (JSON.parse(raw) as Session);
  }

  async destroy(sessionId: string): Promise<void> {
    await this.redis.del(this.key(sessionId));
  }

  /** One claim per secret (an invitation token): true for the first caller only. */
  async claimOnce(secret: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}:claimed:${digest(secret)}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async release(secret: string): Promise<void> {
    await this.redis.del(`${this.prefix}:claimed:${digest(secret)}`);
  }
}

export interface ThrottleLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

/**
 * Failed sign-ins counted per email and per client address over a window. Past a limit, sign-in is
 * refused for what is left of the window, whatever the password: a guesser learns nothing more.
 */
export class SignInThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: ThrottleLimits,
  ) {}

  private keys = (email: string, address: string) => [`${this.prefix}:signin:email:${digest(email)}`, `${this.prefix}:signin:addr:${digest(address)}`] as const;

  /** Seconds to wait when either count is at its limit; 0 when sign-in may be tried. */
  async retryAfter(email: string, address: string): Promise<number> {
    const [emailKey, addressKey] = this.keys(email, address);
    const result = await this.redis.multi().get(emailKey).ttl(emailKey).get(addressKey).ttl(addressKey).exec();
    const values = (result ?? []).map(([, value]) => value);
    const blocked = (count: unknown, ttl: unknown, limit: number) => (Number(count ?? 0) >= limit ? Math.max(1, Number(ttl)) : 0);
    return Math.max(blocked(values[0], values[1], this.limits.perEmail), blocked(values[2], values[3], this.limits.perAddress));
  }

  /** Counts a failure; answers how many this email has had in the window. */
  async fail(email: string, address: string): Promise<number> {
    const [emailKey, addressKey] = this.keys(email, address);
    const transaction = this.redis.multi();
    for (const key of [emailKey, addressKey]) transaction.incr(key).expire(key, this.limits.windowSeconds, 'NX');
    const result = await transaction.exec();
    return Number(result?.[0]?.[1] ?? 0);
  }

  async succeed(email: string): Promise<void> {
    await this.redis.del(this.keys(email, '')[0]);
  }
}
