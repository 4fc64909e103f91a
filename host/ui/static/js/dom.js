// A tiny component helper: h() builds elements, plus toasts, formatting and small widgets.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else if (key === 'value' || key === 'checked' || key === 'selected') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let fieldSeq = 0;
// A labelled control: <label for=id>text</label> + control (the control gets an id if it has none).
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++fieldSeq}`;
  return h('div', {class: 'field'}, h('label', {for: control.id}, label), control,
    hint ? h('small', {class: 'muted'}, hint) : null);
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const item = h('div', {class: `toast ${kind}`}, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 3500);
}

export function errorText(err) {
  return err && err.detail !== undefined ? `${err.status}: ${err.detail}` : String(err && err.message || err);
}

// An inline error area: show(err) renders the API's detail, hide() clears it.
export function errorArea() {
  const el = h('div', {class: 'error', role: 'alert', hidden: true});
  el.show = (err) => { el.textContent = errorText(err); el.hidden = false; };
  el.hide = () => { el.textContent = ''; el.hidden = true; };
  return el;
}

// Run an async action from a button: disable it meanwhile, report errors to `errors` (or a toast).
export async function busy(button, action, errors) {
  if (button) button.disabled = true;
  errors?.hide?.();
  try {
    return await action();
  } catch (err) {
    if (errors?.show) errors.show(err); else toast(errorText(err), 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function empty(text) {
  return h('p', {class: 'empty'}, text);
}

// A list of <details> cards that reloads from the API. Only the newest load paints (an earlier, slower
// answer never paints over it), and a card the user opened stays open across reloads: render() gets
// isOpen(key), the card's `data-<key>` value, and builds that card open (its toggle handler then refills it).
export function cardList(key) {
  const el = h('div');
  const ticket = newest();
  return {
    el,
    async load(fetch, render) {
      const current = ticket();
      const data = await fetch();
      if (!current()) return;
      clear(el, render(data, openKeys(el, key)));
    },
  };
}

// For a panel whose loads may overlap (a reload per turn, a search typed while the list loads): each load
// takes a ticket, `const current = ticket()`, and paints only if `current()` still holds once its answers are
// in, so an earlier, slower answer never paints over a newer one.
export function newest() {
  let last = 0;
  return () => {
    const mine = ++last;
    return () => mine === last;
  };
}

// isOpen(k) of the <details data-<key>=k> directly inside `el` that are open now (to build them open again).
export function openKeys(el, key) {
  const open = new Set([...el.querySelectorAll(':scope > details[open]')].map((d) => d.dataset[key]));
  return (k) => open.has(String(k));
}

export function fmtDate(value) {
  if (!value) return '';
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return isNaN(d) ? String(value) : d.toLocaleString();
}

export function fmtNum(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString();
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// Tabs: [{id, label, render(container)}]; panels render lazily on first show.
export function tabs(name, items, onShow) {
  const list = h('div', {class: 'tabs', role: 'tablist', 'aria-label': name});
  const panels = h('div', {class: 'tabpanels'});
  const entries = items.map((item, i) => {
    const tab = h('button', {type: 'button', role: 'tab', id: `tab-${item.id}`, 'aria-controls': `panel-${item.id}`,
      'aria-selected': 'false', tabindex: '-1', dataset: {tab: item.id}}, item.label);
    const panel = h('section', {role: 'tabpanel', id: `panel-${item.id}`, 'aria-labelledby': `tab-${item.id}`,
      class: 'tabpanel', hidden: true});
    tab.addEventListener('click', () => select(i));
    tab.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (step) { const j = (i + step + items.length) % items.length; select(j); entries[j].tab.focus(); }
    });
    list.append(tab); panels.append(panel);
    return {item, tab, panel, rendered: false};
  });
  function select(i) {
    entries.forEach((e, j) => {
      const on = i === j;
      e.tab.setAttribute('aria-selected', String(on)); e.tab.tabIndex = on ? 0 : -1; e.panel.hidden = !on;
      if (on && !e.rendered) { e.rendered = true; e.item.render(e.panel); }
      if (on && onShow) onShow(e.item.id);
    });
  }
  select(0);
  return {el: h('div', {class: 'tabbox'}, list, panels), select: (id) => select(items.findIndex((t) => t.id === id))};
}

// Collapsible block of pre-formatted text.
export function details(summary, body, open = false) {
  return h('details', {open}, h('summary', null, summary),
    body instanceof Node ? body : h('pre', {class: 'code'}, typeof body === 'string' ? body : JSON.stringify(body, null, 2)));
}

export function download(filename, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = h('a', {href: url, download: filename, hidden: true});
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
