// pages/admin/policies.js: who may open what, for how long and for which
// addresses. Approval and schedule fields appear only when the server has
// those features (GET /api/v1/info).
import { h, append, uid } from '../../dom.js';
import { server } from '../../state.js';
import { field, input, select, checkbox, picker, invalid, badge } from '../../ui.js';
import { parseDuration, humanDuration } from '../../format.js';
import { adminListPage, collections, nameList } from './common.js';
import { portsText } from './services.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const RECIPIENTS = {
  self: 'The requester\'s own address',
  cidr: 'A network (CIDR) the requester names',
  invite: 'Someone the requester invites by email',
};

export default function policiesPage(ctx) {
  return adminListPage(ctx, {
    path: '/policies',
    noun: 'policy',
    title: 'Policies',
    subtitle: 'Who may open which services, for how long, and for which addresses.',
    newAction: 'new-policy',
    load: () => collections({
      policies: '/policies', users: '/users', groups: '/groups', services: '/services', accessGroups: '/access-groups',
    }),
    items: (d) => d.policies,
    empty: ['No policies yet', 'Without a policy nobody can request access. Create one to grant services to users or groups.'],
    columns,
    form: { wide: true, build: policyForm },
    deleteMessage: 'Leases it granted are revoked at once, and nobody can request access through it any more.',
  });
}

function scheduleText(schedule) {
  const windows = schedule?.windows || [];
  if (!windows.length) return h('span', { class: 'muted' }, 'always');
  return h('span', null, windows.map((w) => `${w.days.join(',')} ${w.from}–${w.to}`).join('; '), ` (${schedule.timezone || 'UTC'})`);
}

function columns() {
  return [
    { label: 'Name', cell: (p) => h('strong', null, p.name) },
    { label: 'Who', cell: (p) => h('div', { class: 'stack-tight' },
      p.users.length ? h('div', null, h('span', { class: 'muted' }, 'Users: '), nameList(p.users)) : null,
      p.groups.length ? h('div', null, h('span', { class: 'muted' }, 'Groups: '), nameList(p.groups)) : null,
      !p.users.length && !p.groups.length ? h('span', { class: 'muted' }, 'nobody') : null) },
    { label: 'What', cell: (p) => h('div', { class: 'stack-tight' },
      p.services.length ? h('div', null, h('span', { class: 'muted' }, 'Services: '), nameList(p.services)) : null,
      p.access_groups.length ? h('div', null, h('span', { class: 'muted' }, 'Access groups: '), nameList(p.access_groups)) : null,
      !p.services.length && !p.access_groups.length ? h('span', { class: 'muted' }, 'nothing') : null) },
    { label: 'Duration', cell: (p) => h('span', null, `${humanDuration(parseDuration(p.default_duration))} default, ${humanDuration(parseDuration(p.max_duration))} max`) },
    { label: 'For', cell: (p) => h('div', { class: 'badges' }, p.recipients.map((r) => badge(r, 'neutral')),
      p.recipients.includes('cidr') ? h('span', { class: 'muted' }, ` ≥ /${p.min_prefix.ipv4}, /${p.min_prefix.ipv6}`) : null) },
    server.features.approval ? { label: 'Approval', cell: (p) => (p.approval === 'admin' ? badge('by an admin', 'warning') : badge('automatic', 'success')) } : null,
    server.features.schedule ? { label: 'Schedule', cell: (p) => scheduleText(p.schedule) } : null,
  ].filter(Boolean);
}

function windowRow(win = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }) {
  const days = DAYS.map((d) => {
    const box = h('input', { type: 'checkbox', value: d, checked: win.days.includes(d), id: uid() });
    return h('span', { class: 'day' }, box, h('label', { for: box.id }, d));
  });
  const from = input({ type: 'time', value: win.from, 'aria-label': 'From', class: 'input input--time' });
  const to = input({ type: 'time', value: win.to, 'aria-label': 'To', class: 'input input--time' });
  const row = h('div', { class: 'window-row' },
    h('div', { class: 'days', role: 'group', 'aria-label': 'Days' }, days),
    h('div', { class: 'window-row__times' }, from, h('span', { 'aria-hidden': 'true' }, '–'), to,
      h('button', { type: 'button', class: 'btn btn--small btn--ghost', onclick: () => row.remove() }, 'Remove')));
  row.read = () => ({ days: days.map((d) => d.querySelector('input')).filter((b) => b.checked).map((b) => b.value), from: from.value, to: to.value });
  return row;
}

