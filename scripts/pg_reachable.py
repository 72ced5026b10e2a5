"""Exit 0 when the PostgreSQL server of a DATABASE_URL answers (used by `make test`)."""

import sys

import dj_database_url
import psycopg

config = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], dbname="postgres", connect_timeout=3
    ).close()
except psycopg.OperationalError as exc:
    print(f"PostgreSQL not reachable: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
