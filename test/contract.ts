import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// Trapline's /api/0/ answers held to Sentry's published OpenAPI description (the response
// schemas copied into fixtures/sentry-openapi/responses.json). An operation the description
// covers must answer with a status it lists, and a 2xx body must validate against its schema.

interface Fixture {
  source: string;
  operations: Record<string, Record<string, unknown>>;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/sentry-openapi/responses.json', import.meta.url), 'utf8')) as Fixture;

/**
 * Trapline's routes that Sentry's description does not cover (or Trapline's own extensions), as
 * `METHOD path` of Trapline's served OpenAPI document. Documented in docs/api.md.
 */
export const TRAPLINE_OWN = new Set([
  'GET /api/0/',
  'GET /api/0/projects/',
  'GET /api/0/deletions/{transactionId}/',
  'GET /api/0/organizations/{org}/audit-logs/',
  'GET /api/0/issues/{id}/tags/',
  'GET /api/0/organizations/{org}/issues/{id}/tags/',
  'DELETE /api/0/projects/{org}/{project}/events/{eventId}/',
  'GET /api/0/internal/health/',
  // Accounts: sessions, the signed-in user, invitations, user tokens.
  'POST /api/0/auth/login/',
  'GET /api/0/auth/',
  'DELETE /api/0/auth/',
  'GET /api/0/users/me/',
  'GET /api/0/accept-invite/{memberId}/{token}/',
  'POST /api/0/accept-invite/{memberId}/{token}/',
  'GET /api/0/api-tokens/',
  'POST /api/0/api-tokens/',
  'DELETE /api/0/api-tokens/',
  'DELETE /api/0/api-tokens/{tokenId}/',
  // Releases: the project-scoped forms the description has only for lists and commits, adding a repository, sentry-cli's chunk upload.
  'POST /api/0/projects/{org}/{project}/releases/',
  'GET /api/0/projects/{org}/{project}/releases/{version}/',
  'PUT /api/0/projects/{org}/{project}/releases/{version}/',
  'DELETE /api/0/projects/{org}/{project}/releases/{version}/',
  'GET /api/0/projects/{org}/{project}/releases/{version}/deploys/',
  'POST /api/0/projects/{org}/{project}/releases/{version}/deploys/',
  'POST /api/0/organizations/{org}/repos/',
  'GET /api/0/organizations/{org}/chunk-upload/',
  'POST /api/0/organizations/{org}/chunk-upload/',
  'POST /api/0/organizations/{org}/artifactbundle/assemble/',
  // Alerts: issue alert rules (the description has none of Sentry's rule endpoints), alert addresses, the delivery log.
  'GET /api/0/projects/{org}/{project}/rules/',
  'POST /api/0/projects/{org}/{project}/rules/',
  'GET /api/0/projects/{org}/{project}/rules/{ruleId}/',
  'PUT /api/0/projects/{org}/{project}/rules/{ruleId}/',
  'DELETE /api/0/projects/{org}/{project}/rules/{ruleId}/',
  'GET /api/0/projects/{org}/{project}/alert-emails/',
  'PUT /api/0/projects/{org}/{project}/alert-emails/',
  'GET /api/0/projects/{org}/{project}/alert-deliveries/',
]);

/** Older paths that scripts and sentry-cli still call: they answer as the organization-scoped ones. */
const ALIASES: [RegExp, string][] = [[/^\/api\/0\/issues\//, '/api/0/organizations/{organization_id_or_slug}/issues/']];

const templates = Object.keys(fixture.operations).map((operation) => {
  const [method, path] = operation.split(' ') as [string, string];
  const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return { operation, method, path, pattern, parameters: (path.match(/\{/g) ?? []).length };
});

/** The description's operation (`GET /api/0/…/{…}/`) for a concrete path or a route template, if any. */
export function sentryOperation(method: string, path: string): string | undefined {
  const bare = path.split('?')[0]!;
  const aliased = ALIASES.reduce((current, [from, to]) => current.replace(from, to), bare);
  return templates
    .filter((template) => template.method === method.toUpperCase() && template.pattern.test(aliased))
    .sort((a, b) => a.parameters - b.parameters)[0]?.operation;
}

/**
 * Fields the description marks required that Sentry itself sends only when asked with
 * `?expand=inbox` / `?expand=owners` (and then as data Trapline does not have: inbox reasons,
 * ownership rules, with dates no neutral value can fill). Not required here.
 */
const EXPAND_ONLY: Record<string, string[]> = {
  'GET /api/0/organizations/{organization_id_or_slug}/issues/': ['inbox', 'owners'],
};

function withoutExpandOnly(operation: string, schema: unknown): unknown {
  const fields = EXPAND_ONLY[operation];
  const items = (schema as { items?: { required?: string[] } }).items;
  if (!fields || !items?.required) return schema;
  return { ...(schema as object), items: { ...items, required: items.required.filter((field) => !fields.includes(field)) } };
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addFormat('double', true);
const validators = new Map<string, ValidateFunction>();

function validatorFor(operation: string, status: string, schema: unknown): ValidateFunction {
  const key = `${operation} ${status}`;
  let validate = validators.get(key);
  if (!validate) validators.set(key, (validate = ajv.compile(withoutExpandOnly(operation, schema) as object)));
  return validate;
}

/**
 * What is wrong with an answer by Sentry's description: [] when it holds. Sentry authenticates
 * every endpoint, so 401 is allowed even where an operation does not list it; an error answer must
 * be Sentry's `{"detail": "…"}`.
 */
export function contractProblems(operation: string, status: number, body: unknown): string[] {
  const responses = fixture.operations[operation];
  if (!responses) return [`${operation} is not in the description`];
  if (!(String(status) in responses) && status !== 401) return [`status ${status} is not one of ${Object.keys(responses).join(', ')}`];
  if (status >= 400) return typeof (body as { detail?: unknown })?.detail === 'string' ? [] : ['an error answer without a string detail'];
  const schema = responses[String(status)];
  // A status the description gives no body may carry Trapline's own (DELETE's transactionId); 204 none.
  if (schema === null || schema === undefined) return status !== 204 || body === undefined ? [] : ['a 204 with a body'];
  const validate = validatorFor(operation, String(status), schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).slice(0, 20).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${error.params ? JSON.stringify(error.params) : ''}`.trim());
}

export const CONTRACT_SOURCE = fixture.source;