function policyForm(form, policy, { users, groups, services, accessGroups }) {
  const f = {};
  f.name = input({ name: 'name', required: true, value: policy?.name || '', spellcheck: 'false' });
  f.users = picker('Users', users.map((u) => u.email), policy?.users || [], { emptyText: 'No users yet.' });
  f.groups = picker('Groups', groups.map((g) => g.name), policy?.groups || [], { emptyText: 'No groups yet.' });
  f.services = picker('Services', services.map((s) => ({ value: s.name, label: s.name, note: `${portsText(s)} · ${s.backend}` })),
    policy?.services || [], { emptyText: 'No services yet.' });
  f.accessGroups = picker('Access groups', accessGroups.map((g) => g.name), policy?.access_groups || [], { emptyText: 'No access groups yet.' });
  f.def = input({ name: 'default_duration', required: true, value: policy?.default_duration || '1h', spellcheck: 'false' });
  f.max = input({ name: 'max_duration', required: true, value: policy?.max_duration || '10h', spellcheck: 'false' });
  const offered = Object.keys(RECIPIENTS).filter((k) => k !== 'invite' || server.features.invitations);
  const chosen = policy?.recipients || ['self'];
  f.recipients = offered.map((k) => checkbox(`recipient-${k}`, RECIPIENTS[k], chosen.includes(k)));
  f.recipients.forEach((c, i) => { c.dataset.kind = offered[i]; });
  f.v4 = input({ type: 'number', min: '1', max: '32', value: String(policy?.min_prefix?.ipv4 ?? 24), name: 'min_prefix_ipv4' });
  f.v6 = input({ type: 'number', min: '1', max: '128', value: String(policy?.min_prefix?.ipv6 ?? 56), name: 'min_prefix_ipv6' });
  const prefixGrid = h('div', { class: 'form-grid' },
    field('Widest IPv4 network (minimum prefix)', f.v4, 'A request may name /24 or longer: at most 256 addresses.'),
    field('Widest IPv6 network (minimum prefix)', f.v6, '/56 covers a typical home or office network.'));
  const cidrBox = f.recipients.find((c) => c.dataset.kind === 'cidr')?.querySelector('input');
  const syncPrefix = () => { prefixGrid.hidden = !(cidrBox && cidrBox.checked); };
  if (cidrBox) cidrBox.addEventListener('change', syncPrefix);
  syncPrefix();

  append(form,
    field('Name', f.name),
    h('h3', { class: 'form-section' }, 'Who'),
    h('div', { class: 'form-grid' }, f.users.el, f.groups.el),
    h('h3', { class: 'form-section' }, 'What'),
    h('div', { class: 'form-grid' }, f.services.el, f.accessGroups.el),
    h('h3', { class: 'form-section' }, 'How long'),
    h('div', { class: 'form-grid' },
      field('Default duration', f.def, 'Used by the one-click button, for example 1h, 30m or 1h30m.'),
      field('Maximum duration', f.max, 'The longest a user may ask for, for example 10h or 1d.')),
    h('fieldset', { class: 'radio-group' }, h('legend', { class: 'form-section' }, 'For which addresses'), f.recipients),
    prefixGrid);

  if (server.features.approval) {
    f.approval = select({ name: 'approval' }, [['auto', 'Automatic: open at once'], ['admin', 'An admin approves each request']], policy?.approval || 'auto');
    f.notify = checkbox('notify_admins', 'Email admins about new requests', policy?.notify_admins);
    append(form, h('h3', { class: 'form-section' }, 'Approval'), field('Approval', f.approval), f.notify);
  }
  if (server.features.schedule) {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    f.tz = input({ name: 'timezone', value: policy?.schedule?.timezone || tz, spellcheck: 'false' });
    f.windows = h('div', { class: 'windows' }, (policy?.schedule?.windows || []).map(windowRow));
    append(form, h('h3', { class: 'form-section' }, 'Schedule'),
      h('p', { class: 'field__hint' }, 'Requests are allowed only inside these windows. No windows: always.'),
      field('Time zone', f.tz, 'An IANA name such as Europe/Berlin.'),
      f.windows,
      h('button', { type: 'button', class: 'btn btn--small', onclick: () => f.windows.append(windowRow()) }, 'Add window'));
  }

  return () => {
    if (!f.name.value.trim()) throw invalid('Enter a name.');
    const def = parseDuration(f.def.value);
    const max = parseDuration(f.max.value);
    if (!def || !max) throw invalid('Durations look like 90s, 45m, 2h, 1d or 1h30m.');
    if (def > max) throw invalid('The default duration is longer than the maximum.');
    const recipients = f.recipients.filter((c) => c.querySelector('input').checked).map((c) => c.dataset.kind);
    if (!recipients.length) throw invalid('Choose at least one kind of address access may be opened for.');
    const body = {
      name: f.name.value.trim(),
      users: f.users.values(),
      groups: f.groups.values(),
      services: f.services.values(),
      access_groups: f.accessGroups.values(),
      default_duration: f.def.value.trim(),
      max_duration: f.max.value.trim(),
      recipients,
    };
    if (recipients.includes('cidr')) {
      const v4 = Number(f.v4.value);
      const v6 = Number(f.v6.value);
      if (!Number.isInteger(v4) || v4 < 1 || v4 > 32) throw invalid('The IPv4 prefix must be between 1 and 32.');
      if (!Number.isInteger(v6) || v6 < 1 || v6 > 128) throw invalid('The IPv6 prefix must be between 1 and 128.');
      body.min_prefix = { ipv4: v4, ipv6: v6 };
    }
    if (f.approval) {
      body.approval = f.approval.value;
      body.notify_admins = f.notify.querySelector('input').checked;
    }
    if (f.windows) {
      const windows = [...f.windows.children].map((row) => row.read());
      for (const w of windows) {
        if (!w.days.length) throw invalid('Each schedule window needs at least one day.');
        if (!w.from || !w.to) throw invalid('Each schedule window needs a start and an end time.');
      }
      body.schedule = { timezone: f.tz.value.trim() || 'UTC', windows };
    }
    return body;
  };
}
