// pages/admin/users.js: user accounts: create (with a password, a generated
// one shown once, or none; optionally a welcome email, with the password or
// a link to choose one), edit role / groups / flags, reset the password,
// disable and delete.
import { h, append, uid } from '../../dom.js';
import { session, server } from '../../state.js';
import { api, seg } from '../../api.js';
import {
  badge, timeEl, field, input, select, checkbox, picker, openDialog, copyButton, invalid, toast,
  withBusy, messageOf,
} from '../../ui.js';
import { adminListPage, collections, nameList } from './common.js';

const isLocked = (u) => Boolean(u.locked_until) && new Date(u.locked_until) > new Date();

// A small action in a user's row; the list is shown again after it.
function rowButton(label, action, done, ctx) {
  const btn = h('button', { type: 'button', class: 'btn btn--small', dataset: { action: label.toLowerCase().replace(/ /g, '-') } }, label);
  btn.addEventListener('click', async () => {
    try {
      await withBusy(btn, action);
      toast(done);
      usersPage(ctx);
    } catch (error) {
      toast(messageOf(error), 'error');
    }
  });
  return btn;
}

// Set by the create form when it asks for a welcome email; read after the save.
let welcomeAsked = false;

export default function usersPage(ctx) {
  const me = () => session.user?.email;
  return adminListPage(ctx, {
    path: '/users',
    noun: 'user',
    title: 'Users',
    subtitle: 'People who can sign in, their role and their groups.',
    newAction: 'new-user',
    name: (u) => u.email,
    load: () => collections({ users: '/users', groups: '/groups' }),
    items: (d) => d.users,
    empty: ['No users yet', 'Create the first user with "New user".'],
    columns: () => [
      { label: 'Email', cell: (u) => h('span', null, h('strong', null, u.email), u.email === me() ? [' ', badge('you', 'info')] : null) },
      { label: 'Role', cell: (u) => badge(u.role === 'admin' ? 'Admin' : 'User', u.role === 'admin' ? 'accent' : 'neutral') },
      { label: 'Groups', cell: (u) => nameList(u.groups) },
      { label: 'Status', cell: (u) => h('div', { class: 'badges' },
        u.disabled ? badge('Disabled', 'danger') : badge('Active', 'success'),
        u.must_change_password ? badge('Must change password', 'warning') : null,
        u.source && u.source !== 'local' ? badge(u.source === 'oidc' ? 'SSO' : 'htpasswd', 'neutral') : null,
        u.mfa_enabled ? badge('MFA', 'success') : null,
        isLocked(u) ? badge(`Locked until ${new Date(u.locked_until).toLocaleString()}`, 'danger') : null,
        isLocked(u) ? rowButton('Unlock', () => api.post(`/users/${seg(u.id)}/unlock`), `${u.email} is unlocked.`, ctx) : null,
        u.mfa_enabled ? rowButton('Reset MFA', () => api.del(`/users/${seg(u.id)}/mfa`), `${u.email} must set up a second factor again; their sessions ended.`, ctx) : null) },
      { label: 'Created', cell: (u) => timeEl(u.created_at) },
    ],
    form: { wide: true, build: userForm },
    afterSave: (result) => {
      if (welcomeAsked) toast(`A welcome email to ${result.email} is on its way (see Notifications).`);
      welcomeAsked = false;
      return result.generated_password ? showPassword(result.email, result.generated_password) : null;
    },
    deleteMessage: 'Their sessions end and their live leases are revoked at once. The audit log keeps their history.',
    deleteBlocked: (u) => (u.email === me() ? 'You cannot delete yourself.' : null),
  });
}

