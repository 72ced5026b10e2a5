#!/usr/bin/env bash
# Lets a streaming replica on this machine connect to the local PostgreSQL over loopback
# (tests/test_replica.py starts one with pg_basebackup). Idempotent; needs root. Debian layout.
set -euo pipefail
hba="/etc/postgresql/$(ls /etc/postgresql)/main/pg_hba.conf"
line="host replication all 127.0.0.1/32 trust"
if ! grep -qxF "$line" "$hba"; then
  echo "allowing loopback replication in $hba"
  echo "$line" >> "$hba"
  psql -h 127.0.0.1 -U postgres -Atqc "SELECT pg_reload_conf()" >/dev/null
fi
