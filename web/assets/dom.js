// dom.js: a tiny element builder. All text goes in through textContent or
// text nodes, never innerHTML, so data from the server cannot become markup.

let nextId = 0;

/** A fresh id for pairing labels with controls. */
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'open', 'indeterminate', 'multiple', 'required', 'readOnly']);

/**
 * h('button', {class: 'btn', onclick: fn, type: 'button'}, 'Save')
 * Props: class (string or array), dataset (object), on<event> (function),
 * DOM properties in PROPS, anything else becomes an attribute (true -> "").
 * Children: strings, numbers, nodes, arrays; null/false/undefined are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, val] of Object.entries(props || {})) {
    if (val === null || val === undefined || val === false) continue;
    if (key === 'class') {
      el.className = Array.isArray(val) ? val.filter(Boolean).join(' ') : val;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, val);
    } else if (key.startsWith('on') && typeof val === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), val);
    } else if (PROPS.has(key)) {
      el[key] = val;
    } else {
      el.setAttribute(key, val === true ? '' : String(val));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (same forms as h) to el and returns el. */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Removes every child of el, then appends the given children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Reads a form's named controls into a plain object (checkbox -> bool). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; }
    else out[el.name] = el.value;
  }
  return out;
}
