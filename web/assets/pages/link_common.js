// pages/link_common.js: the frame of the pages that emailed links open
// (/approve/<token>, /invite/<token>, /set-password/<token>). They are
// public: the token in the path is the credential, so nothing here needs a
// session, and the token is never put anywhere but the API path.
import { h, replace, append } from '../dom.js';
import { messageOf } from '../ui.js';

/** A centred card with a focusable h1; returns {card, body} (body for the content). */
export function linkCard(ctx, title) {
  const heading = h('h1', { class: 'auth-card__title', tabindex: '-1' }, title);
  const body = h('div', { class: 'link-card__body' });
  const card = h('section', { class: 'auth-card link-card card' }, heading, body);
  heading.id = `${ctx.url.pathname.split('/')[1] || 'link'}-title`;
  card.setAttribute('aria-labelledby', heading.id);
  replace(ctx.view, h('div', { class: 'auth-page' }, card));
  return { card, heading, body };
}

const GONE = {
  invalid_link: ['This link is not valid', 'Check that you opened the whole link from the email. Links that were forged or mistyped do not work.'],
  link_used: ['This link was already used', 'Each link works once.'],
  link_expired: ['This link has expired', 'Links from emails work for a limited time only.'],
  already_decided: ['This request was already decided', 'Another administrator approved or denied it, or it was withdrawn or timed out.'],
  invitation_gone: ['This invitation cannot be used any more', null],
};

/**
 * Replaces the card's content with a clear "link does not work" page for a
 * 404/410/403 (with the HTTP status shown), or the server's message for
 * anything else. `what` names the link ("approval link", "invitation").
 */
export function showLinkProblem(parts, error, { what = 'link', help } = {}) {
  const known = GONE[error.code];
  let title;
  let text;
  let detail = null;
  if (known) {
    [title, text] = known;
    // The server's message says which (used, cancelled, expired ...).
    detail = `${capital(messageOf(error))}.`;
  } else if (error.status === 404) {
    [title, text] = [`This ${what} is not valid`, messageOf(error)];
  } else if (error.status === 410) {
    [title, text] = [`This ${what} cannot be used any more`, messageOf(error)];
  } else if (error.status === 403) {
    [title, text] = ['You cannot use this link', messageOf(error)];
  } else {
    [title, text] = ['Something went wrong', messageOf(error)];
  }
  replace(parts.heading, title);
  const codeLine = error.status ? h('p', { class: 'status-page__code' }, `${error.status} · ${error.code}`) : null;
  replace(parts.body,
    h('div', { class: 'alert alert--error', role: 'alert', dataset: { problem: error.code || 'error' } },
      h('p', { class: 'alert__title' }, title),
      detail ? h('p', null, detail) : null,
      text ? h('p', null, text) : null),
    codeLine,
    help ? h('p', { class: 'auth-card__lead link-card__help' }, help) : null);
  parts.heading.focus({ preventScroll: true });
}

function capital(s) {
  const t = String(s || '');
  return t.charAt(0).toUpperCase() + t.slice(1).replace(/\.$/, '');
}

/** A <dl> of label/value pairs; values may be nodes. Empty values are skipped. */
export function facts(pairs) {
  const dl = h('dl', { class: 'limits link-card__facts' });
  for (const [label, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    append(dl, h('div', { class: 'limits__wide' }, h('dt', null, label), h('dd', null, value)));
  }
  return dl;
}
