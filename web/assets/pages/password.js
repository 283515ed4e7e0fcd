// pages/password.js: change the password: forced after an admin set it
// (must_change_password) or by choice. The server keeps this session and
// ends the user's others.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { session } from '../state.js';
import { navigate, safeNext } from '../router.js';
import { field, input, alertBox, messageOf, withBusy, toast } from '../ui.js';
import { signOut } from '../shell.js';

const MIN_LENGTH = 10;

export default async function passwordPage(ctx) {
  const forced = Boolean(session.user?.must_change_password);
  const next = safeNext(ctx.query.get('next'));
  const errorArea = h('div', { class: 'form-error' }); // alerts inside are role=alert
  const current = input({ name: 'current', type: 'password', autocomplete: 'current-password', required: true });
  const fresh = input({ name: 'new', type: 'password', autocomplete: 'new-password', required: true, minlength: String(MIN_LENGTH) });
  const again = input({ name: 'again', type: 'password', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, 'Change password');
  const form = h('form', { class: 'form', novalidate: true },
    errorArea,
    h('input', { type: 'email', name: 'username', autocomplete: 'username', value: session.user?.email || '', hidden: true, readonly: true }),
    field('Current password', current, forced ? 'The password you just signed in with.' : null),
    field('New password', fresh, `At least ${MIN_LENGTH} characters. A few unrelated words make a good one.`),
    field('New password, again', again),
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorArea);
    let problem = null;
    if (!current.value) problem = [current, 'Enter your current password.'];
    else if (fresh.value.length < MIN_LENGTH) problem = [fresh, `The new password needs at least ${MIN_LENGTH} characters.`];
    else if (fresh.value !== again.value) problem = [again, 'The two new passwords do not match.'];
    else if (fresh.value === current.value) problem = [fresh, 'The new password must differ from the current one.'];
    if (problem) {
      replace(errorArea, alertBox('error', problem[1]));
      problem[0].focus();
      return;
    }
    try {
      await withBusy(submit, () => api.post('/me/password', { current: current.value, new: fresh.value }, { quiet: true }));
    } catch (error) {
      replace(errorArea, alertBox('error', messageOf(error)));
      return;
    }
    session.user.must_change_password = false;
    toast('Your password has been changed. Your other sessions were signed out.');
    navigate(forced ? next : '/', { replace: forced });
  });

  replace(ctx.view, h('div', { class: 'auth-page' },
    h('section', { class: 'auth-card card', 'aria-labelledby': 'pw-title' },
      h('h1', { id: 'pw-title', class: 'auth-card__title', tabindex: '-1' }, forced ? 'Choose a new password' : 'Change your password'),
      forced
        ? alertBox('info', 'An administrator set your password. Choose your own before you continue.')
        : h('p', { class: 'auth-card__lead' }, 'Your other sessions are signed out when the password changes.'),
      h('p', { class: 'muted' }, 'Signed in as ', h('strong', null, session.user?.email || '')),
      form,
      forced ? h('p', { class: 'auth-card__foot' }, h('button', { type: 'button', class: 'btn btn--link', onclick: signOut }, 'Sign out instead')) : null)));
  current.focus();
}
