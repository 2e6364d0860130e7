#!/usr/bin/env bash
# Set up a virtual environment and run the test suite (the command README gives; CI runs it with --all).
# Under CI (CI=true) a system package that cannot be installed fails the run instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# System services the tests start themselves: Mosquitto (MQTT broker for the live-twin tests).
if ! command -v mosquitto >/dev/null 2>&1 && [ -x /usr/sbin/mosquitto ]; then export PATH="$PATH:/usr/sbin"; fi
if ! command -v mosquitto >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null) \
      || { echo "warning: could not install mosquitto; MQTT tests will be skipped" >&2; [ "${CI:-}" != "true" ] || exit 1; }
  else
    echo "note: mosquitto not found (apt-get install mosquitto); MQTT tests will be skipped" >&2
  fi
  [ -x /usr/sbin/mosquitto ] && export PATH="$PATH:/usr/sbin"
fi
# Debian's chromium for the browser tests (tests/browser, driven headless over the DevTools protocol).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || { echo "warning: could not install chromium; the browser tests will be skipped" >&2; [ "${CI:-}" != "true" ] || exit 1; }
  else
    echo "note: chromium not found (apt-get install chromium); the browser tests will be skipped" >&2
  fi
fi
# External engines the store tests start themselves (tests/engines.py): Virtuoso Open Source 7 and
# PostgreSQL (time series); `oxigraph serve` comes from PyPI with the test extras.
missing=()
command -v virtuoso-t >/dev/null 2>&1 || missing+=(virtuoso-opensource-7)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || { echo "warning: could not install ${missing[*]}; the tests on those engines will be skipped" >&2; [ "${CI:-}" != "true" ] || exit 1; }
  else
    echo "note: ${missing[*]} not installed (apt-get install ${missing[*]}); the tests on those engines will be skipped" >&2
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# Default: the fast stage (pytest -m "not slow", < 10 min on 2 cores). `--all` adds the slow stage:
# external engines (oxigraph serve, Virtuoso, PostgreSQL), the browser, fault injection, whole W3C suites.
if [ "${1:-}" = "--all" ]; then
  shift
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider -m "not slow" "$@"
