// The agents list: search, cursor pagination, create, delete, export and import (.af).
import {h, clear, field, errorArea, busy, empty, fmtDate, debounce, toast, download} from './dom.js';
import {get, post, del, api, qs} from './api.js';
import {navigate} from './main.js';

const PAGE = 25;  // ~9 KB per agent on the wire (tools included): 25 keep the first load light. Newest first; the next page is `before` the last one shown (cursors are chronological)

export async function mountAgents(root) {
  const state = {query: '', cursors: [null], page: 0};
  const search = h('input', {type: 'search', placeholder: 'Search by name', 'aria-label': 'Search agents by name'});
  const count = h('span', {class: 'muted', 'aria-live': 'polite'});
  const list = h('div', {class: 'agent-list'});
  const prev = h('button', {type: 'button', onclick: () => turn(-1)}, '← Previous');
  const next = h('button', {type: 'button', onclick: () => turn(1)}, 'Next →');
  const pageLabel = h('span', {class: 'muted'});
  const errors = errorArea();
  const importInput = h('input', {type: 'file', accept: '.af,.json,application/json', hidden: true, id: 'import-file',
    onchange: () => importFile(importInput.files[0])});

  clear(root, h('div', {class: 'page'},
    h('div', {class: 'page-head'},
      h('h1', null, 'Agents'), count, h('span', {class: 'spacer'}),
      h('label', {class: 'button', for: 'import-file', tabindex: 0,
        onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); importInput.click(); } }},
      'Import .af'), importInput),
    h('div', {class: 'split'},
      h('section', {class: 'card', 'aria-labelledby': 'list-title'},
        h('h2', {id: 'list-title', class: 'sr-only'}, 'Agent list'),
        search, errors, list,
        h('div', {class: 'pager'}, prev, pageLabel, next)),
      createForm())));

  let seq = 0;
  async function load() {
    errors.hide();
    const mine = ++seq;  // a slower, older answer never overwrites a newer one
    try {
      const [agents, total] = await Promise.all([
        get(`/v1/agents/${qs({limit: PAGE + 1, before: state.cursors[state.page], query_text: state.query})}`),
        get('/v1/agents/count'),
      ]);
      if (mine !== seq) return;
      const more = agents.length > PAGE;
      const shown = agents.slice(0, PAGE);
      state.cursors[state.page + 1] = more ? shown[shown.length - 1].id : undefined;
      count.textContent = `${total} in all`;
      pageLabel.textContent = `Page ${state.page + 1}`;
      prev.disabled = state.page === 0;
      next.disabled = !more;
      list.dataset.query = state.query;
      list.dataset.page = String(state.page + 1);
      clear(list, shown.length ? h('ul', {class: 'rows'}, shown.map(row)) :
        empty(state.query ? `No agent's name contains “${state.query}”.` : 'No agents yet: create one with the form.'));
    } catch (err) {
      errors.show(err);
    }
  }

  function row(agent) {
    const href = `/agents/${encodeURIComponent(agent.id)}`;
    return h('li', {class: 'row'},
      h('div', {class: 'grow'},
        h('a', {href, 'data-link': '', class: 'strong'}, agent.name),
        h('div', {class: 'muted small'}, `${agent.llm_config?.handle || agent.llm_config?.model || ''} · ${agent.tools?.length ?? 0} tools · created ${fmtDate(agent.created_at)}`),
        agent.tags?.length ? h('div', {class: 'tags'}, agent.tags.map((t) => h('span', {class: 'tag'}, t))) : null),
      h('button', {type: 'button', class: 'ghost', 'aria-label': `Export ${agent.name}`,
        onclick: (e) => busy(e.currentTarget, async () => {
          const data = await api('GET', `/v1/agents/${agent.id}/export`);
          download(`${agent.name}.af`, typeof data === 'string' ? data : JSON.stringify(data, null, 2));
        })}, 'Export'),
      h('button', {type: 'button', class: 'ghost danger', 'aria-label': `Delete ${agent.name}`,
        onclick: (e) => {
          if (!confirm(`Delete agent “${agent.name}”? This cannot be undone.`)) return;
          busy(e.currentTarget, async () => { await del(`/v1/agents/${agent.id}`); toast(`Deleted ${agent.name}`); await load(); });
        }}, 'Delete'));
  }

  function turn(step) {
    state.page = Math.max(0, state.page + step);
    load();
  }

  async function importFile(file) {
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    await busy(null, async () => {
      const agent = await post('/v1/agents/import', form);
      toast(`Imported ${agent.name}`);
      navigate(`/agents/${agent.id}`);
    }, errors);
    importInput.value = '';
  }

  search.addEventListener('input', debounce(() => {
    state.query = search.value.trim(); state.cursors = [null]; state.page = 0; load();
  }, 200));
  // Focused now, not once the list has arrived: by then the user may be typing in the create form.
  search.focus();
  await load();
  return () => {};
}

function createForm() {
  const name = h('input', {name: 'name', required: true, placeholder: 'my-agent', autocomplete: 'off'});
  const model = h('select', {name: 'model', required: true}, h('option', {value: ''}, 'Loading models…'));
  const embedding = h('select', {name: 'embedding', required: true}, h('option', {value: ''}, 'Loading…'));
  const persona = h('textarea', {name: 'persona', rows: 3}, 'I am a helpful assistant.');
  const human = h('textarea', {name: 'human', rows: 2}, '');
  const errors = errorArea();
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Create agent');
  const form = h('form', {class: 'card', 'aria-labelledby': 'create-title'},
    h('h2', {id: 'create-title'}, 'New agent'),
    field('Name', name), field('Model', model), field('Embedding', embedding),
    field('Persona block', persona), field('Human block', human, 'What the agent knows about its user.'),
    errors, submit);
  Promise.all([get('/v1/models/'), get('/v1/models/embedding')]).then(([models, embeddings]) => {
    clear(model, models.map((m) => h('option', {value: m.handle}, `${m.handle} (${(m.context_window || 0).toLocaleString()} tokens)`)));
    clear(embedding, embeddings.map((m) => h('option', {value: m.handle}, m.handle)));
    if (!models.length) clear(model, h('option', {value: ''}, 'No models: configure a provider'));
  }).catch((err) => errors.show(err));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const blocks = [{label: 'persona', value: persona.value}, {label: 'human', value: human.value}];
      const agent = await post('/v1/agents/', {name: name.value.trim(), model: model.value, embedding: embedding.value,
        memory_blocks: blocks});
      toast(`Created ${agent.name}`);
      navigate(`/agents/${agent.id}`);
    }, errors);
  });
  return form;
}
