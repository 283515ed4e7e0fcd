// duration_picker.js: the duration control used to request and renew
// access: presets (1 h, 5 h, 10 h) and a custom value, bounded by the
// policy's maximum. read() checks the choice before anything is sent.
import { h, uid } from './dom.js';
import { humanDuration } from './format.js';

const PRESETS = [3600, 5 * 3600, 10 * 3600];
const UNITS = [['60', 'minutes'], ['3600', 'hours'], ['86400', 'days']];

/**
 * opts: {defaultSeconds, maxSeconds (null = unknown), legend}
 * Returns {el, read()} where read() gives {seconds} or {error}.
 */
export function durationPicker({ defaultSeconds, maxSeconds, legend = 'Duration' }) {
  const name = uid('dur');
  const max = Number.isFinite(maxSeconds) && maxSeconds > 0 ? maxSeconds : null;
  const initial = PRESETS.includes(defaultSeconds) ? String(defaultSeconds) : 'custom';
  const radios = [];
  const segment = (value, label, disabled, title) => {
    const radio = h('input', { type: 'radio', name, value, checked: value === initial, disabled });
    radios.push(radio);
    return h('label', { class: 'segment', title }, radio, h('span', null, label));
  };

  const startUnit = defaultSeconds && defaultSeconds % 3600 === 0 ? '3600' : '60';
  const amount = h('input', {
    class: 'input input--amount', type: 'number', min: '1', step: '1', inputmode: 'numeric',
    value: defaultSeconds ? String(defaultSeconds / Number(startUnit)) : '1', 'aria-label': 'Custom duration amount',
  });
  const unit = h('select', { class: 'input input--unit', 'aria-label': 'Custom duration unit' },
    UNITS.map(([v, l]) => h('option', { value: v }, l)));
  unit.value = startUnit;
  const custom = h('div', { class: 'duration__custom', hidden: initial !== 'custom' }, amount, unit);
  const hint = h('p', { class: 'field__hint' }, max ? `Up to ${humanDuration(max)}.` : '');

  const el = h('fieldset', { class: 'duration' },
    h('legend', { class: 'field__label' }, legend),
    h('div', { class: 'segmented' },
      PRESETS.map((s) => segment(String(s), `${s / 3600} h`, max !== null && s > max,
        max !== null && s > max ? `Longer than this policy allows (${humanDuration(max)})` : null)),
      segment('custom', 'Custom', false, null)),
    custom,
    hint);
  el.addEventListener('change', (event) => {
    if (event.target.name === name) {
      custom.hidden = event.target.value !== 'custom';
      if (!custom.hidden) amount.focus();
    }
  });

  function read() {
    const chosen = radios.find((r) => r.checked);
    if (!chosen) return { error: 'Choose a duration.' };
    let seconds;
    if (chosen.value === 'custom') {
      const n = Number(amount.value);
      if (!amount.value || !Number.isInteger(n) || n < 1) return { error: 'Enter a whole number for the custom duration.' };
      seconds = n * Number(unit.value);
    } else {
      seconds = Number(chosen.value);
    }
    if (max !== null && seconds > max) {
      return { error: `${humanDuration(seconds)} is longer than the maximum this policy allows (${humanDuration(max)}).` };
    }
    return { seconds };
  }

  return { el, read };
}
