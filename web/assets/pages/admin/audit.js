// pages/admin/audit.js: the audit log, newest first, filtered by actor,
// action prefix and time range, paged with "Older" (order=desc&before=SEQ).
// Filters live in the URL so a reload or a shared link shows the same view.
import { h, replace } from '../../dom.js';
import { api, query } from '../../api.js';
import { navigate } from '../../router.js';
import { table, timeEl, emptyState, field, input, loadInto } from '../../ui.js';
import { localInputToUtc, utcToLocalInput } from '../../format.js';
import { adminFrame } from './common.js';

const PAGE = 50;
const ACTIONS = ['session.', 'lease.', 'lease.create', 'lease.terminate', 'lease.expire', 'lease.revoke', 'user.', 'group.', 'service.', 'access_group.', 'policy.'];

export default async function auditPage(ctx) {
  const q = ctx.query;
  const body = adminFrame(ctx, 'Audit log', 'Everything that changed, who did it and from where. Newest first.');
  const listId = 'audit-actions';
  const actor = input({ name: 'actor', type: 'text', value: q.get('actor') || '', placeholder: 'admin@example.com', spellcheck: 'false', autocomplete: 'off' });
  const action = input({ name: 'action', value: q.get('action') || '', placeholder: 'lease.', list: listId, spellcheck: 'false', autocomplete: 'off' });
  const since = input({ name: 'since', type: 'datetime-local', value: q.get('since') ? utcToLocalInput(q.get('since')) : '' });
  const until = input({ name: 'until', type: 'datetime-local', value: q.get('until') ? utcToLocalInput(q.get('until')) : '' });
  const filters = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter the audit log' },
    h('datalist', { id: listId }, ACTIONS.map((a) => h('option', { value: a }))),
    field('Actor', actor),
    field('Action starts with', action),
    field('From (local time)', since),
    field('Until (local time)', until),
    h('div', { class: 'filters__actions' },
      h('button', { type: 'submit', class: 'btn btn--primary' }, 'Apply'),
      h('a', { href: '/admin/audit', class: 'btn' }, 'Clear')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(`/admin/audit${query({
      actor: actor.value.trim(), action: action.value.trim(),
      since: localInputToUtc(since.value), until: localInputToUtc(until.value),
    })}`);
  });

  const results = h('div', { class: 'section' });
  replace(body, filters, results);
  const params = {
    order: 'desc', limit: PAGE,
    actor: q.get('actor'), action: q.get('action'), since: q.get('since'), until: q.get('until'), before: q.get('before'),
  };
  await loadInto(ctx, results, () => api.get(`/audit${query(params)}`), (reply) => render(reply, params), 'Loading the audit log…');
}

function detailsCell(event) {
  const d = event.details || {};
  const keys = Object.keys(d);
  if (!keys.length) return h('span', { class: 'muted' }, '—');
  return h('details', { class: 'audit-details' },
    h('summary', null, keys.slice(0, 3).join(', ') + (keys.length > 3 ? ', …' : '')),
    h('pre', { class: 'json' }, JSON.stringify(d, null, 2)));
}

function render(reply, params) {
  const items = reply.items || [];
  const filtered = params.actor || params.action || params.since || params.until;
  const base = { actor: params.actor, action: params.action, since: params.since, until: params.until };
  const pager = h('nav', { class: 'pager', 'aria-label': 'Audit pages' },
    params.before ? h('a', { href: `/admin/audit${query(base)}`, class: 'btn' }, '← Newest') : null,
    reply.next_before != null
      ? h('a', { href: `/admin/audit${query({ ...base, before: reply.next_before })}`, class: 'btn', rel: 'next', dataset: { action: 'older' } }, 'Older →')
      : h('span', { class: 'muted' }, items.length ? 'End of the log.' : ''));
  if (!items.length) {
    if (params.before) return h('div', null, emptyState('No older events', 'This is the start of the log for these filters.'), pager);
    return emptyState(filtered ? 'No events match these filters' : 'No events yet',
      filtered ? 'Widen the time range or clear a filter.' : 'Sign-ins and every change are recorded here.');
  }
  return h('div', null,
    table([
      { label: 'Time', cell: (e) => timeEl(e.time, { seconds: true }) },
      { label: 'Actor', cell: (e) => e.actor || h('span', { class: 'muted' }, '—') },
      { label: 'Action', cell: (e) => h('code', { class: 'action' }, e.action) },
      { label: 'Object', cell: (e) => e.object || h('span', { class: 'muted' }, '—') },
      { label: 'Client IP', cell: (e) => (e.client_ip ? h('code', null, e.client_ip) : h('span', { class: 'muted' }, '—')) },
      { label: 'Details', cell: detailsCell },
      { label: 'Seq', class: 'col-num', cell: (e) => h('span', { title: `hash ${e.hash}` }, String(e.seq)) },
    ], items, { caption: 'Audit events', rowKey: (e) => e.seq }),
    pager);
}
