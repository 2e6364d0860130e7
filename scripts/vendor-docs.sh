#!/usr/bin/env bash
# Copy the API documentation pages' assets (Swagger UI, ReDoc) from npm into kg_twin/api/static/,
# so /docs and /redoc work without internet. Versions and licences are recorded in VENDOR.md there.
# Usage: scripts/vendor-docs.sh   (needs npm; re-run to upgrade, then commit the result)
set -euo pipefail
cd "$(dirname "$0")/.."
SWAGGER_UI=${SWAGGER_UI:-swagger-ui-dist@5.35.0}
REDOC=${REDOC:-redoc@2.5.2}  # FastAPI's ReDoc page is written for ReDoc 2 (bundles/redoc.standalone.js)
out=kg_twin/api/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$SWAGGER_UI" "$REDOC" >/dev/null)
mkdir -p "$tmp/swagger" "$tmp/redoc"
tar -xzf "$tmp"/swagger-ui-dist-*.tgz -C "$tmp/swagger"
tar -xzf "$tmp"/redoc-*.tgz -C "$tmp/redoc"
rm -rf "$out/swagger-ui" "$out/redoc"
mkdir -p "$out/swagger-ui" "$out/redoc"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE; do cp "$tmp/swagger/package/$f" "$out/swagger-ui/"; done
cp "$tmp/redoc/package/bundles/redoc.standalone.js" "$out/redoc/"
cp "$tmp/redoc/package/LICENSE" "$out/redoc/"
sw_version=$(node -p "require('$tmp/swagger/package/package.json').version")
sw_licence=$(node -p "require('$tmp/swagger/package/package.json').license")
rd_version=$(node -p "require('$tmp/redoc/package/package.json').version")
rd_licence=$(node -p "require('$tmp/redoc/package/package.json').license")
cat > "$out/VENDOR.md" <<MD
# Vendored assets of the API documentation pages

Copied from npm by \`scripts/vendor-docs.sh\` (do not edit by hand; re-run the script to upgrade).

| package | version | licence | files |
|---|---|---|---|
| swagger-ui-dist | $sw_version | $sw_licence | swagger-ui/swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png, LICENSE |
| redoc | $rd_version | $rd_licence | redoc/redoc.standalone.js, LICENSE |
MD
echo "vendored swagger-ui-dist $sw_version and redoc $rd_version into $out"
