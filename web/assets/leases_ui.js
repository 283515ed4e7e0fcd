// leases_ui.js: lease tables and the lease actions (renew, terminate,
// approve, deny) shared by "My leases" and the admin lease overview.
import { h, append } from './dom.js';
import { api, seg } from './api.js';
import { table, stateBadge, ruleBadge, timeEl, confirmDialog, formDialog, field, input, toast, messageOf, alertBox } from './ui.js';
import { countdown, secondsUntil, humanDuration, apiDuration, parseDuration } from './format.js';
import { durationPicker } from './duration_picker.js';

function recipientNote(lease) {
  const r = lease.recipient || {};
  if (r.kind === 'cidr') return 'network';
  if (r.kind === 'invite') return `invited: ${r.email || ''}`;
  return null;
}

/** Where the hole opens, in words, for a lease that may have no address yet. */
export function sourceText(lease) {
  if (lease.source_cidr) return lease.source_cidr;
  if (lease.recipient?.kind === 'invite') return 'the address the guest confirms from';
  if (lease.state === 'approved') return 'the address of the next sign-in';
  return 'no address yet';
}

function sourceCell(lease) {
  const note = recipientNote(lease);
  const source = lease.source_cidr
    ? h('code', { class: 'source' }, lease.source_cidr)
    : h('span', { class: 'muted source' }, lease.recipient?.kind === 'invite' ? 'when opened' : sourceText(lease));
  return h('span', { class: 'source-cell' }, source, note ? h('span', { class: 'muted' }, note) : null);
}

// Waiting states: for them expires_at is a deadline, not the end of access.
const WAITING = {
  pending_approval: 'decide within',
  approved: 'sign in within',
  invited: 'link expires in',
};

/** The live countdown cell; pages call tickCountdowns every second. */
export function countdownEl(lease) {
  const waiting = WAITING[lease.state];
  if (waiting && lease.expires_at) {
    return h('span', { class: 'deadline' },
      h('span', { class: 'muted' }, `${waiting} `),
      h('span', { class: 'countdown', dataset: { expires: lease.expires_at } }, countdown(secondsUntil(lease.expires_at))));
  }
  if (lease.state !== 'active') return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'countdown', dataset: { expires: lease.expires_at } }, countdown(secondsUntil(lease.expires_at)));
}

/** What ending a lease is called in its state. */
export function endLabel(lease) {
  if (lease.state === 'active') return 'Terminate';
  if (lease.state === 'invited') return 'Cancel invitation';
  return 'Withdraw';
}

/** Updates every countdown under root; returns true when one reached zero. */
export function tickCountdowns(root) {
  let ended = false;
  for (const el of root.querySelectorAll('.countdown[data-expires]')) {
    const left = secondsUntil(el.dataset.expires);
    if (left <= 0 && el.textContent !== 'ended') ended = true;
    el.textContent = countdown(left);
    el.classList.toggle('countdown--soon', left > 0 && left < 300);
  }
  return ended;
}

/**
 * Ticks the countdowns of a page every second; when one reaches zero the
 * lease moves to "ended", so reload() runs once the server had a moment to
 * expire it.
 */
export function keepCountdowns(ctx, reload) {
  const timer = setInterval(() => {
    if (tickCountdowns(ctx.view)) setTimeout(() => { if (ctx.isCurrent()) reload(); }, 1500);
  }, 1000);
  ctx.onCleanup(() => clearInterval(timer));
}

function servicesCell(lease) {
  return h('div', { class: 'lease-services' },
    h('span', { class: 'lease-services__names' }, lease.services.join(', ')),
    h('span', { class: 'muted lease-services__id' }, ` #${lease.id}`),
    lease.reason ? h('span', { class: 'lease-services__reason' }, lease.reason) : null);
}

/** Active and pending leases. actions(lease) returns the buttons of a row. */
export function liveLeaseTable(leases, { showOwner = false, actions } = {}) {
  const cols = [
    { label: 'Services', cell: servicesCell },
    showOwner ? { label: 'Owner', cell: (l) => l.owner } : null,
    { label: 'State', cell: (l) => stateBadge(l.state) },
    { label: 'Source', cell: sourceCell },
    { label: 'Time left', cell: countdownEl },
    { label: 'Expires', cell: (l) => (l.state === 'active' || WAITING[l.state] ? timeEl(l.expires_at) : h('span', { class: 'muted' }, '—')) },
    { label: 'Rules', cell: (l) => h('div', { class: 'badges' }, (l.rules || []).map((r) => ruleBadge(r, { short: l.services.length === 1 }))) },
    actions ? { label: 'Actions', class: 'col-actions', cell: (l) => h('div', { class: 'row-actions' }, actions(l)) } : null,
  ].filter(Boolean);
  return table(cols, leases, { caption: 'Active and waiting leases', rowKey: (l) => l.id });
}

