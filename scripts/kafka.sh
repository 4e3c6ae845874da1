#!/usr/bin/env bash
# Runs a single-node KRaft Kafka broker for the full profile and the contract tests, with no
# Kafka install: the broker jars come from Maven Central once (mvn), then `java -cp jars kafka.Kafka`.
# Pinned to 3.9.1: Kafka 4.0 (KIP-896) dropped old protocol versions that kafkajs 2.2.4 still uses.
#   scripts/kafka.sh start|stop|status
# Env: KAFKA_PORT (9092; controller is +1), KAFKA_DATA_DIR (second broker for a test), TETRAD_CACHE.
set -euo pipefail

VERSION=3.9.1
CACHE="${TETRAD_CACHE:-$HOME/.cache/tetrad}"
JARS="$CACHE/kafka-$VERSION/libs"
PORT="${KAFKA_PORT:-9092}"
CPORT="$((PORT + 1))"
DATA="${KAFKA_DATA_DIR:-$CACHE/kafka-$VERSION/data-$PORT}"
PROPS="$DATA/server.properties"
PIDF="$DATA/kafka.pid"
LOG="$DATA/kafka.out"

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
  cat >"$PROPS" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
}

start() {
  mkdir -p "$DATA"
  exec 9>"$DATA/.lock"
  flock 9 # a test script and a developer starting the same broker at once start it once
  if running; then echo "kafka.sh: already running on 127.0.0.1:$PORT (pid $(cat "$PIDF"))"; return 0; fi
  if port_open "$PORT"; then echo "kafka.sh: 127.0.0.1:$PORT is already taken by another process" >&2; return 1; fi
  command -v java >/dev/null || { echo "kafka.sh: java 17+ is required" >&2; return 1; }
  fetch_jars
  write_props
  local cp="$JARS/*"
  if [[ ! -f "$DATA/logs/meta.properties" ]]; then
    # KRaft storage must be formatted once with a cluster id before the first start.
    local id
    id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -Dlog4j.configuration="file:$CACHE/kafka-$VERSION/log4j.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$id" -c "$PROPS" >/dev/null
  fi
  nohup java -Xms256m -Xmx1g -Dlog4j.configuration="file:$CACHE/kafka-$VERSION/log4j.properties" \
    -cp "$cp" kafka.Kafka "$PROPS" >"$LOG" 2>&1 </dev/null 8>&- 9>&- &  # the broker must not hold our locks
  echo $! >"$PIDF"
  for _ in $(seq 1 120); do
    if port_open "$PORT"; then echo "kafka.sh: Kafka $VERSION up on 127.0.0.1:$PORT (pid $(cat "$PIDF"), log $LOG)"; return 0; fi
    if ! running; then echo "kafka.sh: broker exited; last log lines:" >&2; tail -30 "$LOG" >&2; return 1; fi
    sleep 0.5
  done
  echo "kafka.sh: broker did not open 127.0.0.1:$PORT in 60s; see $LOG" >&2
  return 1
}

stop() {
  if ! running; then echo "kafka.sh: not running"; rm -f "$PIDF"; return 0; fi
  local pid
  pid="$(cat "$PIDF")"
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$PIDF"
  echo "kafka.sh: stopped"
}

status() {
  if running; then echo "kafka.sh: running on 127.0.0.1:$PORT (pid $(cat "$PIDF"))"; else echo "kafka.sh: not running"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
