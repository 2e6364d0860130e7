// Query editor: YASGUI (vendored) on a project's endpoint or the federated one, the named-query
// catalogue as examples, a map of the results when a column holds geo:wktLiteral, downloads.
import { api, authHeaders, currentProject, el, getJSON, header, showError } from './api.js';
import { drawGeoJSON, newMap } from './maps.js';

header('query');
const main = document.getElementById('main');
const project = currentProject();
const Yasgui = window.Yasgui;
const WKT = 'http://www.opengis.net/ont/geosparql#wktLiteral';

// no request may leave the machine: drop the autocompleters that call public web services
Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter((n) => n === 'variables' || n === 'prefixes');

const DEFAULT_QUERY = `PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX bot: <https://w3id.org/bot#>
PREFIX kgt: <https://w3id.org/kg-twin/ontology#>
SELECT ?building ?label ?height ?wkt WHERE {
  ?building a bot:Building ; rdfs:label ?label ; geo:hasDefaultGeometry/geo:asWKT ?wkt .
  OPTIONAL { ?building kgt:height ?height }
} LIMIT 50`;

async function start() {
  const { projects } = await getJSON('/projects');
  const endpoints = projects.map((p) => ({ label: `project ${p.id}`, url: `${location.origin}/projects/${encodeURIComponent(p.id)}/sparql` }));
  endpoints.push({ label: 'federated (every project you may read)', url: `${location.origin}/sparql` });
  const chosen = project ? endpoints.find((e) => e.url.endsWith(`/projects/${encodeURIComponent(project)}/sparql`)) : endpoints[0];
  const select = el('select', { id: 'endpoint' }, endpoints.map((e) => el('option', { value: e.url, selected: e === chosen }, e.label)));
  const examples = el('div', { class: 'examples', id: 'examples' });
  const yasDiv = el('div', { id: 'yasgui' });
  const downloads = el('p', { id: 'downloads' }, 'Download the results: ',
    ...['csv', 'json', 'geojson'].map((f) => el('button', { type: 'button', onclick: () => download(f) }, f.toUpperCase())));
  const mapDiv = el('div', { id: 'resultmap' });
  const note = el('p', { class: 'muted', id: 'map-note' });
  main.replaceChildren(el('h1', {}, 'SPARQL query'), el('p', {}, 'Endpoint: ', select), el('h2', {}, 'Named queries (examples)'), examples, yasDiv, downloads, note, mapDiv);
  const yasgui = new Yasgui(yasDiv, {
    requestConfig: { endpoint: (chosen || endpoints[0]).url, method: 'POST', headers: authHeaders() },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    endpointCatalogueOptions: { getData: () => endpoints.map((e) => ({ endpoint: e.url })) },
  });
  window.kgTwinYasgui = yasgui;
  const tab = () => yasgui.getTab();
  if (!tab().getQuery() || /dbpedia|select \* where \{\s*\?sub/i.test(tab().getQuery())) tab().setQuery(DEFAULT_QUERY);
  select.addEventListener('change', () => tab().setEndpoint(select.value));
  const { queries } = await getJSON('/queries');
  for (const q of queries) {
    examples.append(el('button', { type: 'button', title: q.summary, 'data-query': q.name, onclick: async () => {
      const spec = await getJSON(`/queries/${encodeURIComponent(q.name)}`);
      tab().setQuery(spec.sparql);
    } }, q.name));
  }
  let map = null;
  let previous = null; // the results shown before the running query
  yasgui.on('query', (_y, t) => { previous = t.getYasr() ? t.getYasr().results : null; });
  yasgui.on('queryResponse', async (_y, t) => {
    mapDiv.style.display = 'none';
    note.textContent = '';
    // YASR takes the response just after this event: wait for the new results
    const fresh = () => t.getYasr() && t.getYasr().results && t.getYasr().results !== previous;
    for (let i = 0; i < 50 && !fresh(); i++) await new Promise((r) => setTimeout(r, 100));
    let raw = '';
    try { raw = t.getYasr().results.getOriginalResponseAsString(); } catch { raw = ''; }
    if (!raw.includes(WKT)) return;
    try {
      const r = await api(t.getEndpoint(), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/geo+json' }, body: new URLSearchParams({ query: t.getQuery() }) });
      const fc = await r.json();
      note.textContent = `Map of the results: ${fc.features.length} features (geo:wktLiteral column).`;
      mapDiv.style.display = 'block';
      if (map) map.remove();
      map = newMap(mapDiv);
      window.kgTwinResultMap = map;
      map.on('load', () => drawGeoJSON(map, 'results', fc));
    } catch (err) { showError(note, err); }
  });

  async function download(fmt) {
    const accept = { csv: 'text/csv', json: 'application/sparql-results+json', geojson: 'application/geo+json' }[fmt];
    try {
      const r = await api(tab().getEndpoint(), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: accept }, body: new URLSearchParams({ query: tab().getQuery() }) });
      const url = URL.createObjectURL(await r.blob());
      const a = el('a', { href: url, download: `results.${fmt}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) { showError(downloads, err); }
  }
  document.body.dataset.ready = 'true';
}

try {
  await start();
} catch (err) {
  main.replaceChildren();
  showError(main, err);
  document.body.dataset.ready = 'true';
}
