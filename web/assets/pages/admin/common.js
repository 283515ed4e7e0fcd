// pages/admin/common.js: the frame shared by admin pages (section tabs and
// heading) and the load -> loading / error / content pattern they all use.
import { h, replace } from '../../dom.js';
import { loading, errorState, pageHeader } from '../../ui.js';

const SECTIONS = [
  ['/admin/users', 'Users'],
  ['/admin/groups', 'Groups'],
  ['/admin/services', 'Services'],
  ['/admin/access-groups', 'Access groups'],
  ['/admin/policies', 'Policies'],
  ['/admin/leases', 'Leases'],
  ['/admin/audit', 'Audit log'],
];

/** Draws tabs + heading into ctx.view; returns the element for the content. */
export function adminFrame(ctx, title, subtitle, ...actions) {
  const here = ctx.url.pathname;
  const tabs = h('nav', { class: 'subnav', 'aria-label': 'Admin sections' },
    SECTIONS.map(([href, label]) => h('a', { href, class: 'subnav__link', 'aria-current': href === here ? 'page' : null }, label)));
  const body = h('div', { class: 'admin-body' });
  replace(ctx.view, tabs, pageHeader(title, subtitle, ...actions), body);
  return body;
}

/** Shows a loading state, then render(data), or an error with a retry. */
export async function loadInto(ctx, container, load, render, loadingText) {
  replace(container, loading(loadingText));
  try {
    const data = await load();
    if (ctx.isCurrent()) replace(container, render(data));
  } catch (error) {
    if (ctx.isCurrent() && error.status !== 401) {
      replace(container, errorState(error, () => loadInto(ctx, container, load, render, loadingText)));
    }
  }
}

/** Names as muted text when the list is empty. */
export function nameList(names, empty = 'none') {
  if (!names || !names.length) return h('span', { class: 'muted' }, empty);
  return h('span', { class: 'name-list' }, names.join(', '));
}

/** Splits a comma / newline separated text box into trimmed names. */
export function splitNames(text) {
  return String(text || '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}
