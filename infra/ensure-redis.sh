#!/usr/bin/env bash
# The end-to-end tests run pynenc's RedisBroker and RedisOrchestrator: make sure a Redis
# server answers on 127.0.0.1:6379, starting (and if need be installing) one otherwise.
set -euo pipefail

ping() { python3 - <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 6379), timeout=1)
s.sendall(b"PING\r\n")
raise SystemExit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
}

if ping 2>/dev/null; then exit 0; fi
if ! command -v redis-server >/dev/null; then
  echo "redis-server not found: installing it" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p /tmp/pynenc-dynamodb-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/pynenc-dynamodb-redis --logfile /tmp/pynenc-dynamodb-redis/redis.log
for _ in $(seq 50); do ping 2>/dev/null && exit 0; sleep 0.1; done
echo "Redis did not start on 127.0.0.1:6379" >&2
exit 1
