import { randomBytes } from 'node:crypto';
import type { ProjectKeyUpserted } from '@trapline/schemas';

/** A new DSN key as its admin record: 32 hex digits public, 32 secret. */
export function newProjectKey(projectId: number, label: string, now: number): ProjectKeyUpserted {
  return { publicKey: randomBytes(16).toString('hex'), secretKey: randomBytes(16).toString('hex'), projectId, label, active: true, createdAt: now };
}
