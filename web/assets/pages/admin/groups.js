// pages/admin/groups.js: user groups (a name and member emails), which
// policies can name instead of listing people one by one.
import { h, append } from '../../dom.js';
import { field, input, picker, invalid } from '../../ui.js';
import { adminListPage, collections, nameList } from './common.js';

export default function groupsPage(ctx) {
  return adminListPage(ctx, {
    path: '/groups',
    noun: 'group',
    title: 'Groups',
    subtitle: 'Sets of users that policies can grant access to together.',
    load: () => collections({ groups: '/groups', users: '/users' }),
    items: (d) => d.groups,
    empty: ['No groups yet', 'Groups let a policy cover many people at once.'],
    columns: () => [
      { label: 'Name', cell: (g) => h('strong', null, g.name) },
      { label: 'Members', cell: (g) => h('span', null, h('span', { class: 'count' }, String(g.members.length)), ' ', nameList(g.members, 'no members')) },
    ],
    form: {
      build(form, group, { users }) {
        const name = input({ name: 'name', required: true, value: group?.name || '', spellcheck: 'false' });
        const members = picker('Members', users.map((u) => u.email), group?.members || [], { emptyText: 'No users yet.' });
        append(form, field('Name', name, 'Letters, digits, dot, dash and underscore.'), members.el);
        return () => {
          if (!name.value.trim()) throw invalid('Enter a name.');
          return { name: name.value.trim(), members: members.values() };
        };
      },
    },
    deleteMessage: 'Policies that name this group stop granting access through it.',
  });
}
