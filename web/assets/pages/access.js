// pages/access.js: "Get access", the home page. Lists what this user may
// request (GET /api/v1/me/grants) with each policy's limits, the address the
// server sees, and requests a lease in one click or with options.
import { h, replace, append, uid } from '../dom.js';
import { api, query } from '../api.js';
import { session, server } from '../state.js';
import {
  loading, emptyState, errorState, alertBox, badge, stateBadge, ruleBadge, timeEl, field, input,
  messageOf, withBusy, pageHeader, checkbox, select, copyButton,
} from '../ui.js';
import { humanDuration, countdown, secondsUntil, apiDuration } from '../format.js';
import { durationPicker } from '../duration_picker.js';

export default async function accessPage(ctx) {
  const ipLine = h('p', { class: 'ip-banner__ip' }, 'Your IP: ', h('code', { class: 'ip' }, session.clientIp || '…'));
  const list = h('div', { class: 'grants' });
  replace(ctx.view,
    pageHeader('Get access', 'Open a temporary hole in the firewall for the address you are connecting from.'),
    h('section', { class: 'ip-banner', 'aria-label': 'Your address' },
      ipLine,
      h('p', { class: 'ip-banner__note' }, 'This is the address the server sees. Access you request for yourself opens for this address only.')),
    list);

  const load = async () => {
    replace(list, loading('Loading what you can access…'));
    try {
      const [grants, live] = await Promise.all([
        api.get('/me/grants'),
        api.get(`/leases${query({ state: 'live', mine: 'true', limit: 100 })}`),
      ]);
      if (!ctx.isCurrent()) return;
      if (grants.client_ip) {
        session.clientIp = grants.client_ip;
        replace(ipLine, 'Your IP: ', h('code', { class: 'ip' }, grants.client_ip));
      }
      renderGrants(ctx, list, grants.items || [], live.items || []);
    } catch (error) {
      if (ctx.isCurrent() && error.status !== 401) replace(list, errorState(error, load));
    }
  };
  await load();

  // Keep the "open for ..." countdowns on the cards current.
  const timer = setInterval(() => tick(ctx.view), 1000);
  ctx.onCleanup(() => clearInterval(timer));
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-expires]')) {
    const left = secondsUntil(el.dataset.expires);
    el.textContent = left > 0 ? `${countdown(left)} left` : 'ended';
  }
}

function renderGrants(ctx, list, items, live) {
  if (!items.length) {
    replace(list, emptyState('Nothing to request yet',
      'No policy grants you access to a service. Ask an administrator to add you to one.'));
    return;
  }
  const requestable = items.filter((g) => g.requestable !== false);
  const others = items.filter((g) => g.requestable === false);
  replace(list,
    h('h2', { class: 'section-title' }, 'Available to you'),
    requestable.length
      ? h('div', { class: 'card-grid' }, requestable.map((g) => grantCard(ctx, g, live)))
      : emptyState('Nothing you can request', 'The groups below are listed for everyone, but no policy grants them to you.'),
    others.length ? h('h2', { class: 'section-title' }, 'Listed, not granted to you') : null,
    others.length ? h('div', { class: 'card-grid' }, others.map((g) => grantCard(ctx, g, live))) : null);
}

function coveringLease(grant, live) {
  const names = grant.services.map((s) => s.name);
  return live.find((l) => l.state === 'active' && l.recipient?.kind === 'self' && names.every((n) => l.services.includes(n)));
}

function whereText(s) {
  const where = s.protocol === 'tcp' || s.protocol === 'udp' ? `${s.protocol.toUpperCase()} ${s.ports}` : s.protocol;
  const how = s.backend === 'tunnel' ? 'through Pinhole' : s.backend;
  return [where, how].filter(Boolean).join(' · ');
}

// Tunnel services open no hole: say how to reach them.
function tunnelHint(lease) {
  const tunnels = (lease.rules || []).filter((r) => r.backend === 'tunnel').map((r) => r.service);
  if (!tunnels.length) return null;
  const name = tunnels[0];
  return h('p', null, 'Reach ', h('strong', null, tunnels.join(', ')), ' through Pinhole with the command-line client: ',
    h('code', null, `pinhole tunnel ${name} --local-port 2222`), ', or for SSH ',
    h('code', null, `ssh -o ProxyCommand='pinhole connect ${name}' you@${name}`), '.');
}

