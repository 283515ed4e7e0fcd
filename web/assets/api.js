// api.js: the one way the portal talks to the server. JSON in and out, the
// HttpOnly session cookie for auth (the bearer token is never stored), and
// the CSRF token, kept only in memory, sent as X-CSRF-Token on every write.

let csrfToken = null;

// A read that gets no answer in this time fails like a lost connection, so
// a page shows an error with "Try again" instead of loading for ever.
const READ_TIMEOUT_MS = 30000;
let onAuthProblem = () => {};

/** An error reply ({"error":{"code","message"}}) or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/**
 * fn(error) runs on 401 (signed out or session expired) and on 403
 * password_change_required, unless the call passes {quiet: true}.
 */
export function setAuthProblemHandler(fn) {
  onAuthProblem = fn;
}

export async function request(method, path, body, opts = {}) {
  try {
    return await send(method, path, body, opts);
  } catch (error) {
    // A network change or a dropped connection aborts what is in flight; a
    // read is safe to repeat once. Writes are not repeated.
    if (method !== 'GET' || error.code !== 'network_error') throw error;
    await new Promise((resolve) => { setTimeout(resolve, 500); });
    return send(method, path, body, opts);
  }
}

async function send(method, path, body, { quiet = false, csrf = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  let text;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: method === 'GET' ? AbortSignal.timeout(READ_TIMEOUT_MS) : undefined,
    });
    text = res.status === 204 ? '' : await res.text();
  } catch (error) {
    if (error?.name === 'TimeoutError') throw new ApiError(0, 'timeout', 'The Pinhole server did not answer in time. Try again in a moment.');
    throw new ApiError(0, 'network_error', 'Cannot reach the Pinhole server. Check your connection and try again.');
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const error = new ApiError(
      res.status,
      err.code || `http_${res.status}`,
      err.message || `The server answered ${res.status} ${res.statusText}.`,
      res.headers.get('Retry-After'),
    );
    const authProblem = res.status === 401 || (res.status === 403 && error.code === 'password_change_required');
    if (authProblem && !quiet) onAuthProblem(error);
    throw error;
  }
  return data;
}

/** Builds "?a=1&b=2" from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body = {}, opts) => request('POST', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

/** Path segment escaping for ids and names in URLs. */
export const seg = (s) => encodeURIComponent(String(s));
