// pages/invite.js: the page an invitation email links to. Confirming
// activates the invited lease for the address this browser connects from.
import { h, replace, append } from '../dom.js';
import { api, seg } from '../api.js';
import { server } from '../state.js';
import { alertBox, messageOf, withBusy, timeEl, ruleBadge } from '../ui.js';

export default async function invitePage(ctx) {
  const [token] = ctx.params;
  const card = h('section', { class: 'auth-card card', 'aria-labelledby': 'inv-title' },
    h('h1', { id: 'inv-title', class: 'auth-card__title', tabindex: '-1' }, 'Temporary network access'));
  replace(ctx.view, h('div', { class: 'auth-page' }, card));
  if (!server.features.invitations) {
    append(card, alertBox('info', 'Invitations are not enabled on this server.'));
    return;
  }
  const result = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'btn btn--primary btn--block' }, 'Activate access');
  button.addEventListener('click', async () => {
    replace(result);
    try {
      const lease = await withBusy(button, () => api.post(`/invitations/${seg(token)}/activate`, {}, { quiet: true }));
      button.hidden = true;
      replace(result, alertBox('success',
        h('p', null, 'Access is open for ', h('code', null, lease.source_cidr), ' until ', timeEl(lease.expires_at), '.'),
        h('div', { class: 'badges' }, (lease.rules || []).map((r) => ruleBadge(r)))));
    } catch (error) {
      const gone = error.status === 404 || error.status === 410;
      replace(result, alertBox('error', gone
        ? 'This invitation link is not valid any more: it was already used, cancelled, or it has expired.'
        : messageOf(error)));
    }
  });
  append(card,
    h('p', { class: 'auth-card__lead' }, 'You were invited to connect to a service protected by ', server.name,
      '. Activating opens it for the address you are connecting from right now, for a limited time. The link works once.'),
    button, result);
}
