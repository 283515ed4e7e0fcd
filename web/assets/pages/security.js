// pages/security.js: the signed-in user's own security settings: the TOTP
// second factor (enrolment with a QR code, recovery codes, removal) and the
// API tokens and access keys scripts use. Secrets are shown once, here, and
// never again.
import { h, replace } from '../dom.js';
import { api, request, seg } from '../api.js';
import { session } from '../state.js';
import {
  alertBox, copyButton, field, input, loadInto, messageOf, pageHeader, select, table, timeEl, toast, withBusy,
} from '../ui.js';

// The server renders the QR code as SVG; it is parsed as an SVG document (no
// scripts run from it) and adopted into the page.
function qrImage(svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg') return null;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code for your authenticator app');
  return document.importNode(svg, true);
}

function codeInput(name = 'code') {
  return input({ name, inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', required: true });
}

function recoveryCodesBox(codes) {
  return h('div', { class: 'card' },
    alertBox('warning', 'Keep these recovery codes somewhere safe. Each works once, instead of a code from the app. They are shown only now.'),
    h('pre', { class: 'code-block' }, codes.join('\n')),
    copyButton(codes.join('\n'), 'Copy codes'));
}

function mfaSection(ctx, container, status) {
  const reload = () => loadInto(ctx, container, () => api.get('/me/mfa'), (s) => mfaSection(ctx, container, s));
  const errorArea = h('div', { class: 'form-error' });
  if (!status.enabled) {
    const start = h('button', { type: 'button', class: 'btn btn--primary' }, 'Set up an authenticator app');
    const body = h('div', null, errorArea,
      status.required ? alertBox('info', 'An administrator requires a second factor for your account.') : null,
      h('p', null, 'Sign-in will ask for a 6-digit code from an app such as Aegis, Google Authenticator or 1Password.'),
      start);
    start.addEventListener('click', async () => {
      let enrol;
      try {
        enrol = await withBusy(start, () => api.post('/me/mfa/totp', {}, { quiet: true }));
      } catch (error) {
        replace(errorArea, alertBox('error', messageOf(error)));
        return;
      }
      const code = codeInput();
      const confirm = h('button', { type: 'submit', class: 'btn btn--primary' }, 'Turn on');
      const form = h('form', { class: 'form', novalidate: true }, errorArea,
        h('p', null, 'Scan this code with the app, or enter the key by hand, then type the code it shows.'),
        h('div', { class: 'qr' }, qrImage(enrol.qr_svg)),
        field('Key', h('code', { class: 'secret' }, enrol.secret)),
        h('p', null, copyButton(enrol.otpauth_uri, 'Copy otpauth:// link')),
        field('Code from the app', code),
        confirm);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          const done = await withBusy(confirm, () => api.post('/me/mfa/totp/confirm', { code: code.value.trim() }, { quiet: true }));
          toast('Two-step sign-in is on.');
          replace(container, recoveryCodesBox(done.recovery_codes),
            h('button', { type: 'button', class: 'btn', onclick: reload }, 'Done'));
        } catch (error) {
          replace(errorArea, alertBox('error', messageOf(error)));
          code.focus();
        }
      });
      replace(body, form);
      code.focus();
    });
    return body;
  }
  const code = codeInput();
  const regenerate = h('button', { type: 'button', class: 'btn' }, 'New recovery codes');
  const remove = h('button', { type: 'button', class: 'btn btn--danger', disabled: status.required }, 'Turn off');
  const out = h('div');
  regenerate.addEventListener('click', async () => {
    try {
      const r = await withBusy(regenerate, () => api.post('/me/mfa/recovery-codes', { code: code.value.trim() }, { quiet: true }));
      replace(out, recoveryCodesBox(r.recovery_codes));
    } catch (error) {
      replace(errorArea, alertBox('error', messageOf(error)));
    }
  });
  remove.addEventListener('click', async () => {
    try {
      await withBusy(remove, () => request('DELETE', '/me/mfa', { code: code.value.trim() }, { quiet: true }));
      toast('Two-step sign-in is off.');
      reload();
    } catch (error) {
      replace(errorArea, alertBox('error', messageOf(error)));
    }
  });
  return h('div', null, errorArea,
    alertBox('success', `Two-step sign-in is on. ${status.recovery_codes_left} recovery code(s) left.`),
    status.required ? h('p', { class: 'muted' }, 'An administrator requires it for your account.') : null,
    field('Current code from the app', code, 'Needed to change or remove the second factor.'),
    h('div', { class: 'page-actions' }, regenerate, remove),
    out);
}

