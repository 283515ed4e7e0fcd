// pages/admin/common.js: the frame shared by admin pages (section tabs and
// heading) and the one shape most of them have: a list of objects with
// Edit / Delete, a create / edit dialog and a delete confirmation. A page
// states its columns and form fields; adminListPage does the rest.
import { h, replace } from '../../dom.js';
import { api, seg } from '../../api.js';
import {
  pageHeader, loadInto, table, emptyState, formDialog, confirmDialog, toast, messageOf,
} from '../../ui.js';

const SECTIONS = [
  ['/admin/users', 'Users'],
  ['/admin/groups', 'Groups'],
  ['/admin/services', 'Services'],
  ['/admin/access-groups', 'Access groups'],
  ['/admin/policies', 'Policies'],
  ['/admin/leases', 'Leases'],
  ['/admin/audit', 'Audit log'],
  ['/admin/notifications', 'Notifications'],
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

/** Names as muted text when the list is empty. */
export function nameList(names, empty = 'none') {
  if (!names || !names.length) return h('span', { class: 'muted' }, empty);
  return h('span', { class: 'name-list' }, names.join(', '));
}

/** Splits a comma / newline separated text box into trimmed names. */
export function splitNames(text) {
  return String(text || '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/** GETs several collections at once: {key: path} -> {key: items}. */
export async function collections(paths) {
  const entries = Object.entries(paths);
  const lists = await Promise.all(entries.map(([, path]) => api.get(path).then((r) => r.items)));
  return Object.fromEntries(entries.map(([key], i) => [key, lists[i]]));
}

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * An admin page that lists the objects of one API collection, with New,
 * Edit and Delete. spec:
 *   path        the collection, e.g. '/groups'
 *   noun        'group', used in every title, button and message
 *   title, subtitle, newAction (data-action of the New button)
 *   load()      -> data for the list and the dialogs (default: the items)
 *   items(data) -> the objects to list (default: data itself)
 *   name(item)  -> how an object is named (default: item.name)
 *   empty       [title, text] shown when there is nothing yet
 *   columns(data) -> table columns, without the actions column
 *   view(data, items, actionsColumn) -> a custom list (default: one table)
 *   form        {wide, build(form, item, data) -> body()}: build appends the
 *               fields and returns a function that reads them into the
 *               request body (it may throw invalid(...))
 *   afterSave(result) runs after a successful create or edit
 *   deleteMessage, deleteBlocked(item) -> null or why Delete is disabled
 */
export async function adminListPage(ctx, spec) {
  const name = spec.name || ((item) => item.name);
  const items = spec.items || ((data) => data);
  const load = spec.load || (() => api.get(spec.path).then((r) => r.items));
  const newBtn = h('button', { type: 'button', class: 'btn btn--primary', dataset: spec.newAction ? { action: spec.newAction } : null }, `New ${spec.noun}`);
  const body = adminFrame(ctx, spec.title, spec.subtitle, newBtn);
  let data = null;

  const edit = async (item) => {
    if (await editObject(spec, name, item, data)) show();
  };
  const remove = async (item) => {
    if (await deleteObject(spec, name, item)) show();
  };
  const actions = {
    label: 'Actions',
    class: 'col-actions',
    cell: (item) => {
      const blocked = spec.deleteBlocked ? spec.deleteBlocked(item) : null;
      const editBtn = h('button', { type: 'button', class: 'btn btn--small', dataset: { action: 'edit' },
        'aria-label': `Edit ${spec.noun} ${name(item)}` }, 'Edit');
      const deleteBtn = h('button', { type: 'button', class: 'btn btn--small btn--danger-outline', dataset: { action: 'delete' },
        disabled: Boolean(blocked), title: blocked, 'aria-label': `Delete ${spec.noun} ${name(item)}` }, 'Delete');
      editBtn.addEventListener('click', () => edit(item));
      deleteBtn.addEventListener('click', () => remove(item));
      return h('div', { class: 'row-actions' }, editBtn, deleteBtn);
    },
  };
  const render = (d) => {
    const list = items(d);
    if (!list.length) return emptyState(...spec.empty);
    if (spec.view) return spec.view(d, list, actions);
    return table([...spec.columns(d), actions], list, { caption: spec.title, rowKey: name });
  };
  const show = () => loadInto(ctx, body, async () => { data = await load(); return data; }, render,
    `Loading ${spec.title.toLowerCase()}…`);

  newBtn.addEventListener('click', async () => {
    if (!data) {
      try {
        data = await load();
      } catch (error) {
        toast(messageOf(error), 'error');
        return;
      }
    }
    await edit(null);
  });
  await show();
}

/** The create / edit dialog. Resolves true when the object was saved. */
async function editObject(spec, name, item, data) {
  let read;
  const result = await formDialog({
    title: item ? `Edit ${spec.noun} ${name(item)}` : `New ${spec.noun}`,
    submitLabel: item ? 'Save changes' : `Create ${spec.noun}`,
    wide: spec.form.wide,
    build(form) {
      read = spec.form.build(form, item, data);
    },
    async submit() {
      const body = await read();
      return item ? api.patch(`${spec.path}/${seg(item.id)}`, body) : api.post(spec.path, body);
    },
  });
  if (!result) return false;
  toast(`${capital(spec.noun)} ${name(result)} ${item ? 'saved' : 'created'}.`);
  if (spec.afterSave) await spec.afterSave(result);
  return true;
}

/** Asks, then deletes. Resolves true when the object is gone. */
async function deleteObject(spec, name, item) {
  const ok = await confirmDialog({
    title: `Delete ${spec.noun} ${name(item)}?`,
    message: spec.deleteMessage,
    confirmLabel: `Delete ${spec.noun}`,
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`${spec.path}/${seg(item.id)}`);
    toast(`${capital(spec.noun)} ${name(item)} deleted.`);
    return true;
  } catch (error) {
    if (error.status !== 401) toast(messageOf(error), 'error');
    return false;
  }
}