function serviceLine(s) {
  return h('li', { class: 'service-line' },
    h('span', { class: 'service-line__name' }, s.name),
    h('span', { class: 'service-line__meta' }, whereText(s)),
    s.description ? h('span', { class: 'service-line__desc' }, s.description) : null);
}

function recipientText(grant) {
  const parts = [];
  if (grant.recipients.includes('self')) parts.push('your address');
  if (grant.recipients.includes('cidr')) {
    const p = grant.min_prefix || {};
    parts.push(`a network of up to /${p.ipv4 ?? 32} (IPv4) or /${p.ipv6 ?? 128} (IPv6)`);
  }
  if (grant.recipients.includes('invite') && server.features.invitations) parts.push('someone you invite');
  return parts.join(', ') || '—';
}

function grantCard(ctx, grant, live) {
  const titleId = uid('grant');
  const card = h('article', { class: 'card grant', 'aria-labelledby': titleId, dataset: { grant: grant.name, kind: grant.kind } });
  const result = h('div', { class: 'grant__result', 'aria-live': 'polite' });
  const head = h('div', { class: 'grant__head' },
    h('h3', { id: titleId, class: 'grant__title' }, grant.name),
    h('div', { class: 'badges' },
      badge(grant.kind === 'access_group' ? 'Access group' : 'Service', 'info'),
      grant.public ? badge('Public', 'neutral') : null,
      grant.approval === 'admin' && server.features.approval ? badge('Needs approval', 'warning') : null));
  append(card, head,
    grant.description ? h('p', { class: 'grant__desc' }, grant.description) : null,
    grant.kind === 'access_group' || grant.services.length !== 1 || grant.services[0].name !== grant.name
      ? h('ul', { class: 'service-list', 'aria-label': 'Services' }, grant.services.map(serviceLine))
      : h('p', { class: 'grant__meta' }, whereText(grant.services[0])));

  if (grant.requestable === false) {
    append(card, h('p', { class: 'muted grant__note' }, 'No policy grants this to you. Ask an administrator if you need it.'));
    return card;
  }

  append(card, h('dl', { class: 'limits' },
    h('div', null, h('dt', null, 'Default'), h('dd', null, humanDuration(grant.default_seconds))),
    h('div', null, h('dt', null, 'Maximum'), h('dd', null, humanDuration(grant.max_seconds))),
    h('div', { class: 'limits__wide' }, h('dt', null, 'For'), h('dd', null, recipientText(grant))),
    grant.policy ? h('div', { class: 'limits__wide' }, h('dt', null, 'Policy'), h('dd', null, grant.policy)) : null));

  const activeLine = h('div', { class: 'grant__active' });
  const showActive = (lease) => {
    if (!lease) { replace(activeLine); return; }
    replace(activeLine, h('p', null, stateBadge('active'), ' Open for ', h('code', null, lease.source_cidr), ' · ',
      h('span', { class: 'countdown', dataset: { expires: lease.expires_at } }, `${countdown(secondsUntil(lease.expires_at))} left`),
      ' · ', h('a', { href: '/leases' }, 'My leases')));
  };
  showActive(coveringLease(grant, live));

  const oneClick = h('button', { type: 'button', class: 'btn btn--primary', dataset: { action: 'quick-request' } },
    `Get access for ${humanDuration(grant.default_seconds)}`);
  const options = optionsForm(grant);
  const details = h('details', { class: 'grant__options' }, h('summary', null, 'More options'), options.form);

  const send = async (button, body) => {
    replace(result);
    try {
      const lease = await withBusy(button, () => api.post('/leases', body));
      replace(result, leaseResult(lease));
      if (lease.state === 'active' && lease.recipient?.kind === 'self') showActive(lease);
    } catch (error) {
      if (error.status === 401) return;
      replace(result, requestError(error));
    }
  };
  const target = grant.kind === 'access_group' ? { access_group: grant.name } : { services: [grant.name] };
  oneClick.addEventListener('click', () => send(oneClick, { ...target, duration: grant.default_duration || grant.default_seconds }));
  options.form.addEventListener('submit', (event) => {
    event.preventDefault();
    replace(result);
    const body = options.read();
    if (body.error) {
      replace(result, alertBox('error', body.error));
      return;
    }
    send(options.submit, { ...target, ...body });
  });

  append(card, activeLine, h('div', { class: 'grant__actions' }, oneClick), details, result);
  return card;
}

