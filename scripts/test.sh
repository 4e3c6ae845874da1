#!/usr/bin/env bash
# The whole test suite: type check, module-boundary rules, then unit, contract and e2e tests
# against real PostgreSQL, Redis and Kafka (started here when not already running).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/services.sh

started_kafka=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi
cleanup() { [ "$started_kafka" = 1 ] && bash scripts/kafka.sh stop || true; }
trap cleanup EXIT

echo "== type check"
npx tsc -p tsconfig.json --noEmit
npx tsc -p src/console/tsconfig.json
echo "== alert rules"
# promtool comes with Debian's prometheus package (the server it also installs is not started).
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >/dev/null
  else
    echo "promtool is missing: install Debian's prometheus package (sudo apt-get install prometheus)" >&2
    exit 1
  fi
fi
promtool check rules deploy/prometheus/alerts.yaml
promtool test rules deploy/prometheus/alerts.test.yaml
echo "== module boundaries"
npx depcruise src --config .dependency-cruiser.js
echo "== jest"
npx jest --ci --maxWorkers=2 "$@"
# The cluster suite on its own, after the rest: it starts a Redis Cluster and three brokers
# (scripts/cluster.sh) and four app processes, too much to share the box with other suites.
# TETRAD_CLUSTER_SUITE=0 skips it; with arguments (a chosen subset) it runs only when asked.
if [[ "${TETRAD_CLUSTER_SUITE:-}" != 0 && ( $# -eq 0 || "${TETRAD_CLUSTER_SUITE:-}" = 1 ) ]]; then
  echo "== jest: cluster suite"
  # --forceExit: a SIGKILLed node leaves ioredis reconnect timers that may outlive the suite by seconds.
  TETRAD_CLUSTER_SUITE=1 npx jest --ci --maxWorkers=1 --selectProjects cluster --forceExit
fi
