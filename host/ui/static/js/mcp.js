// MCP servers: state, last error and tools of each; add one (stdio, SSE, streamable HTTP) after a test;
// attach one tool or the whole server to the agent. Secrets come back masked from the API.
import {h, clear, errorArea, busy, empty, field, toast, cardList} from './dom.js';
import {get, post, put, patch, del} from './api.js';
import {kvEditor} from './kv.js';

const enc = encodeURIComponent;

export async function render(root, ctx) {
  const list = cardList('server');
  const errors = errorArea();
  const refresh = h('button', {type: 'button', class: 'ghost small', onclick: () => load()}, 'Refresh');
  clear(root, h('div', {class: 'row-inline'}, h('h2', {class: 'h3'}, 'MCP servers'), h('span', {class: 'spacer'}), refresh),
    errors, list.el, addForm());

  async function load() {
    errors.hide();
    try {
      await list.load(async () => Object.values(await get('/v1/tools/mcp/servers/')), (servers, isOpen) => (servers.length ?
        servers.map((s) => serverCard(s, isOpen(s.server_name))) :
        empty('No MCP servers. Add one below, or list them in ~/.letta/mcp_config.json.')));
    } catch (err) { errors.show(err); }
  }

  function serverCard(s, wasOpen) {
    const tools = h('div');
    const errs = errorArea();
    const state = h('span', {class: `tag state-${s.state}`, dataset: {state: s.state}}, s.state);
    const mineNames = () => new Set((ctx.agent.tools || []).map((t) => t.name));
    async function showTools() {
      try {
        const list = await get(`/v1/tools/mcp/servers/${enc(s.server_name)}/tools`);
        const mine = mineNames();
        clear(tools, list.length ? h('ul', {class: 'rows'}, list.map((t) => h('li', {class: 'row', dataset: {mcpTool: t.name}},
          h('div', {class: 'grow'}, h('code', null, t.name), h('div', {class: 'small muted'}, (t.description || '').split('\n')[0])),
          mine.has(t.agent_name) ? h('span', {class: 'small good'}, 'attached') :
            h('button', {type: 'button', class: 'small', 'aria-label': `Attach ${t.name}`, onclick: (e) => busy(e.currentTarget, async () => {
              const tool = await post(`/v1/tools/mcp/servers/${enc(s.server_name)}/tools/${enc(t.name)}`);
              await patch(`/v1/agents/${ctx.id}/tools/attach/${tool.id}`);
              await ctx.refresh(); await showTools();
            }, errs)}, 'Attach')))) : empty('This server lists no tools.'));
      } catch (err) { errs.show(err); }
    }
    const details = h('details', {class: 'card server', open: wasOpen, dataset: {server: s.server_name}, ontoggle: () => { if (details.open) showTools(); }},
      h('summary', null, h('strong', null, s.server_name), ' ', state, ' ', h('span', {class: 'small muted'}, `${s.type} · ${s.tool_count ?? 0} tools · ${s.source}`)),
      s.last_error ? h('p', {class: 'error small'}, `Last error: ${s.last_error}`) : null,
      h('div', {class: 'small muted'}, s.type === 'stdio' ? `${s.command} ${(s.args || []).join(' ')}` : s.server_url),
      s.env && Object.keys(s.env).length ? h('div', {class: 'small muted'}, 'env: ', Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(', ')) : null,
      h('div', {class: 'row-inline'},
        h('button', {type: 'button', class: 'small', onclick: (e) => busy(e.currentTarget, async () => {
          const attached = await post(`/v1/tools/mcp/servers/${enc(s.server_name)}/attach/${ctx.id}`);
          toast(`Attached ${attached.length} tools from ${s.server_name}`); await ctx.refresh(); await showTools();
        }, errs)}, 'Attach all tools'),
        h('button', {type: 'button', class: 'ghost small', onclick: (e) => busy(e.currentTarget, async () => {
          await post(`/v1/tools/mcp/servers/${enc(s.server_name)}/detach/${ctx.id}`); await ctx.refresh(); await showTools();
        }, errs)}, 'Detach all'),
        h('button', {type: 'button', class: 'ghost small', onclick: (e) => busy(e.currentTarget, async () => {
          await post(`/v1/tools/mcp/servers/${enc(s.server_name)}/resync`); await load();
        }, errs)}, 'Resync'),
        h('button', {type: 'button', class: 'ghost danger small', onclick: (e) => {
          if (!confirm(`Remove MCP server “${s.server_name}”?`)) return;
          busy(e.currentTarget, async () => { await del(`/v1/tools/mcp/servers/${enc(s.server_name)}`); await load(); }, errs);
        }}, 'Remove')),
      errs, tools);
    return details;
  }

  function addForm() {
    const name = h('input', {type: 'text', name: 'server_name', required: true, autocomplete: 'off'});
    const type = h('select', {name: 'type'}, h('option', {value: 'stdio'}, 'stdio (a local command)'),
      h('option', {value: 'sse'}, 'SSE'), h('option', {value: 'streamable_http'}, 'Streamable HTTP'));
    const command = h('input', {type: 'text', name: 'command', placeholder: 'npx, uvx, python…'});
    const args = h('textarea', {name: 'args', rows: 2, placeholder: 'one argument per line'});
    const env = kvEditor('Environment variable');
    const url = h('input', {type: 'url', name: 'server_url', placeholder: 'http://127.0.0.1:8000/mcp'});
    const headers = kvEditor('Header', {keyHint: 'Authorization'});
    const stdio = h('div', null, field('Command', command), field('Arguments', args), env);
    const remote = h('div', {hidden: true}, field('URL', url), headers);
    const result = h('div', {'aria-live': 'polite'});
    const errs = errorArea();
    const test = h('button', {type: 'button'}, 'Test connection');
    const save = h('button', {type: 'submit', class: 'primary'}, 'Add server');
    type.addEventListener('change', () => { stdio.hidden = type.value !== 'stdio'; remote.hidden = type.value === 'stdio'; });
    function body() {
      const b = {server_name: name.value.trim(), type: type.value};
      if (type.value === 'stdio') {
        Object.assign(b, {command: command.value.trim(), args: args.value.split('\n').map((a) => a.trim()).filter(Boolean), env: env.value()});
      } else Object.assign(b, {server_url: url.value.trim(), custom_headers: headers.value()});
      return b;
    }
    test.addEventListener('click', () => busy(test, async () => {
      clear(result, h('p', {class: 'muted small'}, 'Connecting…'));
      const tools = await post('/v1/tools/mcp/servers/test', body());
      clear(result, h('p', {class: 'good small'}, `Connected: ${tools.length} tools`),
        h('ul', {class: 'small', 'aria-label': 'Tools found by the test'}, tools.map((t) => h('li', null, h('code', null, t.name), ' ', (t.description || '').split('\n')[0]))));
    }, errs));
    const form = h('form', {class: 'card'}, h('h3', null, 'Add an MCP server'), field('Name', name), field('Transport', type),
      stdio, remote, errs, h('div', {class: 'row-inline'}, test, save), result);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        await put('/v1/tools/mcp/servers/', body());
        toast(`Added ${name.value}`);
        form.reset(); env.reset(); headers.reset(); clear(result);
        await load();
      }, errs);
    });
    return form;
  }

  await load();
}
