#!/usr/bin/env bash
# Makes sure the local RabbitMQ (127.0.0.1:5672) and PostgreSQL (127.0.0.1:5432) accept
# connections, starting the Debian-installed servers if they are down. Starts nothing
# that is already running and never stops anything.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name port seconds
  local name=$1 port=$2 deadline=$((SECONDS + $3))
  until port_open "$port"; do
    if (( SECONDS >= deadline )); then
      echo "ensure-services: $name did not start listening on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 1  # sleep-ok: polling an external server's port, not our own async work
  done
}

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: starting RabbitMQ"
    rabbitmq-server -detached
    wait_for RabbitMQ 5672 120
  else
    echo "ensure-services: RabbitMQ is not reachable on 127.0.0.1:5672 and not installed." >&2
    echo "  Debian/Ubuntu: apt-get install rabbitmq-server && rabbitmq-server -detached" >&2
    echo "  or point FIREWATCH_BROKER_URL at a running broker." >&2
    exit 1
  fi
fi
# The port opens before the broker is ready for AMQP; wait until it answers a ping.
if command -v rabbitmq-diagnostics >/dev/null; then
  for _ in $(seq 1 60); do
    rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1 && break
    sleep 1  # sleep-ok: waiting for an external server
  done
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 60); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1  # sleep-ok: waiting for an external server
    done
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "ensure-services: PostgreSQL is not reachable on 127.0.0.1:5432." >&2
    echo "  Debian/Ubuntu: apt-get install postgresql, then start the cluster," >&2
    echo "  or set FIREWATCH_TEST_PG_URL to a server the tests may use." >&2
    exit 1
  fi
fi
echo "ensure-services: RabbitMQ and PostgreSQL are up"
