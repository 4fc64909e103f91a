// Key/value rows (environment variables, headers); values are masked inputs.
import {h, clear} from './dom.js';

export function kvEditor(label, {masked = true, keyHint = 'KEY', initial = []} = {}) {
  const rows = h('div', {class: 'kv-rows'});
  let n = 0;
  function add(key = '', value = '') {
    const i = ++n;
    const k = h('input', {type: 'text', value: key, placeholder: keyHint, 'aria-label': `${label} ${i} name`, autocomplete: 'off'});
    const v = h('input', {type: masked ? 'password' : 'text', value, placeholder: 'value', 'aria-label': `${label} ${i} value`, autocomplete: 'off'});
    const row = h('div', {class: 'row-inline kv'}, k, v,
      h('button', {type: 'button', class: 'ghost small', 'aria-label': `Remove ${label} ${i}`, onclick: () => row.remove()}, '✕'));
    rows.append(row);
    return row;
  }
  for (const [k, v] of initial) add(k, v);
  const el = h('fieldset', {class: 'kv-editor'}, h('legend', null, label), rows,
    h('button', {type: 'button', class: 'small', onclick: () => add().querySelector('input').focus()}, `Add ${label.toLowerCase()}`));
  el.value = () => {
    const out = {};
    for (const row of rows.children) {
      const [k, v] = row.querySelectorAll('input');
      if (k.value.trim()) out[k.value.trim()] = v.value;
    }
    return out;
  };
  el.reset = () => clear(rows);
  return el;
}