function userForm(form, user, { groups }) {
  const creating = !user;
  const email = input({ name: 'email', type: 'email', required: true, value: user?.email || '', autocomplete: 'off', spellcheck: 'false' });
  const modeName = uid('pw');
  const modes = creating
    ? [['set', 'Set a password'], ['generate', 'Generate a password'], ['none', 'No password (cannot sign in with one)']]
    : [['keep', 'Keep the current password'], ['set', 'Set a new password'], ['generate', 'Generate a new password']];
  const radios = modes.map(([v, l], i) => {
    const r = h('input', { type: 'radio', name: modeName, value: v, checked: i === 0, id: uid() });
    return h('div', { class: 'check' }, r, h('label', { for: r.id }, l));
  });
  const password = input({ name: 'password', type: 'text', autocomplete: 'new-password', minlength: '10', spellcheck: 'false' });
  const pwField = field(creating ? 'Initial password' : 'New password', password, 'At least 10 characters. Share it with the user over a safe channel.');
  const modeSet = h('fieldset', { class: 'radio-group' }, h('legend', { class: 'field__label' }, 'Password'), radios, pwField);
  const mode = () => modeSet.querySelector(`input[name="${modeName}"]:checked`).value;
  const sync = () => { pwField.hidden = mode() !== 'set'; };
  modeSet.addEventListener('change', sync);
  sync();
  const role = select({ name: 'role' }, [['user', 'User'], ['admin', 'Admin']], user?.role || 'user');
  const groupPicker = picker('Groups', groups.map((g) => g.name), user?.groups || [], { emptyText: 'No groups yet.' });
  const mustChange = checkbox('must_change_password', 'Must change the password at next sign-in', creating ? true : user.must_change_password);
  const disabled = creating ? null : checkbox('disabled', 'Disabled', user.disabled, 'Ends their sessions and revokes their live leases.');
  // The welcome email needs email on the server (GET /api/v1/info features.email).
  const welcome = creating && server.features.email
    ? checkbox('send_welcome', 'Send a welcome email', false, 'Tells them how to sign in. Without the password in it, it carries a link to choose one.')
    : null;
  const includePw = welcome
    ? checkbox('include_password', 'Include the password in the email', false, 'Only for a password set or generated here. Email is not a safe channel; prefer the link.')
    : null;
  const welcomeSet = welcome ? h('fieldset', { class: 'radio-group' }, h('legend', { class: 'field__label' }, 'Welcome email'), welcome, includePw) : null;
  const syncWelcome = () => {
    if (!welcome) return;
    const box = includePw.querySelector('input');
    box.disabled = !welcome.querySelector('input').checked || mode() === 'none';
    if (box.disabled) box.checked = false;
  };
  if (welcome) {
    welcome.addEventListener('change', syncWelcome);
    modeSet.addEventListener('change', syncWelcome);
    syncWelcome();
  }
  append(form,
    h('div', { class: 'form-grid' },
      field('Email', email),
      field('Role', role, 'Admins manage users, services and policies.')),
    modeSet, mustChange, disabled, welcomeSet, groupPicker.el);

  return () => {
    const m = mode();
    if (!email.value.trim()) throw invalid('Enter an email address.');
    if (m === 'set' && password.value.length < 10) throw invalid('The password needs at least 10 characters.');
    const body = {
      email: email.value.trim(),
      role: role.value,
      groups: groupPicker.values(),
      must_change_password: mustChange.querySelector('input').checked,
    };
    if (disabled) body.disabled = disabled.querySelector('input').checked;
    if (m === 'set') body.password = password.value;
    if (m === 'generate') body.generate_password = true;
    welcomeAsked = false;
    if (welcome && welcome.querySelector('input').checked) {
      welcomeAsked = true;
      body.send_welcome = true;
      body.include_password = includePw.querySelector('input').checked;
    }
    return body;
  };
}

function showPassword(email, password) {
  return new Promise((resolve) => {
    const { dialog, body, close } = openDialog('Generated password');
    const done = h('button', { type: 'button', class: 'btn btn--primary', onclick: () => close('ok') }, 'Done');
    append(body,
      h('p', null, 'The password for ', h('strong', null, email), ' is shown ', h('strong', null, 'only this once'), '. Copy it now and give it to them over a safe channel.'),
      h('div', { class: 'secret' }, h('code', { class: 'secret__value', dataset: { secret: 'password' } }, password), copyButton(password)),
      h('div', { class: 'dialog__actions' }, done));
    dialog.addEventListener('close', () => resolve());
    done.focus();
  });
}
