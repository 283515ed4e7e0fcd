// pages/admin/services.js: services per backend (what a lease opens):
// protocol and ports, and a backend-specific target. Targets for backends
// other than nftables are edited as JSON, checked here and by the server.
import { h, append } from '../../dom.js';
import { api, seg } from '../../api.js';
import { server } from '../../state.js';
import { table, emptyState, field, input, select, checkbox, formDialog, confirmDialog, toast, messageOf, invalid, badge } from '../../ui.js';
import { adminFrame, loadInto } from './common.js';

const EXAMPLES = {
  'aws-sg': '{"region": "eu-west-1", "security_groups": ["sg-0123456789abcdef0"]}',
  tunnel: '{"address": "10.0.0.5", "port": 22}',
};

export default async function servicesPage(ctx) {
  const newBtn = h('button', { type: 'button', class: 'btn btn--primary', dataset: { action: 'new-service' } }, 'New service');
  const body = adminFrame(ctx, 'Services', 'What a lease can open: a protocol and ports, enforced by a backend.', newBtn);
  const load = () => loadInto(ctx, body, () => api.get('/services').then((r) => r.items), (items) => render(items, load), 'Loading services…');
  newBtn.addEventListener('click', async () => { if (await editService(null)) load(); });
  await load();
}

export function portsText(s) {
  return s.protocol === 'tcp' || s.protocol === 'udp' ? `${s.protocol.toUpperCase()} ${s.ports}` : s.protocol.toUpperCase();
}

function targetText(s) {
  const t = s.target || {};
  if (!Object.keys(t).length) return h('span', { class: 'muted' }, s.backend === 'nftables' ? 'this host' : '{}');
  return h('code', { class: 'json-inline' }, JSON.stringify(t));
}

function render(items, reload) {
  if (!items.length) return emptyState('No services yet', 'A service names what a lease opens, for example SSH on port 22.');
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
        { label: 'Actions', class: 'col-actions', cell: (s) => h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn--small', onclick: async () => { if (await editService(s)) reload(); } }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', onclick: async () => { if (await deleteService(s)) reload(); } }, 'Delete')) },
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

async function editService(svc) {
  let name, description, backend, protocol, ports, portsField, target, targetField, keep;
  const saved = await formDialog({
    title: svc ? `Edit service ${svc.name}` : 'New service',
    submitLabel: svc ? 'Save changes' : 'Create service',
    wide: true,
    build(form) {
      name = input({ name: 'name', required: true, value: svc?.name || '', spellcheck: 'false' });
      description = input({ name: 'description', value: svc?.description || '', maxlength: '200' });
      const backends = [...new Set([...server.backends, svc?.backend].filter(Boolean))];
      backend = select({ name: 'backend' }, backends.map((b) => [b, b]), svc?.backend || backends[0]);
      protocol = select({ name: 'protocol' }, [['tcp', 'TCP'], ['udp', 'UDP'], ['icmp', 'ICMP'], ['all', 'All protocols']], svc?.protocol || 'tcp');
      ports = input({ name: 'ports', value: svc?.ports || '', placeholder: '22 or 8000-8100', inputmode: 'numeric', spellcheck: 'false' });
      portsField = field('Ports', ports, 'One port or a range.');
      const initialTarget = svc && svc.target && Object.keys(svc.target).length ? JSON.stringify(svc.target, null, 2) : '';
      target = h('textarea', { class: 'input input--code', name: 'target', rows: '4', spellcheck: 'false' });
      target.value = initialTarget;
      targetField = field('Target (JSON)', target, ' ');
      keep = checkbox('keep_established', 'Keep established connections when access ends',
        svc?.keep_established, 'By default, expiry and termination cut open connections too.');
      const sync = () => {
        portsField.hidden = !(protocol.value === 'tcp' || protocol.value === 'udp');
        const nft = backend.value === 'nftables';
        target.placeholder = EXAMPLES[backend.value] || '{}';
        targetField.querySelector('.field__hint').textContent = nft
          ? 'Leave empty for this host (the firewall Pinhole runs on).'
          : `Where ${backend.value} applies the rule, for example ${EXAMPLES[backend.value] || '{}'}`;
      };
      protocol.addEventListener('change', sync);
      backend.addEventListener('change', sync);
      append(form,
        h('div', { class: 'form-grid' }, field('Name', name, 'Users see this name. Letters, digits, dot, dash, underscore.'), field('Description', description)),
        h('div', { class: 'form-grid' }, field('Backend', backend), field('Protocol', protocol)),
        portsField, targetField, keep);
      sync();
    },
    submit() {
      if (!name.value.trim()) throw invalid('Enter a name.');
      const body = {
        name: name.value.trim(),
        description: description.value.trim(),
        backend: backend.value,
        protocol: protocol.value,
        keep_established: keep.querySelector('input').checked,
      };
      if (protocol.value === 'tcp' || protocol.value === 'udp') {
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
      return svc ? api.patch(`/services/${seg(svc.id)}`, body) : api.post('/services', body);
    },
  });
  if (saved) toast(`Service ${saved.name} saved.`);
  return Boolean(saved);
}

async function deleteService(svc) {
  const ok = await confirmDialog({
    title: `Delete service ${svc.name}?`,
    message: 'Policies and access groups that name it stop offering it. A service with live leases cannot be deleted.',
    confirmLabel: 'Delete service',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`/services/${seg(svc.id)}`);
    toast(`Service ${svc.name} deleted.`);
    return true;
  } catch (error) {
    toast(messageOf(error), 'error');
    return false;
  }
}
