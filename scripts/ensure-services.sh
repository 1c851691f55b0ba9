#!/usr/bin/env bash
# Make sure the real components the tests need are present and running:
# PostgreSQL (always) and Debian's chromium (browser tests). Installs from Debian's
# packages when missing. Under CI=true a failure here fails the run.
set -u
fail() { echo "ensure-services: $*" >&2; if [ "${CI:-}" = "true" ]; then exit 1; fi; }
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || { fail "apt-get not found; install $* by hand"; return 1; }
  if [ $apt_updated = 0 ]; then apt-get update -qq >/dev/null 2>&1; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# --- PostgreSQL ---------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-services: installing PostgreSQL from Debian's packages"
  apt_install postgresql || fail "could not install postgresql"
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$ver" ]; then
    fail "no PostgreSQL cluster configured"
  elif ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    echo "ensure-services: starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || fail "could not start PostgreSQL"
  fi
  # Trust auth for the local test role, as on the development machines.
  for i in $(seq 1 20); do
    if psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 ||
       su postgres -c "psql -c 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  if ! psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster wants a password on TCP; allow local trust for tests.
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if [ -f "$hba" ] && ! grep -q 'takedown-tests' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust # takedown-tests' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
    fi
    psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 || fail "PostgreSQL not reachable on 127.0.0.1:5432 as postgres"
  fi
fi

# --- Redis and RabbitMQ (distributed workers) --------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 6379; then
  command -v redis-server >/dev/null 2>&1 || { echo "ensure-services: installing redis"; apt_install redis-server || fail "could not install redis"; }
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null || fail "could not start redis"
fi
if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null 2>&1 || { echo "ensure-services: installing rabbitmq"; apt_install rabbitmq-server || fail "could not install rabbitmq"; }
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for i in $(seq 1 60); do port_open 5672 && break; sleep 1; done
  port_open 5672 || fail "RabbitMQ did not come up on 5672"
fi

# --- Chromium (browser tests, screenshots, PDF) -------------------------------------------
if ! command -v chromium >/dev/null 2>&1; then
  echo "ensure-services: installing chromium from Debian's packages"
  apt_install chromium || fail "could not install chromium"
fi
exit 0
