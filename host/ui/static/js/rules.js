// Tool rules: an editor of the agent's rules, the rule graph drawn as SVG, and the rules' warnings.
import {h, clear, errorArea, busy, empty, toast, details} from './dom.js';
import {get, call} from './api.js';
import {drawGraph} from './graph.js';

const TYPES = ['run_first', 'exit_loop', 'continue_loop', 'constrain_child_tools', 'parent_last_tool', 'conditional',
  'max_count_per_step', 'required_before_exit', 'requires_approval'];

export async function render(root, ctx) {
  const graphBox = h('div');
  const warnings = h('div', {'aria-live': 'polite'});
  const rulesBox = h('div');
  const errors = errorArea();
  const save = h('button', {type: 'button', class: 'primary'}, 'Save rules');
  const add = h('button', {type: 'button'}, 'Add rule');
  clear(root, h('h2', {class: 'h3'}, 'Rule graph'), graphBox, warnings,
    h('h2', {class: 'h3'}, 'Rules'), rulesBox, errors, h('div', {class: 'row-inline'}, add, save));
  let rules = [];

  function toolNames() { return (ctx.agent.tools || []).map((t) => t.name); }

  function ruleRow(rule, i) {
    const type = h('select', {'aria-label': `Rule ${i + 1} type`}, TYPES.map((t) => h('option', {value: t, selected: t === rule.type}, t)));
    const tool = h('select', {'aria-label': `Rule ${i + 1} tool`},
      [...new Set([...toolNames(), rule.tool_name].filter(Boolean))].map((n) => h('option', {value: n, selected: n === rule.tool_name}, n)));
    const extra = h('div', {class: 'grow'});
    function extras() {
      clear(extra);
      const t = type.value;
      if (t === 'constrain_child_tools' || t === 'parent_last_tool') {
        const input = h('input', {type: 'text', value: (rule.children || []).join(', '), placeholder: 'child, tools', 'aria-label': `Rule ${i + 1} children`,
          oninput: () => { rule.children = input.value.split(',').map((s) => s.trim()).filter(Boolean); }});
        extra.append(input);
      } else if (t === 'max_count_per_step') {
        const input = h('input', {type: 'number', min: 1, value: rule.max_count_limit ?? 1, 'aria-label': `Rule ${i + 1} max count`,
          oninput: () => { rule.max_count_limit = Number(input.value); }});
        extra.append(input);
      } else if (t === 'conditional') {
        const input = h('textarea', {rows: 2, 'aria-label': `Rule ${i + 1} output mapping (JSON)`, placeholder: '{"output": "tool"}',
          oninput: () => { try { rule.child_output_mapping = JSON.parse(input.value || '{}'); input.setCustomValidity(''); } catch { input.setCustomValidity('JSON'); } }});
        input.value = JSON.stringify(rule.child_output_mapping || {});
        const dflt = h('input', {type: 'text', value: rule.default_child || '', placeholder: 'default child', 'aria-label': `Rule ${i + 1} default child`,
          oninput: () => { rule.default_child = dflt.value || null; }});
        extra.append(input, dflt);
      }
    }
    type.addEventListener('change', () => { rule.type = type.value; extras(); });
    tool.addEventListener('change', () => { rule.tool_name = tool.value; });
    extras();
    return h('div', {class: 'row', dataset: {rule: i}}, type, tool, extra,
      h('button', {type: 'button', class: 'ghost danger small', 'aria-label': `Remove rule ${i + 1}`,
        onclick: () => { rules.splice(i, 1); showRules(); }}, '✕'));
  }

  function showRules() {
    clear(rulesBox, rules.length ? rules.map(ruleRow) : empty('No rules: the model may call any tool at any step.'));
  }

  function clean(rule) {
    const out = {type: rule.type, tool_name: rule.tool_name};
    if (rule.type === 'constrain_child_tools' || rule.type === 'parent_last_tool') out.children = rule.children || [];
    if (rule.type === 'max_count_per_step') out.max_count_limit = rule.max_count_limit ?? 1;
    if (rule.type === 'conditional') {
      out.child_output_mapping = rule.child_output_mapping || {};
      out.default_child = rule.default_child || null;
      out.require_output_mapping = !!rule.require_output_mapping;
    }
    return out;
  }

  function showWarnings(list) {
    clear(warnings, list.length ? h('ul', {class: 'warnings', 'aria-label': 'Rule warnings'},
      list.map((w) => h('li', {class: 'bad small'}, typeof w === 'string' ? w : w.message))) : h('p', {class: 'small good'}, 'No warnings.'));
  }

  async function loadGraph() {
    try {
      const graph = await get(`/v1/agents/${ctx.id}/tool-rules/graph`);
      clear(graphBox, graph.nodes.length ? drawGraph(graph) : empty('No tools to draw.'), details('Mermaid source', graph.mermaid));
      showWarnings(graph.warnings || []);
    } catch (err) { errors.show(err); }
  }

  add.addEventListener('click', () => { rules.push({type: 'exit_loop', tool_name: toolNames()[0]}); showRules(); });
  save.addEventListener('click', () => busy(save, async () => {
    const {response} = await call('PATCH', `/v1/agents/${ctx.id}`, {tool_rules: rules.map(clean)});
    const header = response.headers.get('X-Tool-Rule-Warnings');
    toast('Rules saved');
    await ctx.refresh();
    if (header) { try { showWarnings(JSON.parse(header)); } catch { showWarnings([header]); } }
  }, errors));
  ctx.on('agent', () => { rules = structuredClone(ctx.agent.tool_rules || []); showRules(); loadGraph(); });
  rules = structuredClone(ctx.agent.tool_rules || []);
  showRules();
  await loadGraph();
}
