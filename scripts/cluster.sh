#!/usr/bin/env bash
# A local cluster for the full profile: a 6-node Redis Cluster (3 primaries + 3 replicas, from the
# installed redis-server) and a 3-broker KRaft Kafka (scripts/kafka.sh), beside the running
# PostgreSQL. Everything listens on 127.0.0.1; nothing touches the single Redis on 6379 or the
# single broker on 9092.
#   scripts/cluster.sh up     start (a fresh cluster; `up` twice reuses the running one)
#   scripts/cluster.sh env    KEY=VALUE lines pointing Tetrad at it: set -a; . <(scripts/cluster.sh env)
#   scripts/cluster.sh down   stop every process it started and delete its data
# Env: REDIS_CLUSTER_PORT (7001: nodes on 7001..7006) or REDIS_CLUSTER_PORTS (six, comma-separated),
#   REDIS_CLUSTER_BUS_PORTS (six; default each port + 10000),
#   CLUSTER_KAFKA_PORT (9192: brokers on 9192/9194/9196, controllers +1), CLUSTER_DIR (data and pids,
#   default $TETRAD_CACHE/cluster-<first redis port>), DATABASE_URL (printed by `env`),
#   REDIS_NODE_TIMEOUT_MS (2000: how long a silent primary has before its replica takes over).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${TETRAD_CACHE:-$HOME/.cache/tetrad}"
if [[ -n "${REDIS_CLUSTER_PORTS:-}" ]]; then
  IFS=, read -r -a REDIS_PORTS <<<"$REDIS_CLUSTER_PORTS"
else
  base="${REDIS_CLUSTER_PORT:-7001}"
  REDIS_PORTS=("$base" $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)) $((base + 5)))
fi
[[ "${#REDIS_PORTS[@]}" -eq 6 ]] || { echo "cluster.sh: REDIS_CLUSTER_PORTS needs six ports" >&2; exit 2; }
# Cluster bus ports: port + 10000 by default, as Redis does; REDIS_CLUSTER_BUS_PORTS sets all six.
if [[ -n "${REDIS_CLUSTER_BUS_PORTS:-}" ]]; then
  IFS=, read -r -a BUS_PORTS <<<"$REDIS_CLUSTER_BUS_PORTS"
else
  BUS_PORTS=()
  for p in "${REDIS_PORTS[@]}"; do BUS_PORTS+=($((p + 10000))); done
fi
[[ "${#BUS_PORTS[@]}" -eq 6 ]] || { echo "cluster.sh: REDIS_CLUSTER_BUS_PORTS needs six ports" >&2; exit 2; }
KAFKA_BASE="${CLUSTER_KAFKA_PORT:-9192}"
DIR="${CLUSTER_DIR:-$CACHE/cluster-${REDIS_PORTS[0]}}"
NODE_TIMEOUT="${REDIS_NODE_TIMEOUT_MS:-2000}"

kafka() { KAFKA_NODES=3 KAFKA_PORT="$KAFKA_BASE" KAFKA_DATA_DIR="$DIR/kafka" bash scripts/kafka.sh "$@"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
redis_running() { [[ -f "$DIR/redis-$1/pid" ]] && grep -qa redis-server "/proc/$(cat "$DIR/redis-$1/pid")/cmdline" 2>/dev/null; }
seeds() { local p out=""; for p in "${REDIS_PORTS[@]}"; do out="$out${out:+,}127.0.0.1:$p"; done; echo "$out"; }
brokers() { echo "127.0.0.1:$KAFKA_BASE,127.0.0.1:$((KAFKA_BASE + 2)),127.0.0.1:$((KAFKA_BASE + 4))"; }

start_redis_node() {
  local port="$1" bus="$2" d="$DIR/redis-$1"
  mkdir -p "$d"
  redis_running "$port" && return 0
  port_open "$port" && { echo "cluster.sh: 127.0.0.1:$port is already taken" >&2; return 1; }
  # No persistence: a restarted node is resynced from its primary. replica-validity-factor 0: a
  # replica always takes over a dead primary, however long it was cut off (a test kills primaries).
  # require-full-coverage no: the other primaries keep serving while one slot range fails over.
  redis-server --port "$port" --bind 127.0.0.1 --dir "$d" --save '' --appendonly no \
    --cluster-enabled yes --cluster-port "$bus" --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT" \
    --cluster-replica-validity-factor 0 --cluster-require-full-coverage no \
    --logfile "$d/redis.log" --daemonize no </dev/null >/dev/null 2>&1 9>&- &  # a node must not hold our lock
  echo $! >"$d/pid"
}

cluster_ok() { redis-cli -p "${REDIS_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

up() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  local p
  local i
  for i in "${!REDIS_PORTS[@]}"; do start_redis_node "${REDIS_PORTS[$i]}" "${BUS_PORTS[$i]}"; done
  for p in "${REDIS_PORTS[@]}"; do
    for _ in $(seq 1 100); do port_open "$p" && break; sleep 0.1; done
    port_open "$p" || { echo "cluster.sh: redis-server did not open 127.0.0.1:$p; see $DIR/redis-$p/redis.log" >&2; return 1; }
  done
  if ! cluster_ok; then
    local nodes=()
    for p in "${REDIS_PORTS[@]}"; do nodes+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
      { echo "cluster.sh: cluster create failed:" >&2; tail -20 "$DIR/create.log" >&2; return 1; }
    for _ in $(seq 1 100); do cluster_ok && break; sleep 0.2; done
    cluster_ok || { echo "cluster.sh: Redis Cluster did not reach cluster_state:ok" >&2; return 1; }
  fi
  echo "cluster.sh: Redis Cluster up on $(seeds)"
  kafka start
}

down() {
  local p pid
  for p in "${REDIS_PORTS[@]}"; do
    if redis_running "$p"; then
      pid="$(cat "$DIR/redis-$p/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  kafka stop || true
  # A local cluster is throw-away: the next `up` creates a fresh one.
  rm -rf "$DIR"
  echo "cluster.sh: down"
}

env_lines() {
  cat <<EOF
APP_PROFILE=full
REDIS_CLUSTER_NODES=$(seeds)
KAFKA_BROKERS=$(brokers)
KAFKA_REPLICATION_FACTOR=3
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tetrad}
EOF
}

case "${1:-}" in
  up) up ;;
  env) env_lines ;;
  down) down ;;
  *) echo "usage: $0 up|env|down" >&2; exit 2 ;;
esac
