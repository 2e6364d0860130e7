// Map of a project, 2D and 3D: its GeoSPARQL features on a plain background (no basemap needed),
// buildings extruded by their height in 3D, click -> entity page, filter by class, colour by a property or live value.
import { currentProject, el, entityHref, getJSON, header, showError } from './api.js';
import { boundsOf, maplibregl, newMap } from './maps.js';

header('map');
const main = document.getElementById('main');
const project = currentProject();
const DEFAULT_HEIGHT = 3; // metres, for a building whose height is unknown

const colourScales = {
  height: ['interpolate', ['linear'], ['coalesce', ['get', 'height'], 0], 0, '#c6dbef', 6, '#6baed6', 12, '#2171b5', 30, '#08306b'],
  live: ['case', ['has', 'live'], ['interpolate', ['linear'], ['get', 'live'], 0, '#38a169', 25, '#ecc94b', 50, '#e53e3e'], '#cbd5e0'],
  kind: '#4a5568',
};

const baseFilters = { areas: null, 'area-lines': null, 'buildings-2d': null, 'buildings-3d': null, points: null };

function setup(fc) {
  const kinds = [...new Set(fc.features.map((f) => f.properties.kind))].sort();
  const panel = el('div', { class: 'panel', id: 'map-panel' },
    el('div', {}, el('b', {}, project), ` · ${fc.features.filter((f) => f.properties.building).length} buildings, ${fc.features.length} features`),
    el('label', {}, el('input', { type: 'checkbox', id: 'mode-3d', checked: true }), ' 3D (extrude buildings by height)'),
    el('label', {}, 'Class: ', el('select', { id: 'filter-kind' }, el('option', { value: '' }, 'all'), kinds.map((k) => el('option', { value: k }, k)))),
    el('label', {}, 'Colour by: ', el('select', { id: 'colour-by' }, el('option', { value: 'height' }, 'height'), el('option', { value: 'live' }, 'live value'), el('option', { value: 'kind' }, 'none'))),
    el('p', { class: 'muted' }, 'Click a feature to open its page.'));
  const wrap = el('div', { class: 'mapwrap' }, el('div', { id: 'map' }), panel);
  main.replaceChildren(wrap);
  const map = newMap('map', { pitch: 0, maxPitch: 75 });
  window.kgTwinMap = map;
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }));
  map.on('load', () => {
    map.addSource('features', { type: 'geojson', data: fc, tolerance: 0 }); // no simplification: small buildings stay drawn
    const notBuilding = ['!', ['get', 'building']];
    map.addLayer({ id: 'areas', type: 'fill', source: 'features', filter: ['all', ['==', ['geometry-type'], 'Polygon'], notBuilding], paint: { 'fill-color': '#f6ad55', 'fill-opacity': 0.12 } });
    map.addLayer({ id: 'area-lines', type: 'line', source: 'features', filter: ['all', ['!=', ['geometry-type'], 'Point'], notBuilding], paint: { 'line-color': '#dd6b20', 'line-width': 1 } });
    map.addLayer({ id: 'buildings-2d', type: 'fill', source: 'features', filter: ['all', ['==', ['geometry-type'], 'Polygon'], ['get', 'building']], layout: { visibility: 'none' }, paint: { 'fill-color': colourScales.height, 'fill-outline-color': '#1a365d' } });
    map.addLayer({ id: 'buildings-3d', type: 'fill-extrusion', source: 'features', filter: ['all', ['==', ['geometry-type'], 'Polygon'], ['get', 'building']],
      paint: { 'fill-extrusion-color': colourScales.height, 'fill-extrusion-height': ['coalesce', ['get', 'height'], DEFAULT_HEIGHT], 'fill-extrusion-base': 0, 'fill-extrusion-opacity': 0.9 } });
    map.addLayer({ id: 'points', type: 'circle', source: 'features', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#805ad5', 'circle-radius': 5 } });
    for (const id of Object.keys(baseFilters)) baseFilters[id] = map.getFilter(id);
    const clickable = ['buildings-2d', 'buildings-3d', 'areas', 'points'];
    for (const id of clickable) {
      map.on('click', id, (e) => { const f = e.features[0]; if (f) location.href = entityHref(f.properties.iri, project, fc.base); });
      map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
    }
    // the buildings' extent when there are buildings (a lone far-away feature would shrink them to dots)
    const buildings = fc.features.filter((f) => f.properties.building);
    const b = boundsOf(buildings.length ? { type: 'FeatureCollection', features: buildings } : fc);
    if (b) map.fitBounds(b, { padding: 30, animate: false });
    setMode(map, true);
    map.once('idle', () => { document.body.dataset.ready = 'true'; });
  });
  document.getElementById('mode-3d').addEventListener('change', (e) => setMode(map, e.target.checked));
  document.getElementById('filter-kind').addEventListener('change', (e) => {
    const k = e.target.value;
    for (const [id, base] of Object.entries(baseFilters)) map.setFilter(id, k ? ['all', base, ['==', ['get', 'kind'], k]] : base);
  });
  document.getElementById('colour-by').addEventListener('change', (e) => {
    const c = colourScales[e.target.value];
    map.setPaintProperty('buildings-3d', 'fill-extrusion-color', c);
    map.setPaintProperty('buildings-2d', 'fill-color', c);
  });
}

function setMode(map, threeD) {
  map.setLayoutProperty('buildings-3d', 'visibility', threeD ? 'visible' : 'none');
  map.setLayoutProperty('buildings-2d', 'visibility', threeD ? 'none' : 'visible');
  map.easeTo({ pitch: threeD ? 55 : 0, bearing: threeD ? -20 : 0, duration: 0 });
}

try {
  if (!project) throw new Error('choose a project: /app/map?project=P');
  setup(await getJSON(`/projects/${encodeURIComponent(project)}/features`));
} catch (err) {
  main.replaceChildren();
  showError(main, err);
  document.body.dataset.ready = 'true';
}
