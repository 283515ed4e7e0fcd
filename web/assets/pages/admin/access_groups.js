// pages/admin/access_groups.js: named bundles of services (from any
// backend) that users request together. Public ones are listed on
// everyone's Get access page; a policy is still needed to request them.
import { h, append } from '../../dom.js';
import { field, input, checkbox, picker, invalid, badge } from '../../ui.js';
import { adminListPage, collections } from './common.js';
import { portsText } from './services.js';

export default function accessGroupsPage(ctx) {
  return adminListPage(ctx, {
    path: '/access-groups',
    noun: 'access group',
    title: 'Access groups',
    subtitle: 'Services bundled under one name, requested together.',
    load: () => collections({ groups: '/access-groups', services: '/services' }),
    items: (d) => d.groups,
    empty: ['No access groups yet', 'Bundle services that people usually need together, for example "ops": SSH and the admin console.'],
    columns: ({ services }) => {
      const backendOf = Object.fromEntries(services.map((s) => [s.name, s.backend]));
      return [
        { label: 'Name', cell: (g) => h('strong', null, g.name) },
        { label: 'Services', cell: (g) => (g.services.length
          ? h('div', { class: 'badges' }, g.services.map((n) => badge(backendOf[n] ? `${n} · ${backendOf[n]}` : n, 'neutral')))
          : h('span', { class: 'muted' }, 'none')) },
        { label: 'Visibility', cell: (g) => (g.public ? badge('Public', 'info') : badge('Private', 'neutral')) },
      ];
    },
    form: {
      wide: true,
      build(form, group, { services }) {
        const name = input({ name: 'name', required: true, value: group?.name || '', spellcheck: 'false' });
        const chosen = picker('Services', services.map((s) => ({ value: s.name, label: s.name, note: `${portsText(s)} · ${s.backend}` })),
          group?.services || [], { emptyText: 'No services yet.' });
        const isPublic = checkbox('public', 'Public', group?.public, 'Listed on everyone\'s Get access page. Only a policy lets people request it.');
        append(form, field('Name', name), chosen.el, isPublic);
        return () => {
          if (!name.value.trim()) throw invalid('Enter a name.');
          return { name: name.value.trim(), services: chosen.values(), public: isPublic.querySelector('input').checked };
        };
      },
    },
    deleteMessage: 'Policies that name it stop granting it.',
  });
}
