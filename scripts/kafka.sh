#!/usr/bin/env bash
# Runs KRaft Kafka for the full profile and the tests, with no Kafka install: the broker jars come
# from Maven Central once (mvn), then `java -cp jars kafka.Kafka`. One broker by default; with
# KAFKA_NODES=N, an N-broker cluster (every node broker+controller) on 127.0.0.1.
# Pinned to 3.9.1: Kafka 4.0 (KIP-896) dropped old protocol versions that kafkajs 2.2.4 still uses.
#   scripts/kafka.sh start|stop|status
# Env: KAFKA_PORT (9092; controller is +1), KAFKA_DATA_DIR (second broker for a test), TETRAD_CACHE,
#   KAFKA_NODES (1): N > 1 puts node i on KAFKA_PORT + 2(i-1) (controller +1), data in
#   KAFKA_DATA_DIR/node-i (default $TETRAD_CACHE/kafka-3.9.1/cluster-$KAFKA_PORT); with 3+ nodes
#   internal topics get replication 3 and min.insync.replicas 2.
#   KAFKA_HEAP (JVM heap flags; "-Xms256m -Xmx1g" for one broker, "-Xms128m -Xmx256m" per cluster node).
set -euo pipefail

VERSION=3.9.1
CACHE="${TETRAD_CACHE:-$HOME/.cache/tetrad}"
JARS="$CACHE/kafka-$VERSION/libs"
BASE_PORT="${KAFKA_PORT:-9092}"
NODES="${KAFKA_NODES:-1}"
if [[ "$NODES" -le 1 ]]; then
  ROOT="${KAFKA_DATA_DIR:-$CACHE/kafka-$VERSION/data-$BASE_PORT}"
  HEAP="${KAFKA_HEAP:--Xms256m -Xmx1g}"
else
  ROOT="${KAFKA_DATA_DIR:-$CACHE/kafka-$VERSION/cluster-$BASE_PORT}"
  HEAP="${KAFKA_HEAP:--Xms128m -Xmx256m}"
fi

# Node i's port, controller port and data dir (one broker: the historical single-node layout).
node_port() { echo $((BASE_PORT + 2 * ($1 - 1))); }
node_dir() { if [[ "$NODES" -le 1 ]]; then echo "$ROOT"; else echo "$ROOT/node-$1"; fi; }
use_node() {
  NODE="$1"
  PORT="$(node_port "$1")"
  CPORT="$((PORT + 1))"
  DATA="$(node_dir "$1")"
  PROPS="$DATA/server.properties"
  PIDF="$DATA/kafka.pid"
  LOG="$DATA/kafka.out"
}
use_node 1

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A stale pid file may name a reused pid: only a live kafka.Kafka process counts.
running() { [[ -f "$PIDF" ]] && grep -qa kafka.Kafka "/proc/$(cat "$PIDF")/cmdline" 2>/dev/null; }

fetch_jars() {
  [[ -f "$JARS/.complete" ]] && return 0
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.kafka-$VERSION.lock"
  flock 8 # two first starts at once download once
  [[ -f "$JARS/.complete" ]] && return 0
  local work
  work="$(mktemp -d)"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tetrad</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  echo "kafka.sh: downloading Kafka $VERSION jars from Maven Central (once)..." >&2
  mkdir -p "$JARS"
  mvn -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS" >&2
  # Quiet broker logging: warnings to the log file only.
  cat >"$CACHE/kafka-$VERSION/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
EOF
  touch "$JARS/.complete"
  rm -rf "$work"
}