function optionsForm(grant) {
  const picker = durationPicker({ defaultSeconds: grant.default_seconds, maxSeconds: grant.max_seconds });
  const reason = input({ name: 'reason', maxlength: '500', placeholder: 'For example: deploying release 4.2' });
  const kinds = grant.recipients.filter((k) => k !== 'invite' || server.features.invitations);
  const recipientName = uid('rcp');
  const cidr = input({ name: 'cidr', placeholder: '198.51.100.0/28', spellcheck: 'false', autocapitalize: 'none' });
  const email = input({ name: 'email', type: 'email', placeholder: 'guest@example.com', autocomplete: 'off', spellcheck: 'false' });
  const emailOn = server.features.email !== false;
  const sendEmail = checkbox('send_email', 'Email the link to them', emailOn,
    emailOn ? 'Otherwise you get the link to pass on yourself.' : 'Email is not set up on this server: you get the link to pass on.');
  sendEmail.querySelector('input').disabled = !emailOn;
  const inviteExpiry = select({ name: 'invite_expires' }, [['', 'Server default (usually 7 days)'], ['1d', '1 day'], ['3d', '3 days'], ['7d', '7 days']], '');
  const p = grant.min_prefix || {};
  const recipientOptions = {
    self: ['My address', session.clientIp ? ` (${session.clientIp})` : ''],
    cidr: ['A network (CIDR)', ''],
    invite: ['Someone else, by email', ''],
  };
  let recipientSet = null;
  if (kinds.length > 1 || (kinds.length === 1 && kinds[0] !== 'self')) {
    const radios = kinds.map((k, i) => {
      const r = h('input', { type: 'radio', name: recipientName, value: k, checked: i === 0, id: uid() });
      return h('div', { class: 'check' }, r, h('label', { for: r.id }, recipientOptions[k][0], h('span', { class: 'muted' }, recipientOptions[k][1])));
    });
    const cidrField = field('Network address', cidr, `Prefix /${p.ipv4 ?? 32} or longer for IPv4, /${p.ipv6 ?? 128} or longer for IPv6.`);
    const emailField = h('div', { class: 'recipient' },
      field('Email of the person to invite', email, 'Their link opens access for the address they confirm it from.'),
      sendEmail,
      field('The link can be used for', inviteExpiry));
    recipientSet = h('fieldset', { class: 'recipient' }, h('legend', { class: 'field__label' }, 'Open for'), radios, cidrField, emailField);
    const sync = () => {
      const k = recipientSet.querySelector(`input[name="${recipientName}"]:checked`)?.value;
      cidrField.hidden = k !== 'cidr';
      emailField.hidden = k !== 'invite';
    };
    recipientSet.addEventListener('change', sync);
    sync();
  }
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', dataset: { action: 'request' } }, 'Request access');
  const form = h('form', { class: 'form form--compact', novalidate: true },
    picker.el,
    recipientSet,
    field('Reason (optional)', reason, 'Recorded in the audit log.'),
    h('div', { class: 'form__actions' }, submit));

  function read() {
    const d = picker.read();
    if (d.error) return d;
    const body = { duration: apiDuration(d.seconds) };
    if (reason.value.trim()) body.reason = reason.value.trim();
    const kind = recipientSet ? recipientSet.querySelector(`input[name="${recipientName}"]:checked`)?.value : 'self';
    if (kind === 'cidr') {
      const problem = checkCidr(cidr.value.trim(), p);
      if (problem) return { error: problem };
      body.recipient = { kind: 'cidr', cidr: cidr.value.trim() };
    } else if (kind === 'invite') {
      if (!/^[^\s@]+@[^\s@]+$/.test(email.value.trim())) return { error: 'Enter the email address of the person to invite.' };
      body.recipient = { kind: 'invite', email: email.value.trim(), send_email: emailOn && sendEmail.querySelector('input').checked };
      if (inviteExpiry.value) body.recipient.expires_in = inviteExpiry.value;
    }
    return body;
  }
  return { form, read, submit };
}

