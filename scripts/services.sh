#!/usr/bin/env bash
# What the test suite needs besides node_modules: PostgreSQL, Redis and MariaDB on loopback, and Chromium for the
# browser tests. Each is checked first (pg_isready, redis-cli ping, mysqladmin ping, the chromium binary) and installed
# (Debian packages) and started only if it does not answer, with one line saying so. `npm test` runs
# this first (pretest). Prints the URLs the tests read, for `eval "$(scripts/services.sh)"`.
# A server you run elsewhere: set KHX_PG_URL / KHX_REDIS_URL / KHX_MYSQL_URL (then it is not checked here), and
# KHX_CHROMIUM for a browser binary of your own; KHX_SKIP_BROWSER=1 leaves Chromium out (`npm run bench`).
set -euo pipefail

log() { echo "test services: $*" >&2; }

# Installing needs root (or password-less sudo) and apt-get; otherwise say, at once, what fixes it.
can_install() { command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; }
cannot_install() {
  log "$1 is needed and missing, and this machine cannot install it here (needs Debian's apt-get and root)."
  log "fix: $2"
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    log "apt-get install $* failed"
    exit 1
  }
}

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if [ -n "${KHX_PG_URL:-}" ]; then
  log "PostgreSQL: using KHX_PG_URL as given"
elif pg_up; then
  log "PostgreSQL answers on 127.0.0.1:5432"
else
  fix="sudo apt-get install -y postgresql && sudo pg_ctlcluster <version> main start (or set KHX_PG_URL)"
  if ! command -v pg_ctlcluster >/dev/null; then
    can_install || cannot_install PostgreSQL "$fix"
    log "PostgreSQL does not answer on 127.0.0.1:5432 and is not installed: installing it (apt-get) and starting it for the stores tests"
    apt_install postgresql
  else
    [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null || cannot_install "A running PostgreSQL" "$fix"
    log "PostgreSQL is installed but does not answer on 127.0.0.1:5432: starting it for the stores tests"
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL $version did not start"; exit 1; }
  # A fresh Debian cluster asks for a password on TCP: give the postgres role the one our URL uses.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
  as_root su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'test'\" | grep -q 1 || createdb test" >&2
fi

redis_up() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if [ -n "${KHX_REDIS_URL:-}" ]; then
  log "Redis: using KHX_REDIS_URL as given"
elif redis_up; then
  log "Redis answers on 127.0.0.1:6379"
else
  fix="sudo apt-get install -y redis-server && redis-server --daemonize yes --bind 127.0.0.1 (or set KHX_REDIS_URL)"
  if ! command -v redis-server >/dev/null; then
    can_install || cannot_install Redis "$fix"
    log "Redis does not answer on 127.0.0.1:6379 and is not installed: installing it (apt-get) and starting it for the stores tests"
    apt_install redis-server
  else
    log "Redis is installed but does not answer on 127.0.0.1:6379: starting it for the stores tests"
  fi
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes --dir /var/lib/redis \
    --logfile /var/log/redis/khx.log >&2
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { log "Redis did not start"; exit 1; }
fi

mysql_up() { command -v mysqladmin >/dev/null && mysqladmin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1; }
if [ -n "${KHX_MYSQL_URL:-}" ]; then
  log "MariaDB/MySQL: using KHX_MYSQL_URL as given"
elif mysql_up; then
  log "MariaDB answers on 127.0.0.1:3306"
else
  fix="sudo apt-get install -y mariadb-server && sudo service mariadb start (or set KHX_MYSQL_URL)"
  if ! command -v mariadbd >/dev/null && ! command -v mysqld >/dev/null; then
    can_install || cannot_install MariaDB "$fix"
    log "MariaDB does not answer on 127.0.0.1:3306 and is not installed: installing it (apt-get) and starting it for the stores tests"
    apt_install mariadb-server
  else
    [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null || cannot_install "A running MariaDB" "$fix"
    log "MariaDB is installed but does not answer on 127.0.0.1:3306: starting it for the stores tests"
  fi
  as_root service mariadb start >&2 || as_root /etc/init.d/mariadb start >&2 || true
  for _ in $(seq 1 30); do as_root mysqladmin ping >/dev/null 2>&1 && break; sleep 1; done
  # A fresh Debian MariaDB lets root in only over its socket: let root in from 127.0.0.1 without a
  # password (a test server on loopback), and make the test database.
  as_root mysql -u root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(''); CREATE DATABASE IF NOT EXISTS test" >&2
  for _ in $(seq 1 30); do mysql_up && break; sleep 1; done
  mysql_up || { log "MariaDB did not start"; exit 1; }
fi

chromium=${KHX_CHROMIUM:-/usr/bin/chromium}
if [ -n "${KHX_SKIP_BROWSER:-}" ]; then
  : # `npm run bench` needs the databases only
elif [ -x "$chromium" ]; then
  log "Chromium found at $chromium"
elif [ -n "${KHX_CHROMIUM:-}" ]; then
  log "KHX_CHROMIUM=$chromium is not an executable"
  exit 1
else
  can_install || cannot_install Chromium "sudo apt-get install -y chromium (or set KHX_CHROMIUM to a Chromium binary)"
  log "Chromium is not installed: installing Debian's chromium (apt-get) for the browser tests"
  apt_install chromium
fi

echo "export KHX_PG_URL=\${KHX_PG_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}"
echo "export KHX_REDIS_URL=\${KHX_REDIS_URL:-redis://127.0.0.1:6379}"
echo "export KHX_MYSQL_URL=\${KHX_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
