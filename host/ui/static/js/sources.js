// Data sources: create, upload with a progress bar fed by the ingestion job, attach/detach, files, passages.
import {h, clear, errorArea, busy, empty, field, toast, fmtDate, cardList} from './dom.js';
import {get, post, patch, del, qs} from './api.js';

const DONE = new Set(['completed', 'failed', 'cancelled', 'expired']);

export async function render(root, ctx) {
  const list = cardList('source');
  const errors = errorArea();
  clear(root, h('h2', {class: 'h3'}, 'Data sources'), errors, list.el, createForm());

  async function load() {
    errors.hide();
    try {
      await list.load(() => Promise.all([get('/v1/sources/'), get(`/v1/agents/${ctx.id}/sources`)]), ([all, mine], isOpen) => {
        const attached = new Set(mine.map((s) => s.id));
        return all.length ? all.map((s) => sourceCard(s, attached.has(s.id), isOpen(s.name))) : empty('No data sources yet: create one below.');
      });
    } catch (err) { errors.show(err); }
  }

  function sourceCard(s, attached, wasOpen) {
    const errs = errorArea();
    const files = h('div');
    const passages = h('div');
    const progress = h('div', {'aria-live': 'polite'});
    const input = h('input', {type: 'file', 'aria-label': `File to upload to ${s.name}`});
    async function showFiles() {
      try {
        const rows = await get(`/v1/sources/${s.id}/files${qs({limit: 100})}`);
        clear(files, rows.length ? h('ul', {class: 'rows'}, rows.map((f) => h('li', {class: 'row', dataset: {file: f.file_name}},
          h('div', {class: 'grow'}, f.file_name, h('div', {class: 'small muted'}, `${f.processing_status || ''} · ${f.file_size ?? '?'} bytes · ${fmtDate(f.created_at)}`)),
          h('button', {type: 'button', class: 'ghost danger small', 'aria-label': `Delete file ${f.file_name}`,
            onclick: (e) => busy(e.currentTarget, async () => { await del(`/v1/sources/${s.id}/${f.id}`); await showFiles(); }, errs)}, 'Delete')))) :
          empty('No files.'));
      } catch (err) { errs.show(err); }
    }
    async function showPassages() {
      try {
        const rows = await get(`/v1/sources/${s.id}/passages${qs({limit: 20})}`);
        clear(passages, rows.length ? h('ul', {class: 'rows small'}, rows.map((p) => h('li', {class: 'row', title: p.text},
          p.text.length > 280 ? `${p.text.slice(0, 280)}…` : p.text))) : empty('No passages.'));
      } catch (err) { errs.show(err); }
    }
    async function upload() {
      const file = input.files[0];
      if (!file) { errs.show(new Error('Choose a file first.')); return; }
      const form = new FormData();
      form.append('file', file, file.name);
      const bar = h('progress', {max: 1, value: 0, 'aria-label': `Ingesting ${file.name}`});
      const label = h('span', {class: 'small', dataset: {jobStatus: 'created'}}, 'uploading…');
      clear(progress, h('div', null, file.name), bar, label);
      const meta = await post(`/v1/sources/${s.id}/upload`, form);
      input.value = '';
      let job = {status: meta.processing_status || 'created', progress: 0};
      while (meta.job_id) {
        job = await get(`/v1/jobs/${meta.job_id}`);
        bar.value = job.progress ?? (job.status === 'completed' ? 1 : 0);
        label.textContent = `${job.status} · ${Math.round(100 * (bar.value || 0))}%`;
        label.dataset.jobStatus = job.status;
        if (DONE.has(job.status)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (job.status === 'failed') errs.show(new Error(`Ingestion failed: ${job.error || 'unknown error'}`));
      else { bar.value = 1; toast(`${file.name}: ${job.status}`); }
      await showFiles(); await showPassages();
    }
    const card = h('details', {class: 'card', open: wasOpen, dataset: {source: s.name}, ontoggle: () => { if (card.open) { showFiles(); showPassages(); } }},
      h('summary', null, h('strong', null, s.name), ' ', attached ? h('span', {class: 'tag good'}, 'attached') : null,
        h('span', {class: 'small muted'}, ` ${s.embedding_config?.handle || s.embedding_config?.embedding_model || ''}`)),
      s.description ? h('p', {class: 'small'}, s.description) : null,
      h('div', {class: 'row-inline'},
        attached ?
          h('button', {type: 'button', class: 'small', onclick: (e) => busy(e.currentTarget, async () => {
            await patch(`/v1/agents/${ctx.id}/sources/detach/${s.id}`); await ctx.refresh(); await load();
          }, errs)}, 'Detach from agent') :
          h('button', {type: 'button', class: 'small', onclick: (e) => busy(e.currentTarget, async () => {
            await patch(`/v1/agents/${ctx.id}/sources/attach/${s.id}`); await ctx.refresh(); await load();
          }, errs)}, 'Attach to agent'),
        h('button', {type: 'button', class: 'ghost danger small', onclick: (e) => {
          if (!confirm(`Delete source “${s.name}” and its passages?`)) return;
          busy(e.currentTarget, async () => { await del(`/v1/sources/${s.id}`); await load(); }, errs);
        }}, 'Delete source')),
      h('div', {class: 'row-inline'}, input, h('button', {type: 'button', class: 'primary small', onclick: (e) => busy(e.currentTarget, upload, errs)}, 'Upload')),
      progress, errs, h('h4', null, 'Files'), files, h('h4', null, 'Passages'), passages);
    return card;
  }

  function createForm() {
    const name = h('input', {type: 'text', name: 'source_name', required: true, autocomplete: 'off'});
    const description = h('input', {type: 'text', name: 'description'});
    const embedding = h('select', {name: 'embedding'});
    const errs = errorArea();
    const submit = h('button', {type: 'submit', class: 'primary small'}, 'Create source');
    get('/v1/models/embedding').then((models) => {
      const mine = ctx.agent.embedding_config?.handle;
      clear(embedding, models.map((m) => h('option', {value: m.handle, selected: m.handle === mine}, m.handle)));
    }).catch((err) => errs.show(err));
    const form = h('form', {class: 'card'}, h('h3', null, 'New data source'), field('Name', name), field('Description', description),
      field('Embedding', embedding, 'Must match the agent’s embedding to attach.'), errs, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        await post('/v1/sources/', {name: name.value.trim(), description: description.value || undefined, embedding: embedding.value || undefined});
        form.reset(); await load();
      }, errs);
    });
    return form;
  }

  await load();
}
