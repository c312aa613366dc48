#!/usr/bin/env bash
# Installs the real Prometheus and Alertmanager that the end-to-end detection tests
# (tests/e2e/observability.py) start by hand on 127.0.0.1. Idempotent: when both binaries
# are already on PATH it only prints their versions.
#
# The tests run each server with its own config and data folder, so the packages' own
# daemons must never run: there is no systemd here, and the packages' postinst would
# otherwise start them through /etc/init.d with the system config. A policy-rc.d that
# exits 101 tells invoke-rc.d "do not start". If the machine already has one (Docker-style
# images ship one) it is left exactly as it is; otherwise a temporary one is created and
# removed on exit. Afterwards the script checks the packages' pidfiles and stops only a
# daemon whose PID is recorded there — never anything found by name.
set -euo pipefail

PACKAGES=(prometheus prometheus-alertmanager)
# Debian puts both servers, promtool (the rules tests need it) and amtool in /usr/bin;
# the alertmanager binary keeps the package's name (prometheus-alertmanager), not
# upstream's "alertmanager".
BINARIES=(prometheus promtool prometheus-alertmanager amtool)
POLICY=/usr/sbin/policy-rc.d
# Where the Debian init scripts record the daemons they start.
PIDFILES=(/run/prometheus/prometheus.pid /run/prometheus/prometheus-alertmanager.pid)

say() { echo "install-observability: $*"; }

missing=()
for binary in "${BINARIES[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("$binary")
done

if ((${#missing[@]} == 0)); then
  say "already installed, nothing to do"
else
  say "missing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-observability: cannot install here (needs root and apt-get). Install with:" >&2
    echo "  sudo apt-get update" >&2
    echo "  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
    echo "or put binaries named ${BINARIES[*]} on PATH (Prometheus >= 2.42, Alertmanager >= 0.25)." >&2
    exit 1
  fi

  created_policy=0
  cleanup() {
    if ((created_policy)); then
      rm -f "$POLICY"
      say "removed the temporary $POLICY"
    fi
  }
  trap cleanup EXIT
  if [[ -e $POLICY ]]; then
    say "$POLICY already exists; leaving it as it is"
  else
    printf '#!/bin/sh\n# Temporary, from deploy/local/install-observability.sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    created_policy=1
    say "created a temporary $POLICY (exit 101) so the packages do not start daemons"
  fi

  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt does not know a candidate for a package
  # (a fresh image with empty lists); otherwise the existing lists are good enough.
  for package in "${PACKAGES[@]}"; do
    if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      say "apt has no candidate for $package: running apt-get update"
      apt-get update -q
      break
    fi
  done
  started=$SECONDS
  say "running apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
  say "apt-get install took $((SECONDS - started)) s"
fi

# Whatever installed the packages (this script, or someone before it), no package daemon
# may keep running: it would hold the default ports 9090/9093 and the system data dirs.
for pidfile in "${PIDFILES[@]}"; do
  [[ -s $pidfile ]] || continue
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    say "stopping the package daemon PID $pid from $pidfile ($(tr '\0' ' ' </proc/"$pid"/cmdline))"
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1 # sleep-ok: waiting for an external process to exit
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$pidfile"
  fi
done

for binary in "${BINARIES[@]}"; do
  path=$(command -v "$binary") || {
    echo "install-observability: $binary is still missing after the install" >&2
    exit 1
  }
  version=$("$binary" --version 2>&1 | head -n1)
  say "$path: $version"
done