/** A quick check of a CIDR before the server's real one; null when fine. */
export function checkCidr(text, minPrefix) {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return 'Enter a network as address/prefix, for example 198.51.100.0/28.';
  const prefix = Number(m[2]);
  const v6 = m[1].includes(':');
  if (!v6) {
    const octets = m[1].split('.');
    if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255) || prefix > 32) {
      return `${text} is not a valid IPv4 network.`;
    }
  } else if (!/^[0-9a-fA-F:.]+$/.test(m[1]) || prefix > 128) {
    return `${text} is not a valid IPv6 network.`;
  }
  const min = v6 ? minPrefix.ipv6 ?? 128 : minPrefix.ipv4 ?? 32;
  if (prefix < min) return `/${prefix} is wider than this policy allows: use /${min} or narrower.`;
  return null;
}

function leaseResult(lease) {
  if (lease.state === 'active') {
    const rules = lease.rules || [];
    const allApplied = rules.length > 0 && rules.every((r) => r.status === 'applied');
    return alertBox(allApplied ? 'success' : 'warning',
      h('p', { class: 'alert__title' }, allApplied ? 'Access is open' : 'Access is open, but not every rule is in place yet'),
      h('p', null, 'For ', h('code', null, lease.source_cidr), ' until ', timeEl(lease.expires_at),
        ` (${humanDuration(secondsUntil(lease.expires_at))}).`),
      h('div', { class: 'badges', 'aria-label': 'Rules' }, rules.map((r) => ruleBadge(r))),
      tunnelHint(lease),
      h('p', null, h('a', { href: '/leases' }, 'See it in My leases')));
  }
  if (lease.state === 'pending_approval') {
    return alertBox('warning',
      h('p', { class: 'alert__title', dataset: { result: 'pending_approval' } }, 'Waiting for approval'),
      h('p', null, 'An administrator has to approve this request; nothing is open yet. ',
        lease.expires_at ? ['If nobody decides by ', timeEl(lease.expires_at), ', it lapses. '] : '',
        'You are told the outcome, and it is listed under ', h('a', { href: '/leases' }, 'My leases'), '.'));
  }
  if (lease.state === 'approved') {
    return alertBox('info',
      h('p', { class: 'alert__title', dataset: { result: 'approved' } }, 'Approved: opens at your next sign-in'),
      h('p', null, 'Access opens for the address you sign in from next.'));
  }
  if (lease.state === 'invited') {
    const inv = lease.invitation || {};
    const who = lease.recipient?.email || 'the guest';
    return alertBox('info',
      h('p', { class: 'alert__title', dataset: { result: 'invited' } }, inv.emailed ? `Invitation emailed to ${who}` : `Invitation for ${who} created`),
      h('p', null, inv.emailed
        ? 'They got a link; access opens for their address when they confirm it.'
        : 'It was not emailed: send them this link yourself. Access opens for their address when they confirm it.'),
      inv.url ? h('div', { class: 'secret' },
        h('code', { class: 'secret__value secret__value--link', dataset: { secret: 'invitation-url' } }, inv.url),
        copyButton(inv.url, 'Copy link')) : null,
      inv.url ? h('p', { class: 'field__hint' }, 'The link is shown only now. Anyone who has it can use it, once.') : null,
      h('p', null, 'The link works until ', timeEl(inv.expires_at || lease.expires_at), '. Cancel it any time under ',
        h('a', { href: '/leases' }, 'My leases'), '.'));
  }
  return alertBox('info', h('p', null, 'The request was recorded: ', stateBadge(lease.state)));
}

/** A refused request: the server's message, with a clearer title for the known cases. */
function requestError(error) {
  const titles = {
    outside_schedule: 'Not available at this time',
    not_permitted: 'Not allowed',
    invalid_recipient: 'Check the recipient',
  };
  return alertBox('error',
    titles[error.code] ? h('p', { class: 'alert__title' }, titles[error.code]) : null,
    h('p', { dataset: { errorCode: error.code || '' } }, messageOf(error)),
    h('p', { class: 'alert__code' }, error.code));
}
