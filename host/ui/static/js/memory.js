// Core memory: each block with label, value, characters against its limit, read-only state, sharing agents.
import {h, clear, errorArea, busy, empty, toast, newest} from './dom.js';
import {get, patch} from './api.js';

export async function render(root, ctx) {
  const list = h('div', {class: 'blocks'});
  const errors = errorArea();
  clear(root, h('h2', {class: 'sr-only'}, 'Core memory'), errors, list);
  const dirty = new Set();

  const ticket = newest();
  async function load() {
    const current = ticket();
    try {
      const blocks = await get(`/v1/agents/${ctx.id}/core-memory/blocks`);
      const sharing = await Promise.all(blocks.map((b) => get(`/v1/blocks/${b.id}/agents`).catch(() => [])));
      if (!current()) return;  // a later load (a newer turn's) paints
      clear(list, blocks.length ? blocks.map((b, i) => block(b, sharing[i].filter((a) => a.id !== ctx.id))) :
        empty('No memory blocks. Attach one through the API (PATCH …/core-memory/blocks/attach/{id}).'));
    } catch (err) { errors.show(err); }
  }

  function block(b, others) {
    const area = h('textarea', {rows: Math.min(12, Math.max(3, (b.value || '').split('\n').length + 1)),
      readonly: b.read_only, 'aria-label': `Value of block ${b.label}`, dataset: {label: b.label}});
    area.value = b.value || '';
    const count = h('span', {class: 'small'});
    const save = h('button', {type: 'button', class: 'primary small', disabled: true}, 'Save');
    const revert = h('button', {type: 'button', class: 'ghost small', disabled: true}, 'Revert');
    const errs = errorArea();
    const meter = h('meter', {min: 0, max: b.limit || 5000, 'aria-label': `Characters used in ${b.label}`});
    function update() {
      const n = area.value.length;
      count.textContent = `${n.toLocaleString()} / ${(b.limit || 0).toLocaleString()} chars`;
      count.classList.toggle('bad', b.limit && n > b.limit);
      meter.value = n; meter.high = (b.limit || 5000) * 0.9;
      const changed = area.value !== (b.value || '');
      save.disabled = !changed || b.read_only; revert.disabled = !changed;
      if (changed) dirty.add(b.label); else dirty.delete(b.label);
    }
    area.addEventListener('input', update);
    revert.addEventListener('click', () => { area.value = b.value || ''; update(); });
    save.addEventListener('click', async () => { await saveBlock(); update(); });
    const saveBlock = () => busy(save, async () => {
      const updated = await patch(`/v1/agents/${ctx.id}/core-memory/blocks/${encodeURIComponent(b.label)}`, {value: area.value});
      b.value = updated.value; area.value = updated.value; update();
      toast(`Saved ${b.label}`);
      ctx.emit('memory');
    }, errs);
    area.addEventListener('keydown', (e) => {
      if (e.key === 's' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!save.disabled) save.click(); }
    });
    update();
    return h('article', {class: 'block card', dataset: {block: b.label}},
      h('div', {class: 'row-inline'}, h('strong', null, b.label),
        b.read_only ? h('span', {class: 'tag'}, 'read-only') : null,
        h('span', {class: 'spacer'}), count),
      b.description ? h('div', {class: 'small muted'}, b.description) : null,
      area, meter,
      others.length ? h('div', {class: 'small muted'}, 'Shared with ',
        others.map((a, i) => [i ? ', ' : '', h('a', {href: `/agents/${a.id}`, 'data-link': ''}, a.name)])) : null,
      errs, h('div', {class: 'row-inline'}, save, revert));
  }

  ctx.on('turn', () => { if (!dirty.size) load(); });
  await load();
}