function credentialsSection(ctx, container, secretArea, tokens, keys) {
  const reload = () => loadCredentials(ctx, container, secretArea);
  const rows = [...tokens.items, ...keys.items];
  const revoke = (c) => async (event) => {
    const path = c.kind === 'access_key' ? '/me/access-keys/' : '/me/tokens/';
    try {
      await withBusy(event.currentTarget, () => api.del(path + seg(c.id), { quiet: true }));
      toast(`Revoked “${c.name}”.`);
      reload();
    } catch (error) {
      toast(messageOf(error), 'error');
    }
  };
  const list = rows.length
    ? table([
      { label: 'Name', cell: (c) => c.name },
      { label: 'Kind', cell: (c) => (c.kind === 'access_key' ? `Access key ${c.access_key_id}` : 'API token') },
      { label: 'Expires', cell: (c) => (c.expires_at ? timeEl(c.expires_at) : 'never') },
      { label: 'Last used', cell: (c) => (c.last_used_at ? h('span', null, timeEl(c.last_used_at), ` from ${c.last_used_ip}`) : 'never') },
      { label: '', cell: (c) => h('button', { type: 'button', class: 'btn btn--small btn--danger', 'data-action': 'revoke', onclick: revoke(c) }, 'Revoke') },
    ], rows, { caption: 'Your API tokens and access keys', rowKey: (c) => `${c.kind}-${c.id}` })
    : h('p', { class: 'muted' }, 'You have no API tokens or access keys.');

  const errorArea = h('div', { class: 'form-error' });
  const name = input({ name: 'name', maxlength: '64', required: true, placeholder: 'laptop script' });
  const kind = select({ name: 'kind' }, [['api_token', 'API token (Bearer)'], ['access_key', 'Access key (AWS SigV4)']], 'api_token');
  const expires = input({ name: 'expires_in', placeholder: '90d' });
  const create = h('button', { type: 'submit', class: 'btn btn--primary' }, 'Create');
  const form = h('form', { class: 'form', novalidate: true }, errorArea,
    field('Name', name), field('Kind', kind), field('Expires in', expires, 'For example 30d; empty for the default.'),
    create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim() };
    if (expires.value.trim()) body.expires_in = expires.value.trim();
    const path = kind.value === 'access_key' ? '/me/access-keys' : '/me/tokens';
    try {
      const made = await withBusy(create, () => api.post(path, body, { quiet: true }));
      const secret = made.token || `${made.access_key_id}:${made.secret_access_key}`;
      replace(secretArea, h('div', { class: 'card' },
        alertBox('warning', `Copy “${made.name}” now: it is shown only once.`),
        h('code', { class: 'secret' }, secret), copyButton(secret)));
      reload();
    } catch (error) {
      replace(errorArea, alertBox('error', messageOf(error)));
    }
  });
  return h('div', null, list, form);
}

function loadCredentials(ctx, container, secretArea) {
  return loadInto(ctx, container, () => Promise.all([api.get('/me/tokens'), api.get('/me/access-keys')]),
    ([tokens, keys]) => credentialsSection(ctx, container, secretArea, tokens, keys));
}

export default async function securityPage(ctx) {
  const mfa = h('div');
  const credentials = h('div');
  const secretArea = h('div');
  replace(ctx.view,
    pageHeader('Security', `Signed in as ${session.user?.email || ''}`),
    h('section', { class: 'card', 'aria-labelledby': 'mfa-title' },
      h('h2', { id: 'mfa-title' }, 'Two-step sign-in'), mfa),
    h('section', { class: 'card', 'aria-labelledby': 'cred-title' },
      h('h2', { id: 'cred-title' }, 'API tokens and access keys'),
      h('p', { class: 'muted' }, 'For scripts: a token goes in "Authorization: Bearer", an access key signs requests as AWS SigV4 does (curl --aws-sigv4 "aws:amz:REGION:execute-api").'),
      secretArea, credentials));
  loadInto(ctx, mfa, () => api.get('/me/mfa'), (status) => mfaSection(ctx, mfa, status));
  loadCredentials(ctx, credentials, secretArea);
}
