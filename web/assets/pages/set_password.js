// pages/set_password.js: the link in a welcome email that carries no
// password (/set-password/<token>): choose a password, then sign in.
import { h, replace } from '../dom.js';
import { api, seg } from '../api.js';
import { field, input, alertBox, messageOf, withBusy, loading, timeEl } from '../ui.js';
import { linkCard, showLinkProblem } from './link_common.js';

const MIN_LENGTH = 10;

export default async function setPasswordPage(ctx) {
  const [token] = ctx.params;
  const parts = linkCard(ctx, 'Choose your password');
  replace(parts.body, loading('Checking the link…'));
  let link;
  try {
    link = await api.get(`/password-links/${seg(token)}`, { quiet: true });
  } catch (error) {
    if (ctx.isCurrent()) showLinkProblem(parts, error, { what: 'password link', help: 'Ask an administrator to send a new one or to set a password for you.' });
    return;
  }
  if (!ctx.isCurrent()) return;

  const errorArea = h('div', { class: 'form-error' });
  const fresh = input({ name: 'new', type: 'password', autocomplete: 'new-password', required: true, minlength: String(MIN_LENGTH) });
  const again = input({ name: 'again', type: 'password', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, 'Set password');
  const form = h('form', { class: 'form', novalidate: true },
    errorArea,
    // For password managers: which account this password belongs to.
    h('input', { type: 'email', name: 'username', autocomplete: 'username', value: link.email || '', hidden: true, readonly: true }),
    field('New password', fresh, `At least ${MIN_LENGTH} characters. A few unrelated words make a good one.`),
    field('New password, again', again),
    submit);
  replace(parts.body,
    h('p', { class: 'auth-card__lead' }, 'For ', h('strong', null, link.email || 'your account'), '. Then sign in with it.'),
    form,
    link.link_expires_at ? h('p', { class: 'muted link-card__small' }, 'This link works once, until ', timeEl(link.link_expires_at), '.') : null);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorArea);
    let problem = null;
    if (fresh.value.length < MIN_LENGTH) problem = [fresh, `The password needs at least ${MIN_LENGTH} characters.`];
    else if (fresh.value !== again.value) problem = [again, 'The two passwords do not match.'];
    if (problem) {
      replace(errorArea, alertBox('error', problem[1]));
      problem[0].focus();
      return;
    }
    try {
      await withBusy(submit, () => api.post(`/password-links/${seg(token)}`, { new: fresh.value }, { quiet: true, csrf: false }));
    } catch (error) {
      if (!ctx.isCurrent()) return;
      if (error.status === 404 || error.status === 410) {
        showLinkProblem(parts, error, { what: 'password link', help: 'Ask an administrator to send a new one.' });
      } else {
        replace(errorArea, alertBox('error', messageOf(error)));
      }
      return;
    }
    if (!ctx.isCurrent()) return;
    replace(parts.heading, 'Password set');
    const next = link.email ? `/signin?email=${encodeURIComponent(link.email)}` : '/signin';
    replace(parts.body,
      alertBox('success', h('p', { class: 'alert__title', dataset: { result: 'password-set' } }, 'Your password is set'),
        h('p', null, 'Sign in with ', h('strong', null, link.email || 'your email'), ' and the password you just chose.')),
      h('p', null, h('a', { href: next, class: 'btn btn--primary btn--block' }, 'Go to sign-in')));
    parts.heading.focus({ preventScroll: true });
  });
  fresh.focus();
}
