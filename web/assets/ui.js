// ui.js: shared pieces of the interface: times, badges, loading / empty /
// error states, form fields, responsive tables, dialogs and toasts. Every
// piece builds DOM nodes with dom.h, so any text shown is escaped.
import { h, uid, replace } from './dom.js';
import { localTime, utcString } from './format.js';

/** <time> in local time, with the RFC 3339 UTC string on hover. */
export function timeEl(iso, opts) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const utc = utcString(iso);
  return h('time', { datetime: utc, title: utc }, localTime(iso, opts));
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge badge--${tone}` }, text);
}

const STATES = {
  active: ['Active', 'success'],
  pending_approval: ['Waiting for approval', 'warning'],
  approved: ['Approved: opens at next sign-in', 'info'],
  invited: ['Invited', 'info'],
  expired: ['Expired', 'neutral'],
  terminated: ['Terminated', 'neutral'],
  revoked: ['Revoked', 'danger'],
  denied: ['Denied', 'danger'],
  cancelled: ['Cancelled', 'neutral'],
};

export function stateBadge(state) {
  const [label, tone] = STATES[state] || [state, 'neutral'];
  return h('span', { class: `badge badge--${tone}`, dataset: { state } }, label);
}

const RULES = { applied: 'success', pending: 'warning', removed: 'neutral', error: 'danger' };

/** A rule's status; short leaves out the service (when the row names it already). */
export function ruleBadge(rule, { short = false } = {}) {
  const text = short ? `${rule.backend}: ${rule.status}` : `${rule.service} · ${rule.backend}: ${rule.status}`;
  const b = h('span', { class: `badge badge--${RULES[rule.status] || 'neutral'}` }, text);
  if (rule.error) b.title = rule.error;
  return b;
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'state state--loading', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, text));
}

export function emptyState(title, text, action) {
  return h('div', { class: 'state state--empty' },
    h('p', { class: 'state__title' }, title),
    text ? h('p', { class: 'state__text' }, text) : null,
    action || null);
}

/** A failed load, with the server's message and a retry button. */
export function errorState(error, onRetry) {
  return h('div', { class: 'alert alert--error', role: 'alert' },
    h('p', { class: 'alert__title' }, 'This could not be loaded'),
    h('p', null, messageOf(error)),
    onRetry ? h('button', { type: 'button', class: 'btn btn--small', onclick: onRetry }, 'Try again') : null);
}

export function alertBox(tone, ...children) {
  return h('div', { class: `alert alert--${tone}`, role: tone === 'error' ? 'alert' : 'status' }, ...children);
}

export function messageOf(error) {
  if (!error) return '';
  if (error.status === 429 && error.retryAfter) {
    const secs = Number(error.retryAfter);
    const wait = secs >= 120 ? `${Math.ceil(secs / 60)} minutes` : `${secs} seconds`;
    return `${error.message} (try again in ${wait})`;
  }
  return error.message || String(error);
}

export function pageHeader(title, subtitle, ...actions) {
  return h('div', { class: 'page-header' },
    h('div', null,
      h('h1', { class: 'page-title', tabindex: '-1' }, title),
      subtitle ? h('p', { class: 'page-subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/**
 * Shows a loading state in container, then render(data), or an error with a
 * retry. When focus was inside the container (a row's button that opened a
 * dialog, say), it moves to the same button of the same row in the new
 * content, or to the page heading when that row is gone.
 */
export async function loadInto(ctx, container, load, render, loadingText) {
  const focus = focusInside(container);
  replace(container, loading(loadingText));
  try {
    const data = await load();
    if (ctx.isCurrent()) replace(container, render(data));
  } catch (error) {
    if (ctx.isCurrent() && error.status !== 401) {
      replace(container, errorState(error, () => loadInto(ctx, container, load, render, loadingText)));
    }
  }
  if (focus && ctx.isCurrent()) refocus(ctx, container, focus);
}

function focusInside(container) {
  const el = document.activeElement;
  if (!el || el === container || !container.contains(el)) return null;
  return { key: el.closest('[data-key]')?.dataset.key, action: el.dataset.action, text: el.textContent };
}

function refocus(ctx, container, { key, action, text }) {
  // Only when nothing else took focus meanwhile.
  if (document.activeElement && document.activeElement !== document.body) return;
  const row = key === undefined ? null : [...container.querySelectorAll('[data-key]')].find((r) => r.dataset.key === key);
  const same = row && [...row.querySelectorAll('button:not(:disabled), a[href]')]
    .find((b) => (action ? b.dataset.action === action : b.textContent === text));
  const target = same || ctx.view.querySelector('h1');
  if (target) target.focus();
}

/** Disables a button while work runs and shows that it is busy. */
export async function withBusy(button, work) {
  const label = button.textContent;
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('is-busy');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.classList.remove('is-busy');
    button.textContent = label;
    // A disabled button loses focus; give it back so a keyboard user stays in place.
    const now = document.activeElement;
    if (hadFocus && button.isConnected && (!now || now === document.body || now === button)) button.focus();
  }
}

// ---- form fields ----------------------------------------------------------

/** Label + control + optional hint; wires for/id and aria-describedby. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  const hintEl = hint ? h('p', { class: 'field__hint', id: uid('hint') }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { class: 'field__label', for: control.id }, label), control, hintEl);
}

export function input(props) {
  return h('input', { class: 'input', type: 'text', ...props });
}

export function select(props, options, value) {
  const el = h('select', { class: 'input', ...props },
    options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) el.value = value;
  return el;
}

export function checkbox(name, label, checked, hint) {
  const box = h('input', { type: 'checkbox', name, checked: Boolean(checked), id: uid() });
  const hintEl = hint ? h('span', { class: 'field__hint', id: uid('hint') }, hint) : null;
  if (hintEl) box.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'check' }, box, h('label', { for: box.id }, label, hintEl ? [' ', hintEl] : null));
}

/**
 * A set of checkboxes for picking names (services, groups, users ...).
 * Returns {el, values()}; a filter box appears when the list is long.
 */
export function picker(legend, options, selected = [], { emptyText = 'Nothing to choose from yet.', hint } = {}) {
  const chosen = new Set(selected);
  const boxes = [];
  const list = h('div', { class: 'picker__list' });
  for (const opt of options) {
    const o = typeof opt === 'string' ? { value: opt, label: opt } : opt;
    const box = h('input', { type: 'checkbox', value: o.value, checked: chosen.has(o.value), id: uid() });
    boxes.push(box);
    list.append(h('div', { class: 'check picker__item', dataset: { text: `${o.label} ${o.note || ''}`.toLowerCase() } },
      box, h('label', { for: box.id }, o.label, o.note ? h('span', { class: 'muted' }, ` ${o.note}`) : null)));
  }
  // Keep names that are selected but no longer offered, so saving does not drop them silently.
  for (const name of chosen) {
    if (options.some((o) => (typeof o === 'string' ? o : o.value) === name)) continue;
    const box = h('input', { type: 'checkbox', value: name, checked: true, id: uid() });
    boxes.push(box);
    list.append(h('div', { class: 'check picker__item', dataset: { text: name.toLowerCase() } },
      box, h('label', { for: box.id }, name, h('span', { class: 'muted' }, ' (unknown)'))));
  }
  let filter = null;
  if (boxes.length > 8) {
    filter = h('input', { class: 'input input--small', type: 'search', placeholder: 'Filter', 'aria-label': `Filter ${legend}` });
    filter.addEventListener('input', () => {
      const q = filter.value.trim().toLowerCase();
      for (const item of list.children) item.hidden = q !== '' && !item.dataset.text.includes(q);
    });
  }
  const el = h('fieldset', { class: 'picker' },
    h('legend', { class: 'field__label' }, legend),
    hint ? h('p', { class: 'field__hint' }, hint) : null,
    filter,
    boxes.length ? list : h('p', { class: 'muted picker__empty' }, emptyText));
  return { el, values: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

// ---- tables that become cards on phones -----------------------------------

/**
 * columns: [{label, cell: row => node|string, class?}]; each <td> carries
 * data-label so that narrow screens can show "Label  value" cards.
 */
export function table(columns, rows, { caption, rowKey } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', null, rows.map((row) => h('tr', { dataset: rowKey ? { key: rowKey(row) } : undefined },
        columns.map((c) => h('td', { class: c.class, dataset: { label: c.label } }, c.cell(row))))))));
}

// ---- dialogs --------------------------------------------------------------

/** A modal <dialog>; returns {dialog, body, close}. Removed from the DOM on close. */
export function openDialog(title, { wide = false } = {}) {
  const titleId = uid('dlg');
  const body = h('div', { class: 'dialog__body' });
  const closeBtn = h('button', { type: 'button', class: 'btn btn--ghost btn--icon', 'aria-label': 'Close' }, '×');
  const dialog = h('dialog', { class: ['dialog', wide && 'dialog--wide'], 'aria-labelledby': titleId },
    h('div', { class: 'dialog__head' }, h('h2', { id: titleId, class: 'dialog__title' }, title), closeBtn),
    body);
  const close = (value) => dialog.close(value);
  closeBtn.addEventListener('click', () => close('cancel'));
  // showModal keeps focus inside the dialog and Esc closes it; on close,
  // focus goes back to what opened it.
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener !== document.body && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, close };
}

/** Asks before something that cannot be undone. Resolves true on confirm. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const { dialog, body, close } = openDialog(title);
    const ok = h('button', { type: 'button', class: ['btn', danger ? 'btn--danger' : 'btn--primary'], onclick: () => close('ok') }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => close('cancel') }, 'Cancel');
    replace(body, h('p', null, message), h('div', { class: 'dialog__actions' }, cancel, ok));
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'));
    cancel.focus();
  });
}

/**
 * A dialog holding a form. build(form) appends the fields; submit(form)
 * does the work and may throw an ApiError, shown inside the dialog.
 * Resolves with submit's result, or null when cancelled.
 */
export function formDialog({ title, submitLabel = 'Save', wide = false, build, submit, danger = false }) {
  return new Promise((resolve) => {
    const { dialog, body, close } = openDialog(title, { wide });
    const errorArea = h('div', { class: 'form-error' });
    const submitBtn = h('button', { type: 'submit', class: ['btn', danger ? 'btn--danger' : 'btn--primary'] }, submitLabel);
    const form = h('form', { class: 'form', novalidate: true });
    form.append(errorArea);
    build(form);
    form.append(h('div', { class: 'dialog__actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close('cancel') }, 'Cancel'), submitBtn));
    body.append(form);
    let result = null;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(errorArea);
      if (!form.checkValidity()) {
        form.reportValidity();
        return;
      }
      try {
        result = await withBusy(submitBtn, () => submit(form));
        close('ok');
      } catch (error) {
        replace(errorArea, alertBox('error', messageOf(error)));
        errorArea.scrollIntoView({ block: 'nearest' });
      }
    });
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? result ?? true : null));
    const first = form.querySelector('input:not([type=hidden]):not([disabled]), select, textarea');
    if (first) first.focus();
  });
}

/** A client-side check failed: throw this from a formDialog submit. */
export function invalid(message) {
  return Object.assign(new Error(message), { code: 'client_validation' });
}

// ---- copy and toasts ------------------------------------------------------

export function copyButton(text, label = 'Copy') {
  const btn = h('button', { type: 'button', class: 'btn btn--small' }, label);
  btn.addEventListener('click', async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // Plain-HTTP pages have no async clipboard; fall back to a selection copy.
      const tmp = h('textarea', { class: 'visually-hidden', readonly: true });
      tmp.value = text;
      document.body.append(tmp);
      tmp.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      tmp.remove();
    }
    btn.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { btn.textContent = label; }, 2000);
  });
  return btn;
}

export function toast(message, tone = 'success') {
  const area = document.getElementById('toasts');
  if (!area) return;
  const el = h('div', { class: `toast toast--${tone}` }, message);
  area.append(el);
  setTimeout(() => el.classList.add('toast--leaving'), 3500);
  setTimeout(() => el.remove(), 4000);
}
