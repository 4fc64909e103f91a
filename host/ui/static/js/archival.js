// Archival memory: search, list, insert and delete passages.
import {h, clear, errorArea, busy, empty, fmtDate, field, newest} from './dom.js';
import {get, post, del, qs} from './api.js';

export async function render(root, ctx) {
  const query = h('input', {type: 'search', placeholder: 'Search passages', 'aria-label': 'Search archival memory'});
  const list = h('ul', {class: 'rows'});
  const errors = errorArea();
  const text = h('textarea', {rows: 3, name: 'passage'});
  const tags = h('input', {type: 'text', name: 'tags', placeholder: 'comma, separated'});
  const insert = h('button', {type: 'submit', class: 'primary small'}, 'Insert');
  const form = h('form', {class: 'card'}, h('h3', null, 'New passage'), field('Text', text), field('Tags', tags), insert);
  const searchForm = h('form', {class: 'row-inline'}, query, h('button', {type: 'submit'}, 'Search'));
  clear(root, h('h2', {class: 'h3'}, 'Archival memory'), searchForm, errors, list, form);

  const ticket = newest();
  async function load() {
    errors.hide();
    const current = ticket();
    try {
      const q = query.value.trim();
      const rows = q ? (await get(`/v1/agents/${ctx.id}/archival-memory/search${qs({query: q, top_k: 20})}`)) :
        await get(`/v1/agents/${ctx.id}/archival-memory${qs({limit: 50, ascending: false})}`);
      if (!current()) return;  // a later search or reload paints
      const items = Array.isArray(rows) ? rows : rows.results || [];
      clear(list, items.length ? items.map(row) : h('li', null, empty(q ? 'No passage matches.' : 'No passages yet.')));
    } catch (err) { errors.show(err); }
  }

  function row(p) {
    const id = p.id;
    return h('li', {class: 'row'},
      h('div', {class: 'grow'}, h('div', {class: 'text'}, p.text || p.content),
        h('div', {class: 'small muted'}, [fmtDate(p.created_at || p.timestamp), ...(p.tags || []).map((t) => ` #${t}`)])),
      id ? h('button', {type: 'button', class: 'ghost danger small', 'aria-label': 'Delete passage',
        onclick: (e) => busy(e.currentTarget, async () => { await del(`/v1/agents/${ctx.id}/archival-memory/${id}`); await load(); }, errors)},
      'Delete') : null);
  }

  searchForm.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(insert, async () => {
      const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      await post(`/v1/agents/${ctx.id}/archival-memory`, {text: text.value, tags: tagList.length ? tagList : undefined});
      text.value = ''; tags.value = '';
      await load();
    }, errors);
  });
  ctx.on('turn', () => { if (!query.value.trim()) load(); });
  await load();
}
