#!/usr/bin/env bash
# The PostgreSQL pass: every test marked `persistence`, run again with DCC_DATABASE_URL pointing at PostgreSQL.
# pytest exits 5 when no test is selected. That is a failure as soon as the reference DCC has a persistence layer
# (dcc/db): a PostgreSQL pass that runs nothing proves nothing. Before it exists there is nothing to run.
set -uo pipefail
pytest_bin="$1"
"$pytest_bin" -q -n 2 --dist loadfile -m persistence  # each module has a database of its own: parallel-safe
status=$?
if [ "$status" -eq 5 ]; then
  if [ -d dcc/db ]; then
    echo "test-postgres: no test is marked 'persistence' although dcc/db exists" >&2
    exit 1
  fi
  echo "test-postgres: the reference DCC has no persistence layer yet; nothing to run on PostgreSQL"
  exit 0
fi
exit "$status"
