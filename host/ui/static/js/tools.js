// Tools: the agent's tools and the library; attach/detach; a custom tool editor with Run in the sandbox.
import {h, clear, errorArea, busy, empty, field, toast, debounce, newest} from './dom.js';
import {get, post, patch, qs} from './api.js';
import {schemaForm, schemaFromPython} from './schemaform.js';

const TEMPLATE = `def roll_dice(sides: int = 6, times: int = 1) -> str:
    """Roll dice and report the faces.

    Args:
        sides: How many faces each die has.
        times: How many dice to roll.

    Returns:
        str: The faces rolled.
    """
    import random
    faces = [random.randint(1, sides) for _ in range(times)]
    print("rolled", faces)
    return ", ".join(str(f) for f in faces)
`;

export async function render(root, ctx) {
  const mine = h('ul', {class: 'rows', 'aria-label': 'Attached tools'});
  const library = h('ul', {class: 'rows', 'aria-label': 'Tool library'});
  const search = h('input', {type: 'search', placeholder: 'Search the library', 'aria-label': 'Search the tool library'});
  const errors = errorArea();
  const editor = h('div');
  clear(root,
    h('h2', {class: 'h3'}, 'Attached tools'), errors, mine,
    h('div', {class: 'row-inline'}, h('h2', {class: 'h3'}, 'Library'), h('span', {class: 'spacer'}),
      h('button', {type: 'button', class: 'small', onclick: () => openEditor(null)}, 'New custom tool')),
    search, library, editor);

  function attached() { return new Set((ctx.agent.tools || []).map((t) => t.id)); }

  function toolRow(tool, isAttached) {
    const action = isAttached ?
      h('button', {type: 'button', class: 'ghost small', 'aria-label': `Detach ${tool.name}`,
        onclick: (e) => busy(e.currentTarget, async () => { await patch(`/v1/agents/${ctx.id}/tools/detach/${tool.id}`); await ctx.refresh(); }, errors)}, 'Detach') :
      h('button', {type: 'button', class: 'small', 'aria-label': `Attach ${tool.name}`,
        onclick: (e) => busy(e.currentTarget, async () => { await patch(`/v1/agents/${ctx.id}/tools/attach/${tool.id}`); await ctx.refresh(); }, errors)}, 'Attach');
    return h('li', {class: 'row', dataset: {tool: tool.name}},
      h('div', {class: 'grow'}, h('code', null, tool.name), ' ', h('span', {class: 'tag'}, tool.tool_type || tool.source_type || ''),
        h('div', {class: 'small muted'}, (tool.description || '').split('\n')[0])),
      tool.source_code ? h('button', {type: 'button', class: 'ghost small', 'aria-label': `Open ${tool.name} in the editor`,
        onclick: () => openEditor(tool)}, 'Edit') : null,
      action);
  }

  function showMine() {
    const tools = ctx.agent.tools || [];
    clear(mine, tools.length ? tools.map((t) => toolRow(t, true)) : h('li', null, empty('No tools attached.')));
  }

  const ticket = newest();
  async function loadLibrary() {
    const current = ticket();
    try {
      const q = search.value.trim().toLowerCase();
      const tools = await get(`/v1/tools/${qs({limit: 200})}`);
      if (!current()) return;  // a later search or reload paints
      const on = attached();
      const shown = tools.filter((t) => !q || t.name.toLowerCase().includes(q));
      clear(library, shown.length ? shown.map((t) => toolRow(t, on.has(t.id))) : h('li', null, empty('No tool matches.')));
    } catch (err) { errors.show(err); }
  }

  function openEditor(tool) {
    const source = h('textarea', {class: 'mono', rows: 16, spellcheck: false, name: 'source_code', 'aria-label': 'Python source'});
    source.value = tool?.source_code || TEMPLATE;
    source.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey) {  // indent; Escape then Tab leaves the editor
        if (source.dataset.escape) { delete source.dataset.escape; return; }
        e.preventDefault(); source.setRangeText('    ', source.selectionStart, source.selectionEnd, 'end');
      } else if (e.key === 'Escape') source.dataset.escape = '1';
    });
    const argsBox = h('div');
    const output = h('div', {class: 'run-output', 'aria-live': 'polite'});
    const errs = errorArea();
    let form = null;
    function rebuild() {
      const parsed = schemaFromPython(source.value);
      const params = tool && source.value === tool.source_code ? tool.json_schema?.parameters : parsed?.parameters;
      form = schemaForm(params || {properties: {}});
      clear(argsBox, h('h4', null, 'Arguments'), form);
    }
    source.addEventListener('input', debounce(rebuild, 300));
    rebuild();
    const run = h('button', {type: 'button', class: 'primary'}, 'Run');
    const save = h('button', {type: 'button'}, tool ? 'Save' : 'Create');
    const saveAttach = tool ? null : h('button', {type: 'button'}, 'Create and attach');
    run.addEventListener('click', () => busy(run, async () => {
      let args;
      try { args = form.values(); } catch (err) { errs.show(err); return; }
      clear(output, h('p', {class: 'muted'}, 'Running…'));

      const r = await post('/v1/tools/run', {source_code: source.value, args, name: tool?.name});
      clear(output,
        h('div', {class: `small ${r.status === 'error' ? 'bad' : 'good'}`, dataset: {status: r.status}}, `Status: ${r.status}`),
        h('h4', null, 'Result'), h('pre', {class: 'code', dataset: {out: 'result'}}, r.tool_return ?? ''),
        h('h4', null, 'stdout'), h('pre', {class: 'code', dataset: {out: 'stdout'}}, (r.stdout || []).join('') || '(empty)'),
        h('h4', null, 'stderr'), h('pre', {class: 'code', dataset: {out: 'stderr'}}, (r.stderr || []).join('') || '(empty)'));
    }, errs));
    const persist = (attach) => async () => {
      const saved = tool ? await patch(`/v1/tools/${tool.id}`, {source_code: source.value}) :
        await post('/v1/tools/', {source_code: source.value});
      if (attach) await patch(`/v1/agents/${ctx.id}/tools/attach/${saved.id}`);
      toast(`${tool ? 'Saved' : 'Created'} ${saved.name}`);
      await ctx.refresh();
      openEditor(saved);
    };
    save.addEventListener('click', () => busy(save, persist(false), errs));
    saveAttach?.addEventListener('click', () => busy(saveAttach, persist(true), errs));
    clear(editor, h('section', {class: 'card editor', 'aria-label': 'Custom tool editor'},
      h('div', {class: 'row-inline'}, h('h3', null, tool ? `Edit ${tool.name}` : 'New custom tool'), h('span', {class: 'spacer'}),
        h('button', {type: 'button', class: 'ghost small', onclick: () => clear(editor)}, 'Close')),
      field('Python source (a function with a docstring; Tab indents, Escape then Tab leaves)', source),
      argsBox, errs, h('div', {class: 'row-inline'}, run, save, saveAttach), output));
    source.focus();
  }

  search.addEventListener('input', debounce(loadLibrary, 200));
  ctx.on('agent', () => { showMine(); loadLibrary(); });
  showMine();
  await loadLibrary();
}
