// Validation view: the project's SHACL report (POST /projects/{p}/validate, JSON-LD), grouped by shape
// or by focus node, each result linked to its entity page, with message, path and value; re-run on demand.
import { api, compact, currentProject, el, entityHref, header, showError } from './api.js';

header('validation');
const main = document.getElementById('main');
const project = currentProject();
const SH = 'http://www.w3.org/ns/shacl#';

// expanded JSON-LD -> nodes merged by @id
function nodes(doc) {
  const byId = new Map();
  for (const n of (Array.isArray(doc) ? doc : doc['@graph'] || [doc])) {
    const cur = byId.get(n['@id']) || { '@id': n['@id'] };
    for (const [k, v] of Object.entries(n)) if (k !== '@id') cur[k] = (cur[k] || []).concat(v);
    byId.set(n['@id'], cur);
  }
  return byId;
}

const one = (n, p) => (n && n[p] && n[p][0]) || null;
const val = (x) => (x ? x['@id'] ?? x['@value'] ?? '' : '');

function pathText(byId, p) {
  if (!p) return '';
  const id = p['@id'];
  if (id && !id.startsWith('_:')) return compact(id);
  const n = byId.get(id);
  const inv = one(n, SH + 'inversePath');
  if (inv) return '^' + pathText(byId, inv);
  return id || '';
}

function results(doc) {
  const byId = nodes(doc);
  const out = [];
  for (const n of byId.values()) {
    const types = (n['@type'] || []).concat((n['http://www.w3.org/1999/02/22-rdf-syntax-ns#type'] || []).map((t) => t['@id']));
    if (!types.includes(SH + 'ValidationResult')) continue;
    const shape = val(one(n, SH + 'sourceShape'));
    out.push({
      focus: val(one(n, SH + 'focusNode')),
      severity: compact(val(one(n, SH + 'resultSeverity'))),
      message: (n[SH + 'resultMessage'] || []).map(val).join(' / '),
      path: pathText(byId, one(n, SH + 'resultPath')),
      value: val(one(n, SH + 'value')),
      shape: shape.startsWith('_:') ? compact(val(one(byId.get(shape), SH + 'path')) || shape) : compact(shape),
      component: compact(val(one(n, SH + 'sourceConstraintComponent'))),
    });
  }
  return out;
}

function table(rows, base, groupKey) {
  const groups = new Map();
  for (const r of rows) {
    const k = groupKey === 'shape' ? `${r.shape} · ${r.component}` : r.focus;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  return [...groups.entries()].sort((a, b) => b[1].length - a[1].length).map(([k, rs]) => el('details', { class: 'group' },
    el('summary', {}, groupKey === 'focus' ? el('a', { href: entityHref(k, project, base) }, compact(k)) : k, ` (${rs.length})`),
    el('table', {}, el('tr', {}, ...['severity', groupKey === 'shape' ? 'focus node' : 'shape', 'message', 'path', 'value'].map((h) => el('th', {}, h))),
      rs.map((r) => el('tr', { class: 'result' }, el('td', {}, r.severity),
        el('td', {}, groupKey === 'shape' ? el('a', { href: entityHref(r.focus, project, base) }, compact(r.focus)) : `${r.shape} · ${r.component}`),
        el('td', {}, r.message), el('td', {}, r.path), el('td', {}, r.value))))));
}

async function run(out, status) {
  status.textContent = 'Validating…';
  out.replaceChildren();
  const t0 = performance.now();
  try {
    const r = await api(`/projects/${encodeURIComponent(project)}/validate`, { method: 'POST', headers: { Accept: 'application/ld+json' } });
    const rows = results(await r.json());
    const base = (await (await api(`/projects/${encodeURIComponent(project)}/features`)).json()).base;
    const conforms = r.headers.get('X-Conforms') === 'true';
    status.replaceChildren(conforms ? el('span', { class: 'ok' }, 'conforms') : el('span', { class: 'error' }, 'does not conform'),
      ` · ${rows.length} results (engine ${r.headers.get('X-Validation-Engine')}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    status.dataset.count = String(rows.length);
    const by = document.querySelector('input[name=group]:checked').value;
    out.append(...table(rows, base, by));
    out.dataset.rows = JSON.stringify(rows.map((x) => [x.focus, x.component]));
  } catch (err) {
    status.textContent = '';
    showError(out, err);
  }
  document.body.dataset.ready = 'true';
}

if (!project) {
  main.replaceChildren(el('p', { class: 'error' }, 'choose a project: /app/validation?project=P'));
} else {
  const status = el('p', { id: 'status' });
  const out = el('div', { id: 'results' });
  const again = () => run(out, status);
  main.replaceChildren(el('h1', {}, `Validation of ${project}`),
    el('p', {}, el('button', { type: 'button', id: 'rerun', onclick: again }, 'Run validation again'), ' Group by: ',
      el('label', {}, el('input', { type: 'radio', name: 'group', value: 'shape', checked: true, onchange: again }), ' shape'), ' ',
      el('label', {}, el('input', { type: 'radio', name: 'group', value: 'focus', onchange: again }), ' focus node')),
    status, out);
  again();
}
