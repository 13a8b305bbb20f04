import { z } from 'zod';
import { MAX_EMAIL, MAX_NAME, MAX_PASSWORD, MIN_PASSWORD } from '../domain/accounts.ts';
import { ROLES } from '../domain/roles.ts';
import { SCOPES } from '../domain/tokens.ts';
import { orgParams } from './schemas.ts';

// Request schemas of the accounts routes (sign-in, members, invitations, user tokens).

const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL characters');
const email = text().min(3).max(MAX_EMAIL);
const password = text().min(MIN_PASSWORD, `must be at least ${MIN_PASSWORD} characters`).max(MAX_PASSWORD);

export const signInBody = z.object({ email, password: text().min(1).max(MAX_PASSWORD) });
export const memberParams = orgParams.extend({ memberId: z.string().regex(/^(me|\d{1,20})$/).describe('member id, or me') });
export const inviteBody = z.looseObject({
  email,
  orgRole: z.enum(ROLES).optional(),
  role: z.enum(ROLES).optional().describe('older name of orgRole'),
});
export const memberUpdateBody = z.looseObject({ orgRole: z.enum(ROLES).optional(), role: z.enum(ROLES).optional() }).refine((body) => (body.orgRole ?? body.role) !== undefined, { message: 'give orgRole' });
export const acceptParams = z.object({ memberId: z.string().regex(/^\d{1,20}$/), token: z.string().regex(/^[0-9a-f]{64}$/) });
export const acceptBody = z.object({ password, name: text().max(MAX_NAME).optional() });
export const userTokenCreateBody = z.object({ scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length), name: text().max(MAX_NAME).optional() });
export const userTokenParams = z.object({ tokenId: z.string().regex(/^\d{1,20}$/) });
export const userTokenDeleteBody = z.object({ tokenId: z.string().regex(/^\d{1,20}$/) }).optional();
