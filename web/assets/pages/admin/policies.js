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

function approvalCell(p) {
  if (p.approval !== 'admin') {
    return h('div', { class: 'badges' }, badge('automatic', 'success'), p.notify_admins ? badge('admins told', 'neutral') : null);
  }
  return h('div', { class: 'badges' }, badge('by an admin', 'warning'),
    p.activate_on === 'next_login' ? badge('opens at next sign-in', 'neutral') : null);
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
    server.features.approval ? { label: 'Approval', cell: approvalCell } : null,
    server.features.schedule ? { label: 'Schedule', cell: (p) => h('div', { class: 'stack-tight' }, h('div', null, scheduleText(p.schedule)),
      p.schedule && p.may_outlive_window ? h('div', { class: 'muted' }, 'leases may outlive a window') : null) } : null,
  ].filter(Boolean);
}

const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };
const TIME_RE = /^([01]?\d|2[0-3]):[0-5]\d$/;

// "8:00" -> "08:00"; the API's form.
const normalTime = (t) => (/^\d:/.test(t) ? `0${t}` : t);

/** One weekly window: days + from/to as text (HH:MM; "to" may be 24:00). */
function windowRow(win = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }) {
  const legend = h('legend', { class: 'window-row__label' }, 'Window');
  const days = DAYS.map((d) => {
    const box = h('input', { type: 'checkbox', value: d, checked: (win.days || []).includes(d), id: uid() });
    return h('span', { class: 'day' }, box, h('label', { for: box.id, title: DAY_NAMES[d] }, h('span', { 'aria-hidden': 'true' }, d),
      h('span', { class: 'visually-hidden' }, DAY_NAMES[d])));
  });
  const timeInput = (value) => input({ value: value || '', class: 'input input--time', inputmode: 'numeric', placeholder: 'HH:MM',
    maxlength: '5', spellcheck: 'false', autocomplete: 'off', id: uid() });
  const from = timeInput(win.from);
  const to = timeInput(win.to);
  const remove = h('button', { type: 'button', class: 'btn btn--small btn--ghost' }, 'Remove');
  const row = h('fieldset', { class: 'window-row' },
    legend,
    h('div', { class: 'days', role: 'group', 'aria-label': 'Days' }, days),
    h('div', { class: 'window-row__times' },
      h('label', { for: from.id }, 'From'), from,
      h('label', { for: to.id }, 'to'), to,
      remove));
  remove.addEventListener('click', () => {
    const list = row.parentElement;
    row.remove();
    if (list) renumber(list);
    const next = list?.querySelector('input');
    if (next) next.focus();
  });
  row.setNumber = (n) => {
    legend.textContent = `Window ${n}`;
    remove.setAttribute('aria-label', `Remove window ${n}`);
  };
  row.read = () => ({
    days: days.map((d) => d.querySelector('input')).filter((b) => b.checked).map((b) => b.value),
    from: normalTime(from.value.trim()),
    to: normalTime(to.value.trim()),
  });
  row.check = (n) => {
    const w = row.read();
    if (!w.days.length) return [days[0].querySelector('input'), `Window ${n} needs at least one day.`];
    if (!TIME_RE.test(w.from)) return [from, `Window ${n}: the start is a time from 00:00 to 23:59, like 08:00.`];
    if (!TIME_RE.test(w.to) && w.to !== '24:00') return [to, `Window ${n}: the end is a time from 00:01 to 24:00, like 18:00.`];
    if (w.from === w.to) return [to, `Window ${n} is empty: start and end are both ${w.from}. Use 00:00 to 24:00 for whole days.`];
    return null;
  };
  return row;
}

function renumber(list) {
  [...list.children].forEach((row, i) => row.setNumber(i + 1));
}

function timeZones() {
  try {
    return typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
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
    f.activateOn = select({ name: 'activate_on' }, [
      ['request_address', 'The address it was asked from'],
      ['next_login', 'Their next sign-in\'s address'],
    ], policy?.activate_on || 'request_address');
    const activateField = field('After approval, open for', f.activateOn, 'Next sign-in suits requests made from a phone for a laptop, say.');
    f.notify = checkbox('notify_admins', 'Also tell admins when access opens without approval', policy?.notify_admins,
      'An informational notice by email and webhook. With approval by an admin, admins are always asked.');
    const syncApproval = () => {
      const admin = f.approval.value === 'admin';
      activateField.hidden = !admin;
      f.notify.hidden = admin;
    };
    f.approval.addEventListener('change', syncApproval);
    syncApproval();
    append(form, h('h3', { class: 'form-section' }, 'Approval'), h('div', { class: 'form-grid' }, field('Approval', f.approval), activateField), f.notify);
  }
  if (server.features.schedule) {
    const has = Boolean(policy?.schedule?.windows?.length);
    const localTz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const zonesId = uid('tz');
    f.scheduled = checkbox('scheduled', 'Only at certain times of the week', has,
      'Requests outside every window are refused with the next opening time.');
    f.tz = input({ name: 'timezone', value: policy?.schedule?.timezone || localTz, spellcheck: 'false', autocomplete: 'off', list: zonesId });
    f.windows = h('div', { class: 'windows' }, (has ? policy.schedule.windows : [undefined]).map((w) => windowRow(w)));
    renumber(f.windows);
    f.outlive = checkbox('may_outlive_window', 'A lease may run past the end of its window', policy?.may_outlive_window,
      'Otherwise a lease granted inside a window ends when the window does.');
    const add = h('button', { type: 'button', class: 'btn btn--small', onclick: () => {
      const row = windowRow();
      f.windows.append(row);
      renumber(f.windows);
      row.querySelector('input').focus();
    } }, 'Add window');
    const details = h('div', { class: 'schedule' },
      field('Time zone', f.tz, 'An IANA name such as Europe/Berlin; daylight saving time is followed.'),
      h('datalist', { id: zonesId }, timeZones().map((z) => h('option', { value: z }))),
      h('p', { class: 'field__hint' }, 'Times are HH:MM. An end before the start crosses midnight (22:00 to 06:00 ends the next morning); 24:00 is the end of the day. Windows must not overlap.'),
      f.windows, h('div', null, add), f.outlive);
    const syncSchedule = () => { details.hidden = !f.scheduled.querySelector('input').checked; };
    f.scheduled.addEventListener('change', syncSchedule);
    syncSchedule();
    append(form, h('h3', { class: 'form-section' }, 'Schedule'), f.scheduled, details);
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
      if (body.approval === 'admin') body.activate_on = f.activateOn.value;
      body.notify_admins = body.approval === 'auto' && f.notify.querySelector('input').checked;
    }
    if (f.scheduled) {
      if (f.scheduled.querySelector('input').checked) {
        const rows = [...f.windows.children];
        if (!rows.length) throw invalid('Add at least one window, or untick "Only at certain times of the week".');
        if (!f.tz.value.trim()) throw invalid('Enter the time zone of the windows, such as Europe/Berlin.');
        for (const [i, row] of rows.entries()) {
          const problem = row.check(i + 1);
          if (problem) {
            problem[0].focus();
            throw invalid(problem[1]);
          }
        }
        body.schedule = { timezone: f.tz.value.trim(), windows: rows.map((row) => row.read()) };
        body.may_outlive_window = f.outlive.querySelector('input').checked;
      } else {
        body.schedule = null;
      }
    }
    return body;
  };
}
