// pages/admin/users.js: user accounts: create (with a password, a generated
// one shown once, or none), edit role / groups / flags, reset the password,
// disable and delete.
import { h, append, uid } from '../../dom.js';
import { api, seg } from '../../api.js';
import { session } from '../../state.js';
import {
  table, badge, timeEl, emptyState, field, input, select, checkbox, picker, formDialog, confirmDialog,
  openDialog, copyButton, toast, messageOf, invalid,
} from '../../ui.js';
import { adminFrame, loadInto, nameList } from './common.js';

export default async function usersPage(ctx) {
  const newBtn = h('button', { type: 'button', class: 'btn btn--primary', dataset: { action: 'new-user' } }, 'New user');
  const body = adminFrame(ctx, 'Users', 'People who can sign in, their role and their groups.', newBtn);
  const load = () => loadInto(ctx, body,
    async () => {
      const [users, groups] = await Promise.all([api.get('/users'), api.get('/groups')]);
      return { users: users.items, groups: groups.items.map((g) => g.name) };
    },
    ({ users, groups }) => render(users, groups, load),
    'Loading users…');
  newBtn.addEventListener('click', async () => {
    const groups = await api.get('/groups').then((r) => r.items.map((g) => g.name)).catch(() => []);
    if (await editUser(null, groups)) load();
  });
  await load();
}

function render(users, groups, reload) {
  if (!users.length) return emptyState('No users yet', 'Create the first user with "New user".');
  const me = session.user?.email;
  return table([
    { label: 'Email', cell: (u) => h('span', null, h('strong', null, u.email), u.email === me ? [' ', badge('you', 'info')] : null) },
    { label: 'Role', cell: (u) => badge(u.role === 'admin' ? 'Admin' : 'User', u.role === 'admin' ? 'accent' : 'neutral') },
    { label: 'Groups', cell: (u) => nameList(u.groups) },
    { label: 'Status', cell: (u) => h('div', { class: 'badges' },
      u.disabled ? badge('Disabled', 'danger') : badge('Active', 'success'),
      u.must_change_password ? badge('Must change password', 'warning') : null) },
    { label: 'Created', cell: (u) => timeEl(u.created_at) },
    { label: 'Actions', class: 'col-actions', cell: (u) => h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn--small', onclick: async () => { if (await editUser(u, groups)) reload(); } }, 'Edit'),
      h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', disabled: u.email === me,
        title: u.email === me ? 'You cannot delete yourself' : null,
        onclick: async () => { if (await deleteUser(u)) reload(); } }, 'Delete')) },
  ], users, { caption: 'Users', rowKey: (u) => u.email });
}

async function editUser(user, groups) {
  const creating = !user;
  let email, mode, password, role, groupPicker, mustChange, disabled;
  const result = await formDialog({
    title: creating ? 'New user' : `Edit ${user.email}`,
    submitLabel: creating ? 'Create user' : 'Save changes',
    wide: true,
    build(form) {
      email = input({ name: 'email', type: 'email', required: true, value: user?.email || '', autocomplete: 'off', spellcheck: 'false' });
      const modeName = uid('pw');
      const modes = creating
        ? [['set', 'Set a password'], ['generate', 'Generate a password'], ['none', 'No password (cannot sign in with one)']]
        : [['keep', 'Keep the current password'], ['set', 'Set a new password'], ['generate', 'Generate a new password']];
      const radios = modes.map(([v, l], i) => {
        const r = h('input', { type: 'radio', name: modeName, value: v, checked: i === 0, id: uid() });
        return h('div', { class: 'check' }, r, h('label', { for: r.id }, l));
      });
      password = input({ name: 'password', type: 'text', autocomplete: 'new-password', minlength: '10', spellcheck: 'false' });
      const pwField = field(creating ? 'Initial password' : 'New password', password, 'At least 10 characters. Share it with the user over a safe channel.');
      const modeSet = h('fieldset', { class: 'radio-group' }, h('legend', { class: 'field__label' }, 'Password'), radios, pwField);
      mode = () => modeSet.querySelector(`input[name="${modeName}"]:checked`).value;
      const sync = () => { pwField.hidden = mode() !== 'set'; };
      modeSet.addEventListener('change', sync);
      sync();
      role = select({ name: 'role' }, [['user', 'User'], ['admin', 'Admin']], user?.role || 'user');
      groupPicker = picker('Groups', groups, user?.groups || [], { emptyText: 'No groups exist yet.' });
      mustChange = checkbox('must_change_password', 'Must change the password at next sign-in', creating ? true : user.must_change_password);
      disabled = creating ? null : checkbox('disabled', 'Disabled', user.disabled, 'Ends their sessions and revokes their live leases.');
      append(form,
        h('div', { class: 'form-grid' },
          field('Email', email),
          field('Role', role, 'Admins manage users, services and policies.')),
        modeSet, mustChange, disabled, groupPicker.el);
    },
    async submit() {
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
      return creating ? api.post('/users', body) : api.patch(`/users/${seg(user.id)}`, body);
    },
  });
  if (!result) return false;
  toast(creating ? `User ${result.email} created.` : `User ${result.email} saved.`);
  if (result.generated_password) await showPassword(result.email, result.generated_password);
  return true;
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

async function deleteUser(user) {
  const ok = await confirmDialog({
    title: `Delete ${user.email}?`,
    message: 'Their sessions end and their live leases are revoked at once. The audit log keeps their history.',
    confirmLabel: 'Delete user',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`/users/${seg(user.id)}`);
    toast(`User ${user.email} deleted.`);
    return true;
  } catch (error) {
    toast(messageOf(error), 'error');
    return false;
  }
}
