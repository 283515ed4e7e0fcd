// pages/invite.js: the page an invitation email links to (/invite/<token>).
// It first shows what will be granted (GET, changes nothing); the button
// activates the invited lease for the address this browser connects from.
import { h, replace } from '../dom.js';
import { api, seg } from '../api.js';
import { server } from '../state.js';
import { alertBox, messageOf, withBusy, timeEl, loading, ruleBadge } from '../ui.js';
import { humanDuration, parseDuration } from '../format.js';
import { linkCard, showLinkProblem, facts } from './link_common.js';

export default async function invitePage(ctx) {
  const [token] = ctx.params;
  const parts = linkCard(ctx, 'Temporary network access');
  if (!server.features.invitations) {
    replace(parts.body, alertBox('info', 'Invitations are not enabled on this server.'));
    return;
  }
  replace(parts.body, loading('Loading the invitation…'));
  let inv;
  try {
    inv = await api.get(`/invitations/${seg(token)}`, { quiet: true });
  } catch (error) {
    if (ctx.isCurrent()) showLinkProblem(parts, error, { what: 'invitation', help: 'Ask the person who invited you for a new invitation.' });
    return;
  }
  if (!ctx.isCurrent()) return;

  const ip = inv.your_ip || '';
  const services = (inv.services || []).join(', ');
  const duration = inv.duration ? humanDuration(parseDuration(inv.duration)) : null;
  const result = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'btn btn--primary btn--block', dataset: { action: 'activate' } },
    ip ? `Open access for ${ip}` : 'Open access');
  replace(parts.body,
    h('p', { class: 'auth-card__lead' },
      h('strong', null, inv.invited_by || 'Someone'), ' invited ', inv.email ? h('strong', null, inv.email) : 'you',
      ` to connect to services protected by ${server.name}. Confirming opens them for the address you are connecting from right now.`),
    facts([
      ['Services', services],
      ['For', duration ? `${duration} from when you confirm` : null],
      ['Your address', ip ? h('code', { class: 'ip', dataset: { yourIp: ip } }, ip) : null],
      ['Invited by', inv.invited_by],
      ['Note', inv.reason],
      ['Link valid until', inv.expires_at ? timeEl(inv.expires_at) : null],
    ]),
    h('p', { class: 'muted link-card__small' },
      'The link works once. Open it from the network you want to connect from: on another network (mobile data, a VPN) your address is different.'),
    button, result);

  button.addEventListener('click', async () => {
    replace(result);
    let lease;
    try {
      lease = await withBusy(button, () => api.post(`/invitations/${seg(token)}/activate`, {}, { quiet: true, csrf: false }));
    } catch (error) {
      if (!ctx.isCurrent()) return;
      if (error.status === 404 || error.status === 410) {
        showLinkProblem(parts, error, { what: 'invitation', help: 'Ask the person who invited you for a new invitation.' });
      } else {
        replace(result, alertBox('error', messageOf(error)));
      }
      return;
    }
    if (!ctx.isCurrent()) return;
    button.remove();
    replace(parts.heading, 'Access is open');
    replace(result, alertBox('success',
      h('p', { class: 'alert__title', dataset: { result: 'active' } }, 'You can connect now'),
      h('p', null, 'Access to ', h('strong', null, (lease.services || inv.services || []).join(', ')), ' is open for ',
        h('code', null, lease.source_cidr || ip), lease.expires_at ? [' until ', timeEl(lease.expires_at)] : '', '.'),
      lease.rules ? h('div', { class: 'badges', 'aria-label': 'Rules' }, lease.rules.map((r) => ruleBadge(r))) : null));
    parts.heading.focus({ preventScroll: true });
  });
}
