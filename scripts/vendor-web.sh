#!/usr/bin/env bash
# Copy the twin app's third-party assets (MapLibre GL JS, YASGUI) from npm into kg_twin/web/vendor/,
# so the app served by `kg-twin serve` works without internet and `pip install` needs no Node.
# Versions and licences are recorded in kg_twin/web/vendor/VENDOR.md.
# Usage: scripts/vendor-web.sh   (needs npm; re-run to upgrade, then commit the result)
set -euo pipefail
cd "$(dirname "$0")/.."
MAPLIBRE=${MAPLIBRE:-maplibre-gl@6.20.0}
YASGUI=${YASGUI:-@zazuko/yasgui@4.6.2}
out=kg_twin/web/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$MAPLIBRE" "$YASGUI" >/dev/null)
mkdir -p "$tmp/maplibre" "$tmp/yasgui"
tar -xzf "$tmp"/maplibre-gl-*.tgz -C "$tmp/maplibre"
tar -xzf "$tmp"/zazuko-yasgui-*.tgz -C "$tmp/yasgui"
rm -rf "$out/maplibre-gl" "$out/yasgui"
mkdir -p "$out/maplibre-gl" "$out/yasgui"
# MapLibre 6 is an ES module; it loads its worker module from the same folder (import.meta.url)
for f in maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl-shared.mjs maplibre-gl.css; do
  # the source maps are not shipped: drop the comment that points at them
  sed -e '/^\/\/# sourceMappingURL=/d' "$tmp/maplibre/package/dist/$f" > "$out/maplibre-gl/$f"
done
cp "$tmp/maplibre/package/LICENSE.txt" "$out/maplibre-gl/LICENSE.txt"
# YASGUI's UMD bundle (defines window.Yasgui; YASQE and YASR included)
sed -e '/^\/\/# sourceMappingURL=/d' "$tmp/yasgui/package/build/yasgui.min.js" > "$out/yasgui/yasgui.min.js"
sed -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$tmp/yasgui/package/build/yasgui.min.css" > "$out/yasgui/yasgui.min.css"
ml_version=$(node -p "require('$tmp/maplibre/package/package.json').version")
ml_licence=$(node -p "require('$tmp/maplibre/package/package.json').license")
yg_version=$(node -p "require('$tmp/yasgui/package/package.json').version")
yg_licence=$(node -p "require('$tmp/yasgui/package/package.json').license")
yg_repo=$(node -p "(require('$tmp/yasgui/package/package.json').repository||{}).url||''")
yg_author=$(node -p "require('$tmp/yasgui/package/package.json').author||''")
if [ -f "$tmp/yasgui/package/LICENSE" ]; then
  cp "$tmp/yasgui/package/LICENSE" "$out/yasgui/LICENSE"
else
  # the npm package ships no licence file: record the licence its package.json declares
  cat > "$out/yasgui/LICENSE" <<TXT
@zazuko/yasgui $yg_version is published on npm under the $yg_licence licence (package.json "license").
Author: $yg_author. Source: $yg_repo
The package itself ships no licence file; the licence text is the standard $yg_licence licence.
TXT
fi
cat > "$out/VENDOR.md" <<MD
# Vendored assets of the twin app

Copied from npm by \`scripts/vendor-web.sh\` (do not edit by hand; re-run the script to upgrade).
Source-map comments are removed (the maps are not shipped).

| package | version | licence | files |
|---|---|---|---|
| maplibre-gl | $ml_version | $ml_licence | maplibre-gl/maplibre-gl.mjs, maplibre-gl-worker.mjs, maplibre-gl-shared.mjs, maplibre-gl.css, LICENSE.txt |
| @zazuko/yasgui | $yg_version | $yg_licence | yasgui/yasgui.min.js, yasgui.min.css, LICENSE (licence record: the package ships no licence file) |
MD
echo "vendored maplibre-gl $ml_version and @zazuko/yasgui $yg_version into $out"
