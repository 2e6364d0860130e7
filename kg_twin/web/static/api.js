// Shared helpers of the twin app: the token (entered once, kept in the browser's storage, sent as an
// Authorization header, never in a URL), fetch with it, a streamed SSE reader, DOM helpers, the header.
const KEY = 'kg-twin-token';

export function token() {
  return localStorage.getItem(KEY) || sessionStorage.getItem(KEY) || '';
}

export function setToken(value, remember) {
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY);
  if (value) (remember ? localStorage : sessionStorage).setItem(KEY, value);
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: 'Bearer ' + t } : {};
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.error || body.message)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, opts = {}) {
  const r = await fetch(path, { ...opts, headers: { ...authHeaders(), ...(opts.headers || {}) } });
  if (!r.ok) {
    const text = await r.text();
    let body;
    try { body = JSON.parse(text); } catch { body = { error: text } }
    throw new ApiError(r.status, body);
  }
  return r;
}

export async function getJSON(path, opts) {
  return (await api(path, opts)).json();
}

// Server-sent events read from a fetch body (EventSource cannot send the Authorization header).
export async function stream(path, onEvent, signal) {
  const r = await api(path, { signal, headers: { Accept: 'text/event-stream' } });
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message';
      let data = '';
      for (const line of chunk.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const params = () => new URLSearchParams(location.search);

export const PREFIXES = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#', rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  owl: 'http://www.w3.org/2002/07/owl#', xsd: 'http://www.w3.org/2001/XMLSchema#', sh: 'http://www.w3.org/ns/shacl#',
  brick: 'https://brickschema.org/schema/Brick#', ref: 'https://brickschema.org/schema/Brick/ref#',
  bot: 'https://w3id.org/bot#', rec: 'https://w3id.org/rec#', geo: 'http://www.opengis.net/ont/geosparql#',
  sf: 'http://www.opengis.net/ont/sf#', sosa: 'http://www.w3.org/ns/sosa/', prov: 'http://www.w3.org/ns/prov#',
  dcterms: 'http://purl.org/dc/terms/', dcat: 'http://www.w3.org/ns/dcat#', kgt: 'https://w3id.org/kg-twin/ontology#',
  'kgt-sh': 'https://w3id.org/kg-twin/shapes#', ifc: 'https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL#',
  unit: 'http://qudt.org/vocab/unit/', qudt: 'http://qudt.org/schema/qudt/', s223: 'http://data.ashrae.org/standard223#',
};

export function compact(iri) {
  for (const [p, ns] of Object.entries(PREFIXES)) if (iri.startsWith(ns) && iri.length > ns.length) return p + ':' + iri.slice(ns.length);
  return iri;
}

// Where the app shows a resource: the minted IRI itself (served here), else the entity page with ?iri=.
export function entityHref(iri, project, base) {
  if (base && iri.startsWith(base + 'id/')) return '/' + iri.slice(base.length);
  if (iri.startsWith(location.origin + '/id/')) return iri.slice(location.origin.length);
  return `/app/entity?project=${encodeURIComponent(project)}&iri=${encodeURIComponent(iri)}`;
}

export function currentProject() {
  const p = params().get('project');
  if (p) return p;
  const m = location.pathname.match(/^\/id\/([^/]+)\//);
  return m ? decodeURIComponent(m[1]) : '';
}

export function header(active) {
  const project = currentProject();
  const q = project ? `?project=${encodeURIComponent(project)}` : '';
  const links = [['/', 'Projects', 'home'], [`/app/query${q}`, 'Query', 'query'], [`/app/map${q}`, 'Map', 'map'],
    [`/app/validation${q}`, 'Validation', 'validation'], [`/app/live${q}`, 'Live', 'live'], [`/app/ingest${q}`, 'Ingest', 'ingest'], ['/docs', 'API', 'api']];
  const input = el('input', { type: 'password', id: 'token', placeholder: 'API token (optional)', autocomplete: 'off', size: 22 });
  const remember = el('input', { type: 'checkbox', id: 'remember', checked: !!localStorage.getItem(KEY) });
  const state = el('span', { id: 'token-state', class: 'muted' }, token() ? 'token set' : 'anonymous');
  const form = el('form', { id: 'token-form', onsubmit: (ev) => { ev.preventDefault(); setToken(input.value.trim(), remember.checked); location.reload(); } },
    input, el('label', {}, remember, ' remember'), el('button', { type: 'submit' }, 'Use token'),
    el('button', { type: 'button', onclick: () => { setToken(''); location.reload(); } }, 'Forget'), state);
  const nav = el('nav', {}, el('a', { href: '/', class: 'brand' }, 'kg-twin'),
    ...links.map(([href, text, key]) => el('a', { href, class: key === active ? 'active' : '' }, text)),
    project ? el('span', { class: 'project' }, 'project: ', el('b', {}, project)) : null, form);
  document.body.prepend(el('header', {}, nav));
}

export function showError(where, err) {
  const msg = err instanceof ApiError ? `${err.status} ${err.body.code || ''}: ${err.message}` + (err.body.hint ? ` (hint: ${err.body.hint})` : '') : String(err);
  where.append(el('p', { class: 'error' }, msg));
  if (err instanceof ApiError && err.status === 401) where.append(el('p', { class: 'muted' }, 'This project needs a token: enter it in the header.'));
}

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}
