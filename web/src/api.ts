import { parseLinkHeader, type PageCursors } from './link-header.ts';

// The Web API from the browser: same origin, either a signed-in user's session cookie (with its
// CSRF token on writes) or an API token from this tab's session storage as a bearer token.
// Refusals carry the API's own `{"detail"}`, which the pages show as it is.

const TOKEN_KEY = 'trapline.token';
const CSRF_KEY = 'trapline.csrf';
const USER_KEY = 'trapline.user';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  csrf: () => sessionStorage.getItem(CSRF_KEY),
  /** The signed-in user's name (empty for an API token). */
  userName: () => sessionStorage.getItem(USER_KEY) ?? '',
  signedIn: () => sessionStorage.getItem(TOKEN_KEY) !== null || sessionStorage.getItem(CSRF_KEY) !== null,
  signIn: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  /** After a password sign-in or an accepted invitation: the cookie is the browser's, the CSRF token ours. */
  signedInAs: (user: { name: string }, csrfToken: string) => {
    sessionStorage.setItem(CSRF_KEY, csrfToken);
    sessionStorage.setItem(USER_KEY, user.name);
  },
  signOut: () => [TOKEN_KEY, CSRF_KEY, USER_KEY].forEach((key) => sessionStorage.removeItem(key)),
};

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

export interface ApiAnswer<T> {
  data: T;
  status: number;
  cursors: PageCursors;
}

/** `path` is below /api/0 (e.g. `/organizations/`). */
export async function api<T>(method: string, path: string, body?: unknown, token = session.token()): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const csrf = session.csrf();
  if (!token && csrf && method !== 'GET') headers['x-csrftoken'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/0${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const detail = (data as { detail?: unknown } | undefined)?.detail;
    throw new ApiFailure(response.status, typeof detail === 'string' ? detail : `${response.status} ${response.statusText}`);
  }
  return { data: data as T, status: response.status, cursors: parseLinkHeader(response.headers.get('link')) };
}

export const get = <T>(path: string) => api<T>('GET', path);
