// pages/admin/leases.js: every live lease and every pending request, with
// terminate, and approve / deny when the server has approvals.
import { h, replace } from '../../dom.js';
import { api, query } from '../../api.js';
import { server } from '../../state.js';
import { emptyState, loadInto } from '../../ui.js';
import { liveLeaseTable, endedLeaseTable, keepCountdowns, terminateLease, decideLease, endLabel } from '../../leases_ui.js';
import { adminFrame } from './common.js';

export default async function adminLeasesPage(ctx) {
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const body = adminFrame(ctx, 'Leases', server.features.approval
    ? 'All access that is open or waiting for approval, across every user.'
    : 'All access that is open, across every user.', refresh);
  const pendingBox = h('div', { class: 'section-body' });
  const liveBox = h('div', { class: 'section-body' });
  const endedBox = h('div', { class: 'section-body' });
  // Without approvals nothing waits, so the section only appears when the server has them.
  replace(body,
    server.features.approval ? h('section', { class: 'section' }, h('h2', { class: 'section-title' }, 'Waiting for approval'), pendingBox) : null,
    h('section', { class: 'section' }, h('h2', { class: 'section-title' }, server.features.invitations || server.features.approval ? 'Active and waiting to open' : 'Active'), liveBox),
    h('section', { class: 'section' }, h('h2', { class: 'section-title' }, 'Recently ended'), endedBox));

  const terminate = (l) => h('button', { type: 'button', class: 'btn btn--small btn--danger-outline',
    onclick: async () => { if (await terminateLease(l, { mine: false })) loadAll(); } }, endLabel(l));
  const decide = (l, verb, label, cls) => h('button', { type: 'button', class: `btn btn--small ${cls}`, dataset: { action: verb },
    onclick: async () => { if (await decideLease(l, verb)) loadAll(); } }, label);
  const pendingActions = (l) => (server.features.approval
    ? [decide(l, 'approve', 'Approve', 'btn--primary'), decide(l, 'deny', 'Deny', 'btn--danger-outline')]
    : [terminate(l)]);

  const list = (state, limit = 200) => api.get(`/leases${query({ state, limit })}`).then((r) => r.items);
  const loadAll = () => Promise.all([
    server.features.approval ? loadInto(ctx, pendingBox, () => list('pending_approval'), (items) => (items.length
      ? liveLeaseTable(items, { showOwner: true, actions: pendingActions })
      : emptyState('Nothing is waiting', 'Requests under policies that need an admin\'s approval appear here.'))) : null,
    loadInto(ctx, liveBox, async () => (await list('live')).filter((l) => l.state !== 'pending_approval'), (items) => (items.length
      ? liveLeaseTable(items, { showOwner: true, actions: (l) => [terminate(l)] })
      : emptyState('No active leases', 'Nobody has access open right now, and no invitation or approved request is waiting.'))),
    loadInto(ctx, endedBox, () => list('ended', 25), (items) => (items.length
      ? endedLeaseTable(items, { showOwner: true })
      : emptyState('Nothing ended yet', 'Expired, terminated and revoked leases appear here.'))),
  ]);
  refresh.addEventListener('click', loadAll);
  await loadAll();
  keepCountdowns(ctx, loadAll);
}
