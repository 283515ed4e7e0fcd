// pages/admin/groups.js: user groups (a name and member emails), which
// policies can name instead of listing people one by one.
import { h, append } from '../../dom.js';
import { api, seg } from '../../api.js';
import { table, emptyState, field, input, picker, formDialog, confirmDialog, toast, messageOf, invalid } from '../../ui.js';
import { adminFrame, loadInto, nameList } from './common.js';

export default async function groupsPage(ctx) {
  const newBtn = h('button', { type: 'button', class: 'btn btn--primary' }, 'New group');
  const body = adminFrame(ctx, 'Groups', 'Sets of users that policies can grant access to together.', newBtn);
  const users = () => api.get('/users').then((r) => r.items.map((u) => u.email));
  const load = () => loadInto(ctx, body,
    async () => {
      const [groups, emails] = await Promise.all([api.get('/groups'), users()]);
      return { groups: groups.items, emails };
    },
    ({ groups, emails }) => render(groups, emails, load),
    'Loading groups…');
  newBtn.addEventListener('click', async () => {
    if (await editGroup(null, await users().catch(() => []))) load();
  });
  await load();
}

function render(groups, emails, reload) {
  if (!groups.length) return emptyState('No groups yet', 'Groups let a policy cover many people at once.');
  return table([
    { label: 'Name', cell: (g) => h('strong', null, g.name) },
    { label: 'Members', cell: (g) => h('span', null, h('span', { class: 'count' }, String(g.members.length)), ' ', nameList(g.members, 'no members')) },
    { label: 'Actions', class: 'col-actions', cell: (g) => h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn--small', onclick: async () => { if (await editGroup(g, emails)) reload(); } }, 'Edit'),
      h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', onclick: async () => { if (await deleteGroup(g)) reload(); } }, 'Delete')) },
  ], groups, { caption: 'Groups', rowKey: (g) => g.name });
}

async function editGroup(group, emails) {
  let name, members;
  const saved = await formDialog({
    title: group ? `Edit group ${group.name}` : 'New group',
    submitLabel: group ? 'Save changes' : 'Create group',
    build(form) {
      name = input({ name: 'name', required: true, value: group?.name || '', spellcheck: 'false' });
      members = picker('Members', emails, group?.members || [], { emptyText: 'No users exist yet.' });
      append(form, field('Name', name, 'Letters, digits, dot, dash and underscore.'), members.el);
    },
    submit() {
      if (!name.value.trim()) throw invalid('Enter a name.');
      const body = { name: name.value.trim(), members: members.values() };
      return group ? api.patch(`/groups/${seg(group.id)}`, body) : api.post('/groups', body);
    },
  });
  if (saved) toast(`Group ${saved.name} saved.`);
  return Boolean(saved);
}

async function deleteGroup(group) {
  const ok = await confirmDialog({
    title: `Delete group ${group.name}?`,
    message: 'Policies that name this group stop granting access through it.',
    confirmLabel: 'Delete group',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`/groups/${seg(group.id)}`);
    toast(`Group ${group.name} deleted.`);
    return true;
  } catch (error) {
    toast(messageOf(error), 'error');
    return false;
  }
}
