// Live view: the project's points with their last value, updated over the SSE stream
// (/projects/{p}/events), a sparkline of what arrived, alerts as they fire.
import { compact, currentProject, el, entityHref, fmtTime, getJSON, header, showError, stream } from './api.js';

header('live');
const main = document.getElementById('main');
const project = currentProject();
const history = new Map();

function spark(values) {
  const w = 120, h = 24;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', w); svg.setAttribute('height', h); svg.setAttribute('class', 'spark');
  if (values.length > 1) {
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', values.map((v, i) => `${(i / (values.length - 1)) * (w - 2) + 1},${h - 1 - ((v - lo) / span) * (h - 2)}`).join(' '));
    line.setAttribute('fill', 'none'); line.setAttribute('stroke', '#2b6cb0');
    svg.append(line);
  }
  return svg;
}

async function start() {
  const { points } = await getJSON(`/projects/${encodeURIComponent(project)}/points`);
  const base = (await getJSON(`/projects/${encodeURIComponent(project)}/features`)).base;
  const alerts = el('ul', { id: 'alerts' });
  const rows = new Map();
  const tableEl = el('table', { id: 'points' }, el('tr', {}, ...['point', 'class', 'value', 'time', 'history'].map((x) => el('th', {}, x))));
  for (const p of points) {
    const value = el('td', { class: 'value-cell' }, '–');
    const time = el('td', {}, fmtTime(p.last_time));
    const sp = el('td', {});
    rows.set(p.iri, { value, time, sp });
    tableEl.append(el('tr', { 'data-point': p.id, 'data-iri': p.iri }, el('td', {}, el('a', { href: entityHref(p.iri, project, base) }, p.id)),
      el('td', {}, (p.class || []).slice(-1).join(', ')), value, time, sp));
  }
  const state = el('p', { id: 'stream-state', class: 'muted' }, 'connecting…');
  main.replaceChildren(el('h1', {}, `Live: ${project}`), el('p', {}, `${points.length} points.`), state, el('h2', {}, 'Alerts'), alerts, el('h2', {}, 'Points'), tableEl);
  const watch = points.map((p) => p.id).join(',');
  document.body.dataset.ready = 'true';
  await stream(`/projects/${encodeURIComponent(project)}/events?points=${encodeURIComponent(watch)}`, (event, data) => {
    if (event === 'ready') { state.textContent = 'connected: values update as readings arrive'; state.dataset.connected = 'true'; return; }
    if (event === 'alert') { alerts.prepend(el('li', { class: 'warn' }, `${fmtTime(data.time)} ${data.rule || ''}: ${data.message || JSON.stringify(data)}`)); return; }
    if (event === 'reading') {
      const r = rows.get(data.point) || rows.get(data.iri);
      if (!r) return;
      r.value.textContent = `${data.value}${data.unit ? ' ' + compact(data.unit) : ''}`;
      r.value.dataset.value = String(data.value);
      r.time.textContent = fmtTime(data.time);
      const h = history.get(data.point) || [];
      h.push(Number(data.value));
      history.set(data.point, h.slice(-50));
      r.sp.replaceChildren(spark(history.get(data.point)));
    }
  });
}

if (!project) main.replaceChildren(el('p', { class: 'error' }, 'choose a project: /app/live?project=P'));
else start().catch((err) => { main.replaceChildren(); showError(main, err); document.body.dataset.ready = 'true'; });
