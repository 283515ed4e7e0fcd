// pages/approve.js: where the one-click links in an admin's email land
// (/approve/<token>; the token starts "a." to approve, "d." to deny). GET
// only shows the request; the decision is the POST behind the one button.
import { h, replace, append } from '../dom.js';
import { api, seg } from '../api.js';
import { alertBox, timeEl, field, input, withBusy, loading, ruleBadge } from '../ui.js';
import { humanDuration, parseDuration } from '../format.js';
import { linkCard, showLinkProblem, facts } from './link_common.js';

export default async function approvePage(ctx) {
  const [token] = ctx.params;
  const parts = linkCard(ctx, 'Access request');
  replace(parts.body, loading('Loading the request…'));
  let link;
  try {
    link = await api.get(`/approval-links/${seg(token)}`, { quiet: true });
  } catch (error) {
    if (ctx.isCurrent()) showLinkProblem(parts, error, { what: 'approval link', help: helpText() });
    return;
  }
  if (!ctx.isCurrent()) return;
  const approve = link.action === 'approve';
  const lease = link.lease || {};
  replace(parts.heading, approve ? 'Approve this access request?' : 'Deny this access request?');

  const note = input({ name: 'reason', maxlength: '500', autocomplete: 'off' });
  const button = h('button', { type: 'submit', class: ['btn', 'btn--block', approve ? 'btn--primary' : 'btn--danger'], dataset: { action: link.action } },
    approve ? 'Approve access' : 'Deny request');
  const errorArea = h('div', { class: 'form-error' });
  const form = h('form', { class: 'form', novalidate: true },
    errorArea,
    field(approve ? 'Note (optional)' : 'Reason (optional)', note, 'Told to the requester and kept in the audit log.'),
    button);

  replace(parts.body,
    h('p', { class: 'auth-card__lead' },
      h('strong', null, lease.owner || 'Someone'), ' asks for access. ',
      approve ? 'Approving opens it as described below.' : 'Denying ends the request; they are told.'),
    facts([
      ['Requested by', lease.owner],
      ['Services', (lease.services || []).join(', ')],
      ['From address', lease.source_cidr ? h('code', null, lease.source_cidr) : null],
      ['For', lease.duration ? humanDuration(parseDuration(lease.duration)) : null],
      ['Reason', lease.reason || h('span', { class: 'muted' }, 'none given')],
      ['Asked', lease.created_at ? timeEl(lease.created_at) : null],
      ['Request', lease.id !== undefined ? `#${lease.id}` : null],
    ]),
    h('p', { class: 'muted link-card__small' }, 'You act as ', h('strong', null, link.admin || 'an administrator'),
      link.link_expires_at ? [' · this link works once, until ', timeEl(link.link_expires_at)] : '', '.'),
    form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorArea);
    const body = note.value.trim() ? { reason: note.value.trim() } : {};
    let decided;
    try {
      decided = await withBusy(button, () => api.post(`/approval-links/${seg(token)}`, body, { quiet: true, csrf: false }));
    } catch (error) {
      if (!ctx.isCurrent()) return;
      if (error.status === 404 || error.status === 410 || error.status === 403) {
        showLinkProblem(parts, error, { what: 'approval link', help: helpText() });
      } else {
        replace(errorArea, alertBox('error', error.message));
      }
      return;
    }
    if (!ctx.isCurrent()) return;
    replace(parts.heading, decided.state === 'denied' ? 'Request denied' : 'Request approved');
    replace(parts.body, decidedResult(decided));
    parts.heading.focus({ preventScroll: true });
  });
  note.focus();
}

function decidedResult(lease) {
  const who = lease.owner || 'The requester';
  if (lease.state === 'denied') {
    return alertBox('info', h('p', { class: 'alert__title', dataset: { result: 'denied' } }, 'Denied'),
      h('p', null, `${who} is told that the request was denied. Nothing was opened.`));
  }
  const box = alertBox('success', h('p', { class: 'alert__title', dataset: { result: lease.state } }, 'Approved'));
  if (lease.state === 'active') {
    append(box, h('p', null, 'Access to ', h('strong', null, (lease.services || []).join(', ')), ' is open for ',
      h('code', null, lease.source_cidr || ''), lease.expires_at ? [' until ', timeEl(lease.expires_at)] : '', '.'),
    h('div', { class: 'badges', 'aria-label': 'Rules' }, (lease.rules || []).map((r) => ruleBadge(r))));
  } else if (lease.state === 'approved') {
    append(box, h('p', null, `It opens for the address ${who} signs in from next`,
      lease.expires_at ? [' (if they sign in before ', timeEl(lease.expires_at), ')'] : '', '.'));
  } else if (lease.state === 'invited') {
    append(box, h('p', null, 'The invitation goes out now; access opens when the guest uses its link.'));
  } else {
    append(box, h('p', null, `The request is now: ${lease.state}.`));
  }
  append(box, h('p', null, `${who} is told.`));
  return box;
}

function helpText() {
  return 'You can still decide pending requests in the portal under Admin › Leases, or with "pinhole admin pending".';
}
