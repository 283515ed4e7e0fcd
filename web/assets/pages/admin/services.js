// pages/admin/services.js: services per backend (what a lease opens):
// protocol and ports, and a backend-specific target. Targets for backends
// other than nftables are edited as JSON, checked here and by the server.
import { h, append } from '../../dom.js';
import { server } from '../../state.js';
import { table, field, input, select, checkbox, invalid, badge } from '../../ui.js';
import { adminListPage } from './common.js';

const EXAMPLES = {
  'aws-sg': '{"region": "eu-west-1", "security_groups": ["sg-0123456789abcdef0"]}',
  tunnel: '{"address": "10.0.0.5", "port": 22}',
};

export default function servicesPage(ctx) {
  return adminListPage(ctx, {
    path: '/services',
    noun: 'service',
    title: 'Services',
    subtitle: 'What a lease can open: a protocol and ports, enforced by a backend.',
    newAction: 'new-service',
    empty: ['No services yet', 'A service names what a lease opens, for example SSH on port 22.'],
    view: byBackend,
    form: { wide: true, build: serviceForm },
    deleteMessage: 'Policies and access groups that name it stop offering it. A service with live leases cannot be deleted.',
  });
}

export function portsText(s) {
  return s.protocol === 'tcp' || s.protocol === 'udp' ? `${s.protocol.toUpperCase()} ${s.ports}` : s.protocol.toUpperCase();
}

function targetText(s) {
  const t = s.target || {};
  if (!Object.keys(t).length) return h('span', { class: 'muted' }, s.backend === 'nftables' ? 'this host' : '{}');
  return h('code', { class: 'json-inline' }, JSON.stringify(t));
}

/** One table per backend, each under its own heading. */
function byBackend(_data, items, actions) {
  const backends = [...new Set([...server.backends, ...items.map((s) => s.backend)])];
  return h('div', { class: 'stack' }, backends.map((backend) => {
    const rows = items.filter((s) => s.backend === backend);
    if (!rows.length) return null;
    return h('section', { class: 'section', 'aria-label': `Backend ${backend}` },
      h('h2', { class: 'section-title' }, 'Backend ', h('code', null, backend), ' ', h('span', { class: 'count' }, String(rows.length))),
      table([
        { label: 'Name', cell: (s) => h('div', null, h('strong', null, s.name), s.description ? h('div', { class: 'muted' }, s.description) : null) },
        { label: 'Protocol / ports', cell: (s) => h('code', null, portsText(s)) },
        { label: 'Target', cell: targetText },
        { label: 'On close', cell: (s) => (s.keep_established ? badge('keeps connections', 'neutral') : badge('cuts connections', 'neutral')) },
        actions,
      ], rows, { caption: `Services on ${backend}`, rowKey: (s) => s.name }));
  }));
}

/** "22" or "8000-8100" within 1..65535; returns an error text or null. */
export function checkPorts(text) {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return 'Ports: a port like 22 or a range like 8000-8100.';
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || lo > hi) return 'Ports: use numbers from 1 to 65535, the lower one first.';
  return null;
}


function serviceForm(form, svc) {
  const name = input({ name: 'name', required: true, value: svc?.name || '', spellcheck: 'false' });
  const description = input({ name: 'description', value: svc?.description || '', maxlength: '200' });
  const backends = [...new Set([...server.backends, svc?.backend].filter(Boolean))];
  const backend = select({ name: 'backend' }, backends.map((b) => [b, b]), svc?.backend || backends[0]);
  const protocol = select({ name: 'protocol' }, [['tcp', 'TCP'], ['udp', 'UDP'], ['icmp', 'ICMP'], ['all', 'All protocols']], svc?.protocol || 'tcp');
  const ports = input({ name: 'ports', value: svc?.ports || '', placeholder: '22 or 8000-8100', inputmode: 'numeric', spellcheck: 'false' });
  const portsField = field('Ports', ports, 'One port or a range.');
  const target = h('textarea', { class: 'input input--code', name: 'target', rows: '4', spellcheck: 'false' });
  target.value = svc && svc.target && Object.keys(svc.target).length ? JSON.stringify(svc.target, null, 2) : '';
  const targetField = field('Target (JSON)', target, ' ');
  const keep = checkbox('keep_established', 'Keep established connections when access ends',
    svc?.keep_established, 'By default, expiry and termination cut open connections too.');
  const hasPorts = () => protocol.value === 'tcp' || protocol.value === 'udp';
  const sync = () => {
    portsField.hidden = !hasPorts();
    target.placeholder = EXAMPLES[backend.value] || '{}';
    targetField.querySelector('.field__hint').textContent = backend.value === 'nftables'
      ? 'Leave empty for this host (the firewall Pinhole runs on).'
      : `Where ${backend.value} applies the rule, for example ${EXAMPLES[backend.value] || '{}'}`;
  };
  protocol.addEventListener('change', sync);
  backend.addEventListener('change', sync);
  append(form,
    h('div', { class: 'form-grid' }, field('Name', name, 'Users see this name. Letters, digits, dot, dash and underscore.'), field('Description', description)),
    h('div', { class: 'form-grid' }, field('Backend', backend), field('Protocol', protocol)),
    portsField, targetField, keep);
  sync();

  return () => {
    if (!name.value.trim()) throw invalid('Enter a name.');
    const body = {
      name: name.value.trim(),
      description: description.value.trim(),
      backend: backend.value,
      protocol: protocol.value,
      keep_established: keep.querySelector('input').checked,
    };
    if (hasPorts()) {
      const problem = checkPorts(ports.value.trim());
      if (problem) throw invalid(problem);
      body.ports = ports.value.trim();
    }
    const text = target.value.trim();
    let parsed = {};
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw invalid(`Target is not valid JSON: ${e.message}`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Target must be a JSON object, like {"key": "value"}.');
    }
    body.target = parsed;
    return body;
  };
}
