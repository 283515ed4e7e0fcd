// pages/admin/notifications.js: the outbox (GET /api/v1/outbox): every
// email and webhook the server queued, and how its delivery went. Only
// headers, never bodies (they can carry one-time links).
import { h, replace } from '../../dom.js';
import { api, query } from '../../api.js';
import { navigate } from '../../router.js';
import { server } from '../../state.js';
import { table, timeEl, emptyState, field, select, loadInto, badge, alertBox } from '../../ui.js';
import { adminFrame } from './common.js';

const STATES = { pending: ['Pending', 'warning'], sent: ['Sent', 'success'], failed: ['Failed', 'danger'] };
const LIMIT = 100;

export default async function notificationsPage(ctx) {
  const state = STATES[ctx.query.get('state')] ? ctx.query.get('state') : '';
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const body = adminFrame(ctx, 'Notifications', 'Emails and webhooks the server sends, with their delivery state. Message bodies are not shown.', refresh);
  const filter = select({ name: 'state' }, [['', 'All'], ['pending', 'Pending (not delivered yet)'], ['sent', 'Sent'], ['failed', 'Failed (gave up)']], state);
  filter.addEventListener('change', () => navigate(`/admin/notifications${query({ state: filter.value })}`));
  const results = h('div', { class: 'section' });
  replace(body,
    server.features.email === false
      ? alertBox('info', 'Email is not configured on this server ([smtp] url), so only webhooks are sent.')
      : null,
    h('div', { class: 'filters card', role: 'search', 'aria-label': 'Filter notifications' }, field('Delivery state', filter)),
    results);
  const load = () => loadInto(ctx, results, () => api.get(`/outbox${query({ state, limit: LIMIT })}`), render, 'Loading notifications…');
  refresh.addEventListener('click', load);
  await load();
}

function stateCell(m) {
  const [label, tone] = STATES[m.state] || [m.state, 'neutral'];
  return h('span', { class: `badge badge--${tone}`, dataset: { state: m.state } }, label);
}

function deliveryCell(m) {
  if (m.state === 'sent') return h('span', null, 'sent ', timeEl(m.sent_at));
  const tries = `${m.attempts || 0} ${m.attempts === 1 ? 'try' : 'tries'}`;
  return h('div', { class: 'stack-tight' },
    h('div', null, tries, m.state === 'pending' && m.next_attempt_at ? [', next ', timeEl(m.next_attempt_at)] : ''),
    m.last_error ? h('div', { class: 'muted' }, m.last_error) : null);
}

function render(reply) {
  const items = reply.items || [];
  if (!items.length) return emptyState('Nothing here', 'Notifications appear when leases are requested, approved, opened or end, and when users are invited or welcomed.');
  return table([
    { label: 'State', cell: stateCell },
    { label: 'Event', cell: (m) => h('div', { class: 'stack-tight' }, h('div', null, h('code', null, m.event)), m.subject ? h('div', null, m.subject) : null) },
    { label: 'To', cell: (m) => h('div', { class: 'stack-tight' }, h('div', null, badge(m.channel === 'email' ? 'Email' : m.channel, 'neutral')), h('div', { class: 'name-list' }, m.target)) },
    { label: 'Queued', cell: (m) => timeEl(m.created_at) },
    { label: 'Delivery', cell: deliveryCell },
  ], items, { caption: 'Notifications', rowKey: (m) => m.id });
}
