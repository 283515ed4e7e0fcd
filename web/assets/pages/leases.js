// pages/leases.js: "My leases": live leases (active, and waiting: for
// approval, for the next sign-in, for an invitation to be used) with a
// countdown, source, rules, renew / terminate / withdraw / cancel; and
// recently ended ones.
import { h, replace } from '../dom.js';
import { api, query } from '../api.js';
import { emptyState, pageHeader, loadInto } from '../ui.js';
import { liveLeaseTable, endedLeaseTable, keepCountdowns, terminateLease, renewLease, endLabel } from '../leases_ui.js';

export default async function leasesPage(ctx) {
  const liveBox = h('div', { class: 'section-body', id: 'live-leases' });
  const endedBox = h('div', { class: 'section-body', id: 'ended-leases' });
  replace(ctx.view,
    pageHeader('My leases', 'The access you hold now, and what ended recently.', h('a', { href: '/', class: 'btn btn--primary' }, 'Get access')),
    h('section', { 'aria-labelledby': 'live-title', class: 'section' },
      h('h2', { id: 'live-title', class: 'section-title' }, 'Active and pending'), liveBox),
    h('section', { 'aria-labelledby': 'ended-title', class: 'section' },
      h('h2', { id: 'ended-title', class: 'section-title' }, 'Recently ended'), endedBox));

  // Policy limits for the renew dialog come from the grants, loaded once on demand.
  let grants = null;
  const limitsFor = async (lease) => {
    if (!grants) {
      try { grants = (await api.get('/me/grants')).items || []; } catch { grants = []; }
    }
    const g = grants.find((x) => x.policy === lease.policy && x.requestable !== false);
    return g ? { defaultSeconds: g.default_seconds, maxSeconds: g.max_seconds } : {};
  };

  const actions = (lease) => [
    lease.state === 'active'
      ? h('button', { type: 'button', class: 'btn btn--small', dataset: { action: 'renew' },
        onclick: async () => { if (await renewLease(lease, await limitsFor(lease))) loadAll(); } }, 'Renew')
      : null,
    h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', dataset: { action: 'terminate' },
      onclick: async () => { if (await terminateLease(lease)) loadAll(); } }, endLabel(lease)),
  ];

  const mine = (state, limit) => api.get(`/leases${query({ state, mine: 'true', limit })}`).then((r) => r.items);
  const loadAll = () => Promise.all([
    loadInto(ctx, liveBox, () => mine('live', 100), (items) => (items.length
      ? liveLeaseTable(items, { actions })
      : emptyState('No active access', 'When you request access, it shows here with the time it has left.',
        h('a', { href: '/', class: 'btn btn--primary' }, 'Get access'))), 'Loading your leases…'),
    loadInto(ctx, endedBox, () => mine('ended', 20), (items) => (items.length
      ? endedLeaseTable(items)
      : emptyState('Nothing ended yet', 'Leases that expire or are terminated are listed here.')), 'Loading recent leases…'),
  ]);
  await loadAll();
  keepCountdowns(ctx, loadAll);
}
