// state.js: what the portal knows about this session (the signed-in user,
// the address the server sees) and about the server (name, features,
// backends). Filled at start-up from GET /api/v1/info and GET /api/v1/me.
import { api, setCsrfToken, ApiError } from './api.js';

export const session = {
  user: null,          // {email, role, groups, must_change_password, ...} or null
  clientIp: null,      // the address the server attributes our requests to
  notice: null,        // one-shot message for the sign-in page (e.g. "session ended")
};

export const server = {
  name: 'Pinhole',
  features: { approval: false, schedule: false, invitations: false, totp: false, sso: [], local_passwords: 'all' },
  backends: ['nftables'],
};

export const isAdmin = () => session.user?.role === 'admin';
export const mustChangePassword = () => Boolean(session.user?.must_change_password);

/** GET /api/v1/info; an older or unreachable server leaves the defaults. */
export async function loadInfo() {
  try {
    const info = await api.get('/info', { quiet: true });
    if (info?.name) server.name = info.name;
    if (info?.features) Object.assign(server.features, info.features);
    if (Array.isArray(info?.backends) && info.backends.length) server.backends = info.backends;
  } catch {
    // Keep the defaults: every optional feature stays hidden.
  }
}

/** GET /api/v1/me. Returns the user, or null when not signed in. */
export async function loadMe() {
  try {
    const me = await api.get('/me', { quiet: true });
    setMe(me);
    return session.user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      clearSession();
      return null;
    }
    throw e;
  }
}

export function setMe(me) {
  session.user = { ...me.user };
  if (typeof me.must_change_password === 'boolean') session.user.must_change_password = me.must_change_password;
  if (me.client_ip) session.clientIp = me.client_ip;
  if (me.csrf_token) setCsrfToken(me.csrf_token);
}

export function clearSession() {
  session.user = null;
  setCsrfToken(null);
}
