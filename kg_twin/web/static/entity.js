// Entity page: types, labels, properties (linked), incoming links, geometry on a map, provenance,
// live value and history of a point, validation results. Data: /projects/{p}/entity (with the token).
import { compact, currentProject, el, entityHref, fmtTime, getJSON, header, params, showError } from './api.js';
import { drawGeoJSON, newMap } from './maps.js';

header('');
const main = document.getElementById('main');
const project = currentProject();
const iriParam = params().get('iri');
const query = iriParam ? `iri=${encodeURIComponent(iriParam)}` : `path=${encodeURIComponent(location.pathname)}`;

function term(t, d) {
  if (t.type === 'uri') return el('a', { href: entityHref(t.value, project, d.base), title: t.value }, d.names[t.value] || compact(t.value));
  if (t.type === 'bnode') return el('span', { class: 'muted' }, '_:' + t.value);
  const extra = t.lang ? `@${t.lang}` : t.datatype ? ` (${compact(t.datatype)})` : '';
  return el('span', {}, t.value, el('span', { class: 'muted' }, extra));
}

function sparkline(values, width = 320, height = 60) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  if (values.length < 2) return svg;
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const pts = values.map((v, i) => `${(i / (values.length - 1)) * (width - 4) + 2},${height - 2 - ((v - lo) / span) * (height - 4)}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', pts.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#2b6cb0');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

async function render() {
  const d = await getJSON(`/projects/${encodeURIComponent(project)}/entity?${query}`);
  const label = d.labels.length ? d.labels[0].value : compact(d.iri);
  document.title = `${label} · kg-twin`;
  const minted = d.iri.startsWith(d.base + 'id/');
  main.replaceChildren(
    el('h1', { id: 'entity-label' }, label),
    el('p', {}, el('code', { id: 'entity-iri' }, d.iri), minted ? el('span', {}, ' · RDF: ', ...['turtle', 'jsonld', 'ntriples', 'rdfxml'].map((f, i) => el('span', {}, i ? ', ' : '', el('a', { href: `${location.pathname}?format=${f}` }, f)))) : null),
    el('p', { id: 'types' }, 'Types: ', ...d.types.map((t, i) => el('span', {}, i ? ', ' : '', el('a', { href: entityHref(t, project, d.base), title: t }, compact(t))))),
  );
  const left = el('div', {});
  const right = el('div', {});
  main.append(el('div', { class: 'grid2' }, left, right));
  left.append(el('h2', {}, 'Properties'), el('table', { id: 'properties' }, el('tr', {}, el('th', {}, 'property'), el('th', {}, 'value')),
    d.properties.map((x) => el('tr', {}, el('td', { title: x.p }, compact(x.p)), el('td', {}, term(x.o, d))))));
  if (d.truncated) left.append(el('p', { class: 'muted' }, 'Only the first 500 values are shown; query the SPARQL endpoint for all.'));
  left.append(el('h2', {}, `Incoming links (${d.incoming.length})`), el('table', { id: 'incoming' }, el('tr', {}, el('th', {}, 'from'), el('th', {}, 'property')),
    d.incoming.map((x) => el('tr', {}, el('td', {}, term(x.s, d)), el('td', { title: x.p }, compact(x.p))))));
  if (d.geometry) {
    const div = el('div', { class: 'entitymap', id: 'entity-map' });
    right.append(el('h2', {}, 'Geometry'), div);
    const map = newMap(div);
    map.on('load', () => { drawGeoJSON(map, 'entity', { type: 'Feature', properties: {}, geometry: d.geometry }); map.once('idle', () => { div.dataset.ready = 'true'; }); });
    window.kgTwinEntityMap = map;
  }
  if (d.live) {
    const box = el('div', { id: 'live' }, el('div', { class: 'value', id: 'live-value' }, d.live.value ?? '–', ' ', el('span', { class: 'muted' }, d.live.unit ? compact(d.live.unit) : '')),
      el('p', { class: 'muted' }, 'at ', fmtTime(d.live.time)));
    right.append(el('h2', {}, 'Live value'), box);
    try {
      const h = await getJSON(`/projects/${encodeURIComponent(project)}/points/${encodeURIComponent(d.live.id)}/observations?every=15min&agg=avg`);
      const rows = h.readings || h.rows || h.values || [];
      const values = rows.map((r) => Number(r.value ?? r.avg)).filter((v) => !isNaN(v));
      box.append(el('p', {}, `History: ${values.length} readings (last day)`), sparkline(values));
    } catch (err) { showError(box, err); }
  }
  right.append(el('h2', {}, 'Provenance'), el('ul', { id: 'provenance' }, d.provenance.map((p) => el('li', {},
    'graph ', el('code', {}, p.graph), p.activity ? el('span', {}, ' · ', el('a', { href: entityHref(p.activity, project, d.base) }, p.label || 'ingest'), ` (${p.status}) ${fmtTime(p.ended)}`) : null,
    p.source ? el('span', {}, ' · source ', el('a', { href: entityHref(p.source, project, d.base) }, p.file || compact(p.source))) : null))));
  right.append(el('h2', {}, `Validation results (${d.validation.length})`), d.validation.length
    ? el('table', { id: 'validation' }, el('tr', {}, el('th', {}, 'severity'), el('th', {}, 'message'), el('th', {}, 'path'), el('th', {}, 'value')),
      d.validation.map((r) => el('tr', {}, el('td', {}, compact(r.sev || '')), el('td', {}, r.msg || ''), el('td', {}, r.path ? compact(r.path) : ''), el('td', {}, r.value || ''))))
    : el('p', { class: 'ok', id: 'validation' }, 'No SHACL result on this resource in the report of its ingest.'));
}

try {
  if (!project) throw new Error('no project: open a minted IRI (/id/{project}/...) or /app/entity?project=P&iri=IRI');
  await render();
} catch (err) {
  main.replaceChildren();
  showError(main, err);
}
document.body.dataset.ready = 'true';
