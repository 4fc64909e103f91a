// Agent settings: name, description, model, embedding, system prompt, LLM parameters, reasoning,
// message_buffer_autoclear, tags, identities and tool environment variables (masked).
import {h, clear, errorArea, busy, field, toast} from './dom.js';
import {get, patch} from './api.js';
import {kvEditor} from './kv.js';

export async function render(root, ctx) {
  const [models, embeddings, identities] = await Promise.all([
    get('/v1/models/'), get('/v1/models/embedding'), get('/v1/identities/').catch(() => [])]);
  const form = h('form', {class: 'settings'});
  const errors = errorArea();
  clear(root, h('h2', {class: 'h3'}, 'Settings'), form);

  function build() {
    const a = ctx.agent;
    const llm = a.llm_config || {};
    const name = h('input', {type: 'text', name: 'name', value: a.name, required: true});
    const description = h('textarea', {name: 'description', rows: 2}, a.description || '');
    const handles = models.map((m) => m.handle);
    const model = h('select', {name: 'model'}, [...new Set([llm.handle, ...handles].filter(Boolean))].map((m) => h('option', {value: m, selected: m === llm.handle}, m)));
    const emb = a.embedding_config?.handle;
    const embedding = h('select', {name: 'embedding'}, [...new Set([emb, ...embeddings.map((m) => m.handle)].filter(Boolean))].map((m) => h('option', {value: m, selected: m === emb}, m)));
    const system = h('textarea', {name: 'system', rows: 8, class: 'mono'});
    system.value = a.system || '';
    const temperature = h('input', {type: 'number', name: 'temperature', min: 0, max: 2, step: 0.05, value: llm.temperature ?? ''});
    const maxTokens = h('input', {type: 'number', name: 'max_tokens', min: 1, step: 1, value: llm.max_tokens ?? ''});
    const contextWindow = h('input', {type: 'number', name: 'context_window', min: 1, step: 1, value: llm.context_window ?? ''});
    const reasoner = h('input', {type: 'checkbox', name: 'enable_reasoner', checked: !!llm.enable_reasoner});
    const effort = h('select', {name: 'reasoning_effort'}, ['', 'minimal', 'low', 'medium', 'high'].map((v) =>
      h('option', {value: v, selected: (llm.reasoning_effort || '') === v}, v || '(model default)')));
    const reasoningTokens = h('input', {type: 'number', name: 'max_reasoning_tokens', min: 0, step: 1, value: llm.max_reasoning_tokens ?? 0});
    const autoclear = h('input', {type: 'checkbox', name: 'message_buffer_autoclear', checked: !!a.message_buffer_autoclear});
    const tags = h('input', {type: 'text', name: 'tags', value: (a.tags || []).join(', '), placeholder: 'comma, separated'});
    const ids = new Set(a.identity_ids || []);
    const identity = h('select', {name: 'identity_ids', multiple: true, size: Math.min(4, Math.max(2, identities.length))},
      identities.map((i) => h('option', {value: i.id, selected: ids.has(i.id)}, `${i.name} (${i.identifier_key})`)));
    const env = kvEditor('Environment variable', {initial: (a.tool_exec_environment_variables || []).map((v) => [v.key, v.value ?? ''])});
    const save = h('button', {type: 'submit', class: 'primary'}, 'Save settings');
    clear(form,
      field('Name', name), field('Description', description), field('Model', model), field('Embedding', embedding),
      field('System prompt', system),
      h('div', {class: 'grid2'}, field('Temperature', temperature), field('Max output tokens', maxTokens),
        field('Context window (tokens)', contextWindow), field('Max reasoning tokens', reasoningTokens)),
      h('label', {class: 'check'}, reasoner, ' Enable reasoning (native reasoners)'),
      field('Reasoning effort', effort),
      h('label', {class: 'check'}, autoclear, ' Clear the message buffer after each turn (message_buffer_autoclear)'),
      field('Tags', tags),
      field('Identities', identity, identities.length ? null : 'No identities exist yet (POST /v1/identities/).'),
      h('p', {class: 'small muted'}, 'Tool environment variables (values masked; sent to the sandbox when the agent’s tools run).'),
      env, errors, save);
    form.onsubmit = (e) => {
      e.preventDefault();
      busy(save, async () => {
        if (model.value && model.value !== llm.handle) await patch(`/v1/agents/${ctx.id}`, {model: model.value});
        const current = model.value !== llm.handle ? (await get(`/v1/agents/${ctx.id}`)).llm_config : llm;
        const num = (input) => (input.value === '' ? undefined : Number(input.value));
        const body = {
          name: name.value.trim(), description: description.value, system: system.value,
          message_buffer_autoclear: autoclear.checked,
          tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
          identity_ids: [...identity.selectedOptions].map((o) => o.value),
          tool_exec_environment_variables: env.value(),
          llm_config: {...current, temperature: num(temperature), max_tokens: num(maxTokens), context_window: num(contextWindow),
            enable_reasoner: reasoner.checked, reasoning_effort: effort.value || null, max_reasoning_tokens: num(reasoningTokens) ?? 0},
        };
        if (embedding.value && embedding.value !== emb) body.embedding = embedding.value;
        await patch(`/v1/agents/${ctx.id}`, body);
        await ctx.refresh();
        toast('Settings saved');
      }, errors);
    };
  }
  ctx.on('agent', () => { if (!form.contains(document.activeElement)) build(); });
  build();
}
