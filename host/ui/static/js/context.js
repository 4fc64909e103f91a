// Context window: a stacked bar of tokens by section against the model's window; each section expandable.
import {h, clear, newest, openKeys, errorArea, fmtNum} from './dom.js';
import {get} from './api.js';

const SECTIONS = [
  ['system', 'System prompt', 'num_tokens_system', (c) => c.system_prompt],
  ['tools', 'Tool schemas', 'num_tokens_functions_definitions', (c) => JSON.stringify(c.functions_definitions, null, 2)],
  ['core', 'Core memory', 'num_tokens_core_memory', (c) => c.core_memory],
  ['summary', 'Memory summary', 'num_tokens_summary_memory', (c) => c.summary_memory || c.external_memory_summary || ''],
  ['messages', 'Messages', 'num_tokens_messages', (c) => (c.messages || []).map(messageText).join('\n\n')],
];

function messageText(m) {
  if (typeof m === 'string') return m;
  const role = m.role || m.message_type || '';
  const content = typeof m.content === 'string' ? m.content :
    Array.isArray(m.content) ? m.content.map((p) => p.text || '').join('') : m.text || '';
  const calls = (m.tool_calls || []).map((t) => `→ ${t.function?.name || t.name}(${t.function?.arguments || t.arguments || ''})`).join('\n');
  return `[${role}] ${content}${calls ? `\n${calls}` : ''}`;
}

export async function render(root, ctx) {
  const body = h('div');
  const errors = errorArea();
  const refresh = h('button', {type: 'button', class: 'ghost small', onclick: () => load()}, 'Refresh');
  clear(root, h('div', {class: 'row-inline'}, h('h2', {class: 'h3'}, 'Context window'), h('span', {class: 'spacer'}), refresh), errors, body);

  const ticket = newest();
  const legend = h('div', {class: 'sections'});
  async function load() {
    errors.hide();
    const current = ticket();
    try {
      const c = await get(`/v1/agents/${ctx.id}/context`);
      if (!current()) return;
      const wasOpen = openKeys(legend, 'section');
      const max = c.context_window_size_max || 1;
      const used = c.context_window_size_current || 0;
      const bar = h('div', {class: 'stack', role: 'img',
        'aria-label': `${fmtNum(used)} of ${fmtNum(max)} tokens used`});
      clear(legend);
      for (const [id, label, key, text] of SECTIONS) {
        const n = c[key] || 0;
        bar.append(h('span', {class: `seg seg-${id}`, style: {width: `${Math.max(0, (100 * n) / max)}%`},
          title: `${label}: ${fmtNum(n)} tokens`}));
        legend.append(h('details', {class: 'section', open: wasOpen(id), dataset: {section: id}},
          h('summary', null, h('span', {class: `dot seg-${id}`}), ` ${label} `, h('span', {class: 'muted'}, `${fmtNum(n)} tokens`)),
          h('pre', {class: 'code'}, text(c) || '(empty)')));
      }
      clear(body,
        h('p', null, h('strong', null, fmtNum(used)), ` of ${fmtNum(max)} tokens (${((100 * used) / max).toFixed(1)}%)`,
          h('span', {class: 'muted'}, ` · ${c.num_messages} messages in context, ${c.num_recall_memory} in recall, ${c.num_archival_memory} archival passages`)),
        bar, legend);
    } catch (err) { errors.show(err); }
  }
  ctx.on('turn', load);
  ctx.on('memory', load);
  ctx.on('agent', load);
  await load();
}
