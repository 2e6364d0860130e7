// Ingest: upload a file with progress, follow the job, see the mapping used and the validation summary
// (published, or the quarantine report).
import { authHeaders, currentProject, el, getJSON, header, showError } from './api.js';

header('ingest');
const main = document.getElementById('main');
const project = currentProject();

function upload(file, accept, dry, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const q = new URLSearchParams();
    if (accept) q.set('accept', 'violations');
    if (dry) q.set('dry_run', 'true');
    xhr.open('POST', `/projects/${encodeURIComponent(project)}/ingest?${q}`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => { let body; try { body = JSON.parse(xhr.responseText); } catch { body = { error: xhr.responseText }; } resolve({ status: xhr.status, body }); };
    xhr.onerror = () => reject(new Error('upload failed'));
    const form = new FormData();
    form.append('file', file);
    xhr.send(form);
  });
}

async function follow(job, out) {
  for (;;) {
    const j = await getJSON(`/projects/${encodeURIComponent(project)}/jobs/${encodeURIComponent(job)}`);
    out.replaceChildren(el('p', {}, `job ${job}: ${j.status}`), el('pre', {}, JSON.stringify(j.report || j.progress || j, null, 2)));
    if (!['queued', 'running'].includes(j.status)) return j;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

if (!project) main.replaceChildren(el('p', { class: 'error' }, 'choose a project: /app/ingest?project=P'));
else {
  const file = el('input', { type: 'file', id: 'file' });
  const accept = el('input', { type: 'checkbox', id: 'accept' });
  const dry = el('input', { type: 'checkbox', id: 'dry-run' });
  const bar = el('progress', { class: 'progress', value: 0, max: 1 });
  const out = el('div', { id: 'ingest-result' });
  const go = async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    out.replaceChildren();
    try {
      const { status, body } = await upload(file.files[0], accept.checked, dry.checked, bar);
      if (status === 202 && body.job) await follow(body.job, out);
      else if (status >= 400) {
        out.append(el('p', { class: status === 422 ? 'warn' : 'error' }, status === 422 ? 'Quarantined: the data does not conform (report below). Tick "publish despite violations" to publish anyway.' : `${status} ${body.code || ''}: ${body.error || ''}`),
          el('pre', {}, JSON.stringify(body, null, 2)));
      } else {
        out.append(el('p', { class: 'ok' }, body.status === 'dry-run' ? 'Dry run: the proposed mapping (nothing stored).' : `Published: ${body.graph || ''}`));
        if (body.mapping) out.append(el('h2', {}, 'Mapping'), el('pre', { id: 'mapping' }, JSON.stringify(body.mapping, null, 2)));
        out.append(el('h2', {}, 'Report'), el('pre', {}, JSON.stringify(body, null, 2)));
      }
    } catch (err) { showError(out, err); }
  };
  main.replaceChildren(el('h1', {}, `Ingest into ${project}`),
    el('form', { onsubmit: go }, file, ' ', el('label', {}, accept, ' publish despite violations'), ' ', el('label', {}, dry, ' dry run (show the proposed mapping, store nothing)'), ' ', el('button', { type: 'submit' }, 'Upload'), ' ', bar),
    el('p', { class: 'muted' }, 'The readers this server has: ', el('span', { id: 'readers' })), out);
  getJSON('/ingest/readers').then((r) => { document.getElementById('readers').textContent = (r.readers || []).map((x) => x.name).join(', '); }).catch(() => {});
  document.body.dataset.ready = 'true';
}
