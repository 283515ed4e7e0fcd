// pages/admin/access_groups.js: named bundles of services (from any
// backend) that users request together. Public ones are listed on
// everyone's Get access page; a policy is still needed to request them.
import { h, append } from '../../dom.js';
import { api, seg } from '../../api.js';
import { table, emptyState, field, input, checkbox, picker, formDialog, confirmDialog, toast, messageOf, invalid, badge } from '../../ui.js';
import { adminFrame, loadInto } from './common.js';
import { portsText } from './services.js';

export default async function accessGroupsPage(ctx) {
  const newBtn = h('button', { type: 'button', class: 'btn btn--primary' }, 'New access group');
  const body = adminFrame(ctx, 'Access groups', 'Services bundled under one name, requested together.', newBtn);
  const services = () => api.get('/services').then((r) => r.items);
  const load = () => loadInto(ctx, body,
    async () => {
      const [groups, svcs] = await Promise.all([api.get('/access-groups'), services()]);
      return { groups: groups.items, svcs };
    },
    ({ groups, svcs }) => render(groups, svcs, load),
    'Loading access groups…');
  newBtn.addEventListener('click', async () => { if (await editGroup(null, await services().catch(() => []))) load(); });
  await load();
}

function render(groups, svcs, reload) {
  if (!groups.length) return emptyState('No access groups yet', 'Bundle services that people usually need together, for example "ops": SSH and the admin console.');
  const backendOf = Object.fromEntries(svcs.map((s) => [s.name, s.backend]));
  return table([
    { label: 'Name', cell: (g) => h('strong', null, g.name) },
    { label: 'Services', cell: (g) => (g.services.length
      ? h('div', { class: 'badges' }, g.services.map((n) => badge(backendOf[n] ? `${n} · ${backendOf[n]}` : n, 'neutral')))
      : h('span', { class: 'muted' }, 'none')) },
    { label: 'Visibility', cell: (g) => (g.public ? badge('Public', 'info') : badge('Private', 'neutral')) },
    { label: 'Actions', class: 'col-actions', cell: (g) => h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn--small', onclick: async () => { if (await editGroup(g, svcs)) reload(); } }, 'Edit'),
      h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', onclick: async () => { if (await deleteGroup(g)) reload(); } }, 'Delete')) },
  ], groups, { caption: 'Access groups', rowKey: (g) => g.name });
}

async function editGroup(group, svcs) {
  let name, services, isPublic;
  const saved = await formDialog({
    title: group ? `Edit access group ${group.name}` : 'New access group',
    submitLabel: group ? 'Save changes' : 'Create access group',
    wide: true,
    build(form) {
      name = input({ name: 'name', required: true, value: group?.name || '', spellcheck: 'false' });
      services = picker('Services', svcs.map((s) => ({ value: s.name, label: s.name, note: `${portsText(s)} · ${s.backend}` })),
        group?.services || [], { emptyText: 'Create services first.' });
      isPublic = checkbox('public', 'Public', group?.public, 'Listed on everyone\'s Get access page. Only a policy lets people request it.');
      append(form, field('Name', name), services.el, isPublic);
    },
    submit() {
      if (!name.value.trim()) throw invalid('Enter a name.');
      const body = { name: name.value.trim(), services: services.values(), public: isPublic.querySelector('input').checked };
      return group ? api.patch(`/access-groups/${seg(group.id)}`, body) : api.post('/access-groups', body);
    },
  });
  if (saved) toast(`Access group ${saved.name} saved.`);
  return Boolean(saved);
}

async function deleteGroup(group) {
  const ok = await confirmDialog({
    title: `Delete access group ${group.name}?`,
    message: 'Policies that name it stop granting it.',
    confirmLabel: 'Delete access group',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`/access-groups/${seg(group.id)}`);
    toast(`Access group ${group.name} deleted.`);
    return true;
  } catch (error) {
    toast(messageOf(error), 'error');
    return false;
  }
}
