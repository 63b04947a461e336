#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on loopback; install (Debian packages) and start them only if not.
# Prints the URLs the tests read: KHX_PG_URL and KHX_REDIS_URL. Usage: eval "$(scripts/services.sh)"
set -euo pipefail

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if pg_up; then
  log "PostgreSQL answers on 127.0.0.1:5432"
else
  command -v pg_ctlcluster >/dev/null || { log "installing PostgreSQL"; apt_install postgresql; }
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
  # A fresh Debian cluster asks for a password on TCP: give the postgres role the one our URL uses.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
  as_root su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'test'\" | grep -q 1 || createdb test" >&2
fi

redis_up() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if redis_up; then
  log "Redis answers on 127.0.0.1:6379"
else
  command -v redis-server >/dev/null || { log "installing Redis"; apt_install redis-server; }
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes --dir /var/lib/redis --logfile /var/log/redis/khx.log >&2
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { log "Redis did not start"; exit 1; }
fi

echo "export KHX_PG_URL=\${KHX_PG_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}"
echo "export KHX_REDIS_URL=\${KHX_REDIS_URL:-redis://127.0.0.1:6379}"
