// A form built from a JSON schema's properties (the tool's parameters); values() returns typed arguments.
import {h, field} from './dom.js';

const PY_TYPES = {int: 'integer', float: 'number', bool: 'boolean', str: 'string', list: 'array', dict: 'object'};

// The parameters of the first `def` in Python source, as a JSON schema (annotations mapped to types).
export function schemaFromPython(source) {
  const m = source.match(/def\s+(\w+)\s*\(([\s\S]*?)\)\s*(->[^:]*)?:/);
  if (!m) return null;
  const properties = {};
  const required = [];
  let depth = 0; let cur = ''; const params = [];
  for (const ch of m[2]) {
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) { params.push(cur); cur = ''; } else cur += ch;
  }
  params.push(cur);
  for (const raw of params.map((p) => p.trim()).filter(Boolean)) {
    if (raw.startsWith('*') || raw === 'self' || raw === '/') continue;
    const pm = raw.match(/^(\w+)\s*(?::\s*([^=]+))?(?:=\s*(.+))?$/);
    if (!pm) continue;
    const [, name, annotation, dflt] = pm;
    if (name === 'agent_state') continue;
    const base = (annotation || 'str').trim().replace(/^Optional\[(.*)\]$/, '$1').split(/[[|\s]/)[0].toLowerCase();
    properties[name] = {type: PY_TYPES[base] || 'string'};
    if (dflt === undefined) required.push(name);
  }
  return {name: m[1], parameters: {type: 'object', properties, required}};
}

export function schemaForm(parameters) {
  const props = parameters?.properties || {};
  const required = new Set(parameters?.required || []);
  const inputs = {};
  const fields = Object.entries(props).map(([name, spec]) => {
    const type = Array.isArray(spec.type) ? spec.type.find((t) => t !== 'null') : spec.type;
    let input;
    if (spec.enum) input = h('select', {name}, spec.enum.map((v) => h('option', {value: JSON.stringify(v)}, String(v))));
    else if (type === 'boolean') input = h('input', {type: 'checkbox', name});
    else if (type === 'integer' || type === 'number') input = h('input', {type: 'number', name, step: type === 'integer' ? 1 : 'any'});
    else if (type === 'array' || type === 'object') input = h('textarea', {name, rows: 2, placeholder: type === 'array' ? '[…] (JSON)' : '{…} (JSON)'});
    else input = h('input', {type: 'text', name});
    input.dataset.type = spec.enum ? 'enum' : type || 'string';
    inputs[name] = input;
    return field(`${name}${required.has(name) ? ' *' : ''} (${spec.enum ? 'enum' : type || 'any'})`, input, spec.description);
  });
  const el = h('div', {class: 'schema-form'}, fields.length ? fields : h('p', {class: 'muted small'}, 'This tool takes no arguments.'));
  el.values = () => {
    const out = {};
    for (const [name, input] of Object.entries(inputs)) {
      const t = input.dataset.type;
      if (t === 'boolean') { out[name] = input.checked; continue; }
      if (input.value === '') {
        if (required.has(name)) throw new Error(`Argument “${name}” is required.`);
        continue;
      }
      if (t === 'integer' || t === 'number') out[name] = Number(input.value);
      else if (t === 'enum') out[name] = JSON.parse(input.value);
      else if (t === 'array' || t === 'object') {
        try { out[name] = JSON.parse(input.value); } catch { throw new Error(`Argument “${name}” must be JSON (${t}).`); }
      } else out[name] = input.value;
    }
    return out;
  };
  return el;
}
