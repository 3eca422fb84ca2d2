#!/usr/bin/env bash
# Run the whole migfix test suite on this machine, installing what it needs first.
# Usage: ./test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# System packages: the MySQL client headers (mysqlclient) and Chromium (browser tests).
need=()
command -v mariadb_config >/dev/null 2>&1 || command -v mysql_config >/dev/null 2>&1 || need+=(libmariadb-dev pkg-config)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Database servers (tests skip, with the reason shown, when one cannot be started).
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if [ -x /usr/sbin/mariadbd ] && ! mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in $(seq 30); do mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
fi

# The project's virtualenv (torch first, so pip takes the CPU build).
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[test]'

exec .venv/bin/python -m pytest "$@"
