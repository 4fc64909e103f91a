// Runs and steps: recent runs with status, stop reason and usage; a step's details; cancel a running run.
import {h, clear, errorArea, busy, empty, fmtDate, fmtNum, details, cardList} from './dom.js';
import {get, post, qs} from './api.js';

export async function render(root, ctx) {
  const list = cardList('run');
  const errors = errorArea();
  const refresh = h('button', {type: 'button', class: 'ghost small', onclick: () => load()}, 'Refresh');
  clear(root, h('div', {class: 'row-inline'}, h('h2', {class: 'h3'}, 'Runs'), h('span', {class: 'spacer'}), refresh), errors, list.el);

  async function load() {
    errors.hide();
    try {
      await list.load(() => get(`/v1/runs/${qs({agent_ids: ctx.id})}`), (runs, isOpen) => {
        runs.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
        return runs.length ? runs.slice(0, 50).map((run) => runCard(run, isOpen(run.id))) : empty('No runs yet: send the agent a message.');
      });
    } catch (err) { errors.show(err); }
  }

  function runCard(run, wasOpen) {
    const body = h('div');
    const errs = errorArea();
    const active = run.status === 'running' || run.status === 'created' || run.status === 'pending';
    async function open() {
      try {
        const [usage, steps] = await Promise.all([get(`/v1/runs/${run.id}/usage`), get(`/v1/runs/${run.id}/steps`)]);
        clear(body,
          h('p', {class: 'small'}, `${fmtNum(usage.prompt_tokens)} prompt + ${fmtNum(usage.completion_tokens)} completion = ${fmtNum(usage.total_tokens)} tokens`),
          steps.length ? h('ol', {class: 'steps'}, steps.map((s) => h('li', null,
            h('button', {type: 'button', class: 'ghost small', onclick: async (e) => {
              const box = e.currentTarget.parentElement.querySelector('.step-detail');
              await busy(e.currentTarget, async () => clear(box, details(`Step ${s.id}`, await get(`/v1/steps/${s.id}`), true)), errs);
            }}, `${s.model || 'step'} · ${fmtNum(s.total_tokens ?? s.completion_tokens)} tokens · ${s.stop_reason || ''}`),
            h('div', {class: 'step-detail'})))) : empty('No steps recorded.'));
      } catch (err) { errs.show(err); }
    }
    const card = h('details', {class: 'card run', open: wasOpen, dataset: {run: run.id, status: run.status}, ontoggle: () => { if (card.open) open(); }},
      h('summary', null, h('span', {class: `tag ${run.status === 'failed' ? 'bad' : ''}`}, run.status), ' ',
        h('span', {class: 'small'}, fmtDate(run.created_at)), ' ', h('span', {class: 'small muted'}, run.stop_reason ? `stop: ${run.stop_reason}` : '')),
      active ? h('button', {type: 'button', class: 'danger small', onclick: (e) => busy(e.currentTarget, async () => {
        await post(`/v1/agents/${ctx.id}/messages/cancel`, [run.id]); await load();
      }, errs)}, 'Cancel run') : null,
      errs, body);
    return card;
  }

  ctx.on('turn', load);
  await load();
}
