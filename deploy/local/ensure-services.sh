#!/usr/bin/env bash
# Makes sure the local RabbitMQ (127.0.0.1:5672) and PostgreSQL (127.0.0.1:5432) accept
# connections, starting the Debian-installed servers if they are down. Starts nothing
# that is already running and never stops anything.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Debian's wrapper starts the broker through `su rabbitmq`, whose PAM session leaves
# it 1,024 file descriptors. RabbitMQ 3.10 reserves one per socket and queue file from
# that budget (file_handle_cache); a full test suite's connections and quorum queues
# exhaust it, and then every new connection blocks in setup_socket forever: the broker
# listens but never answers AMQP. Started as root, we switch to the rabbitmq user
# without PAM and with a real limit.
RABBITMQ_NOFILE=65536
start_rabbitmq() {
  if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && id rabbitmq >/dev/null 2>&1; then
    ulimit -n "$RABBITMQ_NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    (cd /var/lib/rabbitmq && setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
      env HOME=/var/lib/rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server -detached)
  else
    rabbitmq-server -detached
  fi
}

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
    start_rabbitmq
    wait_for RabbitMQ 5672 120
  else
    echo "ensure-services: RabbitMQ is not reachable on 127.0.0.1:5672 and not installed." >&2
    echo "  Debian/Ubuntu: apt-get install rabbitmq-server && rabbitmq-server -detached" >&2
    echo "  or point FIREWATCH_BROKER_URL at a running broker." >&2
    exit 1
  fi
fi
# The port opens before the broker is ready for AMQP. "Ready" means it answers the AMQP
# protocol header with Connection.Start, which it does in milliseconds when healthy.
amqp_answers() {
  timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672; printf "AMQP\x00\x00\x09\x01" >&3;
    head -c 1 <&3 >/dev/null' 2>/dev/null
}
wait_amqp() {  # seconds
  local deadline=$((SECONDS + $1))
  until amqp_answers; do
    (( SECONDS >= deadline )) && return 1
    sleep 1  # sleep-ok: waiting for an external server
  done
}
if ! wait_amqp 60; then
  # Listening but never answering: a wedged broker (seen once after a vhost deletion
  # hung in its message store under heavy load). Nothing can use it, and it does not
  # recover by itself within a CI run, so restart it: first politely, then through the
  # PID the broker itself recorded (never a process found by name).
  echo "ensure-services: RabbitMQ listens but does not answer AMQP for 60 s; restarting it" >&2
  timeout 60 rabbitmqctl stop >/dev/null 2>&1 || true
  pidfile=/var/lib/rabbitmq/mnesia/rabbit@localhost.pid
  if port_open 5672 && [[ -r $pidfile ]]; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done  # sleep-ok
    kill -KILL "$pid" 2>/dev/null || true
  fi
  start_rabbitmq
  wait_for RabbitMQ 5672 120
  wait_amqp 120 || { echo "ensure-services: RabbitMQ does not answer AMQP" >&2; exit 1; }
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
