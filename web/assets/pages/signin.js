// pages/signin.js: the sign-in form (email, password, and a one-time code
// when the server has TOTP). Errors never say which of email or password
// was wrong: the server's message is shown as it is.
import { h, replace } from '../dom.js';
import { api, setCsrfToken } from '../api.js';
import { session, server, setMe, loadMe } from '../state.js';
import { navigate, safeNext } from '../router.js';
import { field, input, alertBox, messageOf, withBusy } from '../ui.js';

// Why a single sign-on came back here (the callback's sso_error=...).
const SSO_ERRORS = {
  provider_error: 'The identity provider did not sign you in.',
  provider_unavailable: 'The identity provider cannot be reached right now. Try again later.',
  state_expired: 'The sign-in took too long. Start again.',
  state_used: 'That sign-in link was already used. Start again.',
  email_not_verified: 'Your identity provider has not verified your email address.',
  no_email: 'Your identity provider did not share an email address.',
  user_disabled: 'This account is disabled. Ask an administrator.',
  provisioning_disabled: 'There is no account for you here yet. Ask an administrator.',
  account_conflict: 'An account with your email signs in another way. Ask an administrator.',
};

export default async function signinPage(ctx) {
  const next = safeNext(ctx.query.get('next'));
  const notice = session.notice;
  session.notice = null;

  const errorArea = h('div', { class: 'form-error' }); // alerts inside are role=alert
  const email = input({ name: 'email', type: 'email', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'none', value: ctx.query.get('email') || '' });
  const password = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const totp = server.features.totp
    ? input({ name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6,8}', maxlength: '8' })
    : null;
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, 'Sign in');
  const form = h('form', { class: 'form', novalidate: true },
    errorArea,
    field('Email', email),
    field('Password', password),
    totp ? field('One-time code', totp, 'The 6-digit code from your authenticator app, if you set one up.') : null,
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorArea);
    if (!email.value.trim() || !password.value) {
      replace(errorArea, alertBox('error', 'Enter your email and password.'));
      (email.value.trim() ? password : email).focus();
      return;
    }
    const body = { email: email.value.trim(), password: password.value };
    if (totp && totp.value.trim()) body.totp = totp.value.trim();
    try {
      await withBusy(submit, async () => {
        const reply = await api.post('/session', body, { quiet: true });
        setCsrfToken(reply.csrf_token);
        setMe({ user: reply.user, must_change_password: reply.must_change_password });
        // /me adds the address the server sees; a failure here is not fatal.
        try { await loadMe(); } catch { /* keep what the sign-in reply said */ }
      });
    } catch (error) {
      password.value = '';
      replace(errorArea, alertBox('error', messageOf(error)));
      password.focus();
      return;
    }
    if (session.user.must_change_password) navigate(`/password?next=${encodeURIComponent(next)}`, { replace: true });
    else navigate(next, { replace: true });
  });

  const ssoError = ctx.query.get('sso_error');
  const ssoAlert = ssoError
    ? alertBox('error', SSO_ERRORS[ssoError] || `Single sign-on failed (${ssoError}). Start again.`)
    : null;
  const sso = (server.features.sso || []).map((p) => h('a', {
    class: 'btn btn--ghost btn--block', 'data-sso': p.name,
    href: `${p.login_url}?return_to=${encodeURIComponent(next)}`,
  }, `Sign in with ${p.display_name}`));
  // local_passwords: "all", "admins" (a break-glass form for admins) or "none".
  const passwords = server.features.local_passwords || 'all';
  let passwordPart = form;
  if (passwords === 'none' && sso.length) passwordPart = null;
  else if (passwords === 'admins' && sso.length) {
    passwordPart = h('details', { class: 'auth-card__foot' },
      h('summary', {}, 'Administrator sign-in with a password'), form);
  }

  const card = h('section', { class: 'auth-card card', 'aria-labelledby': 'signin-title' },
    h('img', { src: '/assets/favicon.svg', alt: '', width: '48', height: '48', class: 'auth-card__logo' }),
    h('h1', { id: 'signin-title', class: 'auth-card__title', tabindex: '-1' }, `Sign in to ${server.name}`),
    h('p', { class: 'auth-card__lead' }, 'Open temporary network access for the address you are connecting from.'),
    notice ? alertBox('info', notice) : null,
    ssoAlert,
    sso.length ? h('div', { class: 'form' }, ...sso) : null,
    passwordPart);
  replace(ctx.view, h('div', { class: 'auth-page' }, card));
  if (passwordPart === form) email.focus();
  else if (sso.length) sso[0].focus();
}
