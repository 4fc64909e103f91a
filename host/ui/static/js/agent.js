// An agent's page, laid out as Letta's ADE: configuration | simulator | state (stacks on narrow windows).
import {h, clear, tabs} from './dom.js';
import {get} from './api.js';

// Each tab's module loads on first show (heavier panels never weigh on the first paint).
const LEFT = [
  ['settings', 'Settings', './settings.js'],
  ['tools', 'Tools', './tools.js'],
  ['rules', 'Tool rules', './rules.js'],
  ['mcp', 'MCP servers', './mcp.js'],
  ['sources', 'Data sources', './sources.js'],
  ['runs', 'Runs', './runs.js'],
];
const RIGHT = [
  ['memory', 'Core memory', './memory.js'],
  ['context', 'Context window', './context.js'],
  ['archival', 'Archival', './archival.js'],
];

export async function mountAgent(root, agentId) {
  const agent = await get(`/v1/agents/${encodeURIComponent(agentId)}`);
  const ctx = {
    id: agent.id,
    agent,
    events: new EventTarget(),
    emit(name, detail) { this.events.dispatchEvent(new CustomEvent(name, {detail})); },
    on(name, fn) { this.events.addEventListener(name, fn); },
    async refresh() {
      this.agent = await get(`/v1/agents/${this.id}`);
      title.textContent = this.agent.name;
      this.emit('agent', this.agent);
      return this.agent;
    },
  };
  const title = h('span', null, agent.name);
  document.title = `${agent.name} · agenthost`;
  const panel = (items, label) => tabs(label, items.map(([id, text, path]) => ({
    id, label: text,
    render: async (el) => {
      el.append(h('p', {class: 'muted'}, 'Loading…'));
      try {
        const mod = await import(path);
        clear(el);
        await mod.render(el, ctx);
      } catch (err) {
        clear(el, h('p', {class: 'error', role: 'alert'}, err.detail !== undefined ? `${err.status}: ${err.detail}` : String(err)));
      }
    },
  })));
  const left = panel(LEFT, 'Configuration');
  const right = panel(RIGHT, 'State');
  const middle = h('section', {class: 'col sim', 'aria-label': 'Agent simulator'});
  clear(root, h('div', {class: 'ade'},
    h('div', {class: 'ade-head'},
      h('a', {href: '/', 'data-link': '', class: 'muted'}, '← Agents'),
      h('h1', null, title),
      h('code', {class: 'muted small', title: 'Agent id'}, agent.id)),
    h('div', {class: 'ade-cols'},
      h('aside', {class: 'col', 'aria-label': 'Configuration'}, left.el),
      middle,
      h('aside', {class: 'col', 'aria-label': 'State'}, right.el))));
  const sim = await import('./simulator.js');
  const stop = await sim.render(middle, ctx);
  return () => { document.title = 'agenthost'; if (typeof stop === 'function') stop(); };
}
