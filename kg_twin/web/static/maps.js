// MapLibre helpers: a style with no basemap (features on a plain background), bounds of GeoJSON.
import * as maplibregl from '/web/vendor/maplibre-gl/maplibre-gl.mjs';

export { maplibregl };

export function blankStyle() {
  return { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }] };
}

export function boundsOf(geojson) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c) => {
    if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); return; }
    c.forEach(visit);
  };
  const geoms = geojson.type === 'FeatureCollection' ? geojson.features.map((f) => f.geometry) : [geojson.type === 'Feature' ? geojson.geometry : geojson];
  for (const g of geoms) {
    if (!g) continue;
    if (g.type === 'GeometryCollection') g.geometries.forEach((x) => visit(x.coordinates));
    else visit(g.coordinates);
  }
  return isFinite(w) ? [[w, s], [e, n]] : null;
}

export function newMap(container, opts = {}) {
  return new maplibregl.Map({ container, style: blankStyle(), center: [0, 0], zoom: 1, attributionControl: false, ...opts });
}

// Draw a GeoJSON object: polygons filled, lines, points as circles; fits the view to it.
export function drawGeoJSON(map, id, data, color = '#2b6cb0') {
  map.addSource(id, { type: 'geojson', data });
  map.addLayer({ id: id + '-fill', type: 'fill', source: id, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': color, 'fill-opacity': 0.35 } });
  map.addLayer({ id: id + '-line', type: 'line', source: id, filter: ['!=', ['geometry-type'], 'Point'], paint: { 'line-color': color, 'line-width': 1.5 } });
  map.addLayer({ id: id + '-point', type: 'circle', source: id, filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': color, 'circle-radius': 5 } });
  const b = boundsOf(data);
  if (b) map.fitBounds(b, { padding: 20, animate: false, maxZoom: 18 });
}