/** Leases that ended: when, how, and who ended them. */
export function endedLeaseTable(leases, { showOwner = false } = {}) {
  const cols = [
    { label: 'Services', cell: servicesCell },
    showOwner ? { label: 'Owner', cell: (l) => l.owner } : null,
    { label: 'State', cell: (l) => stateBadge(l.state) },
    { label: 'Source', cell: sourceCell },
    { label: 'Started', cell: (l) => timeEl(l.activated_at || l.created_at) },
    { label: 'Ended', cell: (l) => timeEl(l.ended_at) },
    { label: 'Ended by', cell: (l) => l.ended_by || h('span', { class: 'muted' }, '—') },
  ].filter(Boolean);
  return table(cols, leases, { caption: 'Ended leases', rowKey: (l) => l.id });
}

/** Confirm, then DELETE the lease (withdraws or cancels a waiting one). Resolves true when it ended. */
export async function terminateLease(lease, { mine = true } = {}) {
  const services = lease.services.join(', ');
  let title;
  let message;
  let done;
  if (lease.state === 'active') {
    title = 'End this access now?';
    message = `The hole for ${lease.source_cidr} (${services}) closes right away${mine ? '' : ` and ${lease.owner} loses access`}. Connections through it are cut too, unless the service keeps them.`;
    done = 'Access ended; the hole is closed.';
  } else if (lease.state === 'invited') {
    title = 'Cancel this invitation?';
    message = `The link sent to ${lease.recipient?.email || 'the guest'} for ${services} stops working. Nothing was opened yet.`;
    done = 'Invitation cancelled; its link no longer works.';
  } else {
    title = mine ? 'Withdraw this request?' : 'Withdraw this request for them?';
    message = `The request for ${services}${mine ? '' : ` by ${lease.owner}`} is cancelled; nothing is opened.`;
    done = 'Request withdrawn.';
  }
  const ok = await confirmDialog({ title, message, confirmLabel: endLabel(lease), danger: true });
  if (!ok) return false;
  try {
    await api.del(`/leases/${seg(lease.id)}`);
    toast(done);
    return true;
  } catch (error) {
    if (error.status !== 401) toast(messageOf(error), 'error');
    return error.code === 'lease_not_live';
  }
}

/** Asks for a new duration (bounded by maxSeconds when known) and renews. */
export async function renewLease(lease, { defaultSeconds = 3600, maxSeconds = null } = {}) {
  let picker;
  const renewed = await formDialog({
    title: 'Renew access',
    submitLabel: 'Renew',
    build(form) {
      picker = durationPicker({ defaultSeconds, maxSeconds, legend: 'New duration, from now' });
      append(form,
        h('p', null, 'Renewing ', h('strong', null, lease.services.join(', ')), ' for ', h('code', null, lease.source_cidr),
          '. It now ends ', timeEl(lease.expires_at), '.'),
        picker.el);
    },
    async submit() {
      const d = picker.read();
      if (d.error) throw new Error(d.error);
      return api.post(`/leases/${seg(lease.id)}/renew`, { duration: apiDuration(d.seconds) });
    },
  });
  if (renewed) toast(`Renewed: open for ${humanDuration(secondsUntil(renewed.expires_at))} more.`);
  return renewed;
}

/** Admin: approve or deny a pending request, with an optional reason. */
export async function decideLease(lease, verb) {
  let reason;
  const approve = verb === 'approve';
  const done = await formDialog({
    title: approve ? 'Approve this request?' : 'Deny this request?',
    submitLabel: approve ? 'Approve' : 'Deny',
    danger: !approve,
    build(form) {
      reason = input({ name: 'reason', maxlength: '500' });
      append(form,
        h('p', null, h('strong', null, lease.owner), ' asks for ', h('strong', null, lease.services.join(', ')),
          lease.duration ? ` for ${humanDuration(parseDuration(lease.duration))}` : '',
          lease.source_cidr ? [' from ', h('code', null, lease.source_cidr)] : [' for ', sourceText(lease)], '.'),
        lease.reason ? alertBox('info', `Their reason: ${lease.reason}`) : null,
        field(approve ? 'Note (optional)' : 'Reason (optional, shown to the requester)', reason));
    },
    submit() {
      const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
      return api.post(`/leases/${seg(lease.id)}/${verb}`, body);
    },
  });
  if (done) toast(decidedText(done, approve));
  return done;
}

function decidedText(lease, approve) {
  if (!approve) return 'Request denied; they are told.';
  if (lease?.state === 'approved') return 'Approved: it opens at their next sign-in.';
  if (lease?.state === 'invited') return 'Approved: the invitation was sent.';
  return 'Approved: access is open.';
}