write_props() {
  mkdir -p "$DATA/logs"
  local voters="" i rf=1 isr=1
  for i in $(seq 1 "$NODES"); do voters="$voters${voters:+,}$i@127.0.0.1:$(( $(node_port "$i") + 1 ))"; done
  if [[ "$NODES" -ge 3 ]]; then rf=3; isr=2; elif [[ "$NODES" -eq 2 ]]; then rf=2; fi
  cat >"$PROPS" <<EOF
process.roles=broker,controller
node.id=$NODE
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
default.replication.factor=$rf
min.insync.replicas=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# The log cleaner (compacted __consumer_offsets) allocates its dedupe buffer at start-up, 128 MB by
# default: half of a cluster node's 256 MB heap, and a node starting beside busy peers died of
# OutOfMemoryError there. 16 MB still compacts the offsets of millions of keys per pass.
log.cleaner.dedupe.buffer.size=16777216
EOF
}

# Launches node $NODE unless it runs; formats its storage with the cluster id on first start.
launch() {
  mkdir -p "$DATA"
  if running; then echo "kafka.sh: already running on 127.0.0.1:$PORT (pid $(cat "$PIDF"))"; return 0; fi
  if port_open "$PORT"; then echo "kafka.sh: 127.0.0.1:$PORT is already taken by another process" >&2; return 1; fi
  write_props
  local cp="$JARS/*"
  if [[ ! -f "$DATA/logs/meta.properties" ]]; then
    # KRaft storage must be formatted once with a cluster id (the same on every node) before the first start.
    java -Dlog4j.configuration="file:$CACHE/kafka-$VERSION/log4j.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" >/dev/null
  fi
  # shellcheck disable=SC2086 # HEAP is a list of JVM flags
  nohup java $HEAP -Dlog4j.configuration="file:$CACHE/kafka-$VERSION/log4j.properties" \
    -cp "$cp" kafka.Kafka "$PROPS" >"$LOG" 2>&1 </dev/null 8>&- 9>&- &  # the broker must not hold our locks
  echo $! >"$PIDF"
}

await_node() {
  for _ in $(seq 1 180); do
    if port_open "$PORT"; then echo "kafka.sh: Kafka $VERSION node $NODE up on 127.0.0.1:$PORT (pid $(cat "$PIDF"), log $LOG)"; return 0; fi
    if ! running; then echo "kafka.sh: broker exited; last log lines:" >&2; tail -30 "$LOG" >&2; return 1; fi
    sleep 0.5
  done
  echo "kafka.sh: broker did not open 127.0.0.1:$PORT in 90s; see $LOG" >&2
  return 1
}

start() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9 # a test script and a developer starting the same broker at once start it once
  command -v java >/dev/null || { echo "kafka.sh: java 17+ is required" >&2; return 1; }
  fetch_jars
  [[ -f "$ROOT/cluster.id" ]] || java -cp "$JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$ROOT/cluster.id"
  CLUSTER_ID="$(cat "$ROOT/cluster.id")"
  local i
  # All nodes first, then wait: a controller quorum needs a majority up before any broker is ready.
  for i in $(seq 1 "$NODES"); do use_node "$i"; launch; done
  for i in $(seq 1 "$NODES"); do use_node "$i"; await_node; done
}

stop_node() {
  if ! running; then rm -f "$PIDF"; return 0; fi
  local pid
  pid="$(cat "$PIDF")"
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$PIDF"
}

stop() {
  local i any=0
  for i in $(seq 1 "$NODES"); do use_node "$i"; running && any=1; done
  if [[ "$any" = 0 ]]; then echo "kafka.sh: not running"; for i in $(seq 1 "$NODES"); do use_node "$i"; rm -f "$PIDF"; done; return 0; fi
  # In parallel: a cluster node waits for its peers during a controlled shutdown.
  for i in $(seq 1 "$NODES"); do (use_node "$i"; stop_node) & done
  wait
  echo "kafka.sh: stopped"
}

status() {
  local i rc=0
  for i in $(seq 1 "$NODES"); do
    use_node "$i"
    if running; then echo "kafka.sh: running on 127.0.0.1:$PORT (pid $(cat "$PIDF"))"; else echo "kafka.sh: not running (127.0.0.1:$PORT)"; rc=3; fi
  done
  return "$rc"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
