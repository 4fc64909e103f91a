// The rule graph drawn as SVG from nodes and edges: layered top-down (start, tools by depth, end).
import {h, svg} from './dom.js';

const NODE_H = 30;
const GAP_X = 28;
const GAP_Y = 64;
const MAX_ROW = 520;

function width(label) { return Math.max(70, label.length * 7.2 + 24); }

export function drawGraph(graph) {
  const nodes = graph.nodes.map((n) => ({...n, label: n.id}));
  const edges = graph.edges.map((e) => ({...e}));
  const init = nodes.filter((n) => (n.kinds || [n.kind]).includes('init'));
  const terminal = nodes.filter((n) => (n.kinds || [n.kind]).includes('terminal'));
  if (init.length) { nodes.unshift({id: '__start', label: 'start', kind: 'plain'}); init.forEach((n) => edges.push({source: '__start', target: n.id, label: ''})); }
  if (terminal.length) { nodes.push({id: '__end', label: 'end of turn', kind: 'plain'}); terminal.forEach((n) => edges.push({source: n.id, target: '__end', label: ''})); }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  // Ranks: breadth-first from the roots (start, or nodes nobody points to); the end sits below all.
  const incoming = new Map(nodes.map((n) => [n.id, 0]));
  edges.forEach((e) => incoming.set(e.target, (incoming.get(e.target) || 0) + 1));
  const roots = byId.has('__start') ? ['__start'] : nodes.filter((n) => !incoming.get(n.id)).map((n) => n.id);
  const rank = new Map();
  const queue = roots.map((id) => [id, 0]);
  while (queue.length) {
    const [id, r] = queue.shift();
    if (rank.has(id) || id === '__end') continue;
    rank.set(id, r);
    edges.filter((e) => e.source === id).forEach((e) => queue.push([e.target, r + 1]));
  }
  const base = byId.has('__start') ? 1 : 0;
  nodes.forEach((n) => { if (!rank.has(n.id) && n.id !== '__end') rank.set(n.id, base); });
  const maxRank = Math.max(0, ...[...rank.values()]);
  if (byId.has('__end')) rank.set('__end', maxRank + 1);
  const ranked = [];
  nodes.forEach((n) => { (ranked[rank.get(n.id)] ||= []).push(n); });
  // A wide layer wraps onto several rows so the picture stays readable in a side column.
  const layers = [];
  for (const row of ranked) {
    let cur = []; let w = 0;
    for (const n of row || []) {
      if (cur.length && w + width(n.label) > MAX_ROW) { layers.push(cur); cur = []; w = 0; }
      cur.push(n); w += width(n.label) + GAP_X;
    }
    layers.push(cur);
  }
  const rowWidths = layers.map((row) => (row || []).reduce((s, n) => s + width(n.label) + GAP_X, -GAP_X));
  const total = Math.max(200, ...rowWidths) + 40;
  layers.forEach((row, r) => {
    let x = (total - rowWidths[r]) / 2;
    (row || []).forEach((n) => { n.w = width(n.label); n.x = x; n.y = 20 + r * GAP_Y; x += n.w + GAP_X; });
  });
  const height = 20 + layers.length * GAP_Y;
  const root = svg('svg', {viewBox: `0 0 ${total} ${height}`, width: '100%', style: `max-width:${total}px`, role: 'img',
    'aria-label': `Tool rule graph: ${graph.nodes.length} tools, ${graph.edges.length} edges`});
  root.append(svg('defs', null, svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
    svg('path', {d: 'M0,0 L10,5 L0,10 z', fill: 'currentColor'}))));
  for (const e of edges) {
    const a = byId.get(e.source); const b = byId.get(e.target);
    if (!a || !b) continue;
    const x1 = a.x + a.w / 2; const y1 = a.y + NODE_H;
    const x2 = b.x + b.w / 2; const y2 = b.y;
    let d;
    if (b.y > a.y) d = `M${x1},${y1} C${x1},${y1 + 25} ${x2},${y2 - 25} ${x2},${y2}`;
    else if (a === b) d = `M${a.x + a.w},${a.y + 8} c40,-20 40,34 0,14`;
    else { const side = Math.max(a.x + a.w, b.x + b.w) + 30; d = `M${a.x + a.w},${a.y + NODE_H / 2} C${side},${a.y} ${side},${b.y + NODE_H} ${b.x + b.w},${b.y + NODE_H / 2}`; }
    const g = svg('g', {class: 'edge-group', 'data-edge': `${e.source}->${e.target}`},
      svg('path', {d, class: 'edge', 'marker-end': 'url(#arrow)'}));
    if (e.label) g.append(svg('text', {x: (x1 + x2) / 2 + 4, y: (y1 + y2) / 2, 'font-size': 11}, e.label));
    root.append(g);
  }
  for (const n of nodes) {
    const kinds = (n.kinds || [n.kind]).join(' ');
    root.append(svg('g', {class: `node ${kinds}${n.attached === false ? ' missing' : ''}`, 'data-node': n.label},
      svg('rect', {x: n.x, y: n.y, width: n.w, height: NODE_H, rx: n.kind === 'plain' ? 15 : 6}),
      svg('text', {x: n.x + n.w / 2, y: n.y + 19, 'text-anchor': 'middle'}, n.label + (n.max_count ? ` ≤${n.max_count}` : ''))));
  }
  return h('div', {class: 'graph'}, root);
}
