// Landing: the projects the caller may read, each with its extent, counts by class, validation, last ingest, live points.
import { compact, el, fmtTime, getJSON, header, showError } from './api.js';
import { drawGeoJSON, newMap } from './maps.js';

header('home');
const main = document.getElementById('main');
main.replaceChildren(el('h1', {}, 'Projects'));

function extentPolygon(b) {
  const [w, s, e, n] = b;
  return { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } };
}

async function card(p) {
  const box = el('div', { class: 'card', 'data-project': p.id });
  const q = `?project=${encodeURIComponent(p.id)}`;
  box.append(el('h2', {}, p.title || p.id, el('span', { class: 'badge' }, p.id), p.public ? el('span', { class: 'badge' }, 'public') : null),
    p.description ? el('p', { class: 'muted' }, p.description) : null,
    el('p', {}, el('a', { href: `/app/map${q}` }, 'Map'), ' · ', el('a', { href: `/app/query${q}` }, 'Query'), ' · ',
      el('a', { href: `/app/validation${q}` }, 'Validation'), ' · ', el('a', { href: `/app/live${q}` }, 'Live'), ' · ', el('a', { href: `/app/ingest${q}` }, 'Ingest')));
  let o;
  try {
    o = await getJSON(`/projects/${encodeURIComponent(p.id)}/overview`);
  } catch (err) {
    showError(box, err);
    return box;
  }
  const mapDiv = el('div', { class: 'smallmap' });
  const v = o.validation;
  const last = o.last_ingest;
  const facts = el('div', {},
    el('p', {}, el('b', {}, String(o.buildings)), ' buildings · ', el('b', {}, String(o.graphs)), ' graphs'),
    el('p', {}, 'Validation: ', v.violations ? el('span', { class: 'error' }, `${v.violations} violations`) : el('span', { class: 'ok' }, 'no violations'),
      `, ${v.warnings} warnings (${v.conforming}/${v.ingests} ingests conform)`),
    el('p', {}, 'Last ingest: ', last ? `${last.label} (${last.status}) ${fmtTime(last.ended)}` : 'none'),
    el('p', {}, 'Live points: ', el('b', { class: 'live-points' }, String(o.live.points)), ` (${o.live.reporting} reporting)`));
  const table = el('table', { class: 'classes' }, el('tr', {}, el('th', {}, 'class'), el('th', {}, 'entities')),
    o.classes.slice(0, 12).map((c) => el('tr', {}, el('td', { title: c.class }, compact(c.class)), el('td', {}, String(c.count)))));
  box.append(el('div', { class: 'row' }, facts, mapDiv), el('details', {}, el('summary', {}, 'Entities by class'), table));
  if (o.extents.length) {
    // one rectangle per graph with geometry; the view on the graph that has the most
    const map = newMap(mapDiv, { interactive: false });
    const fc = { type: 'FeatureCollection', features: o.extents.map((x) => ({ ...extentPolygon(x.extent), properties: { graph: x.graph } })) };
    map.on('load', () => {
      drawGeoJSON(map, 'extent', fc, '#dd6b20');
      const [w, s, e, n] = o.extents[0].extent;
      map.fitBounds([[w, s], [e, n]], { padding: 10, animate: false });
      map.once('idle', () => { mapDiv.dataset.ready = 'true'; });
    });
    mapDiv.title = o.extents.map((x) => `${x.graph}: ${x.geometries} geometries`).join('\n');
  } else {
    mapDiv.append(el('p', { class: 'muted' }, 'no geometry'));
  }
  return box;
}

try {
  const { projects } = await getJSON('/projects');
  const cards = el('div', { class: 'cards', id: 'projects' });
  main.append(cards);
  if (!projects.length) main.append(el('p', { class: 'muted' }, 'No project you may read. Enter a token in the header, or create one with `kg-twin project create`.'));
  for (const p of projects) cards.append(await card(p));
  document.body.dataset.ready = 'true';
} catch (err) {
  showError(main, err);
  document.body.dataset.ready = 'true';
}
