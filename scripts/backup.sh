#!/usr/bin/env bash
# Backs up one control-center database into a folder: database.dump (pg_dump custom format:
# schema, data, RLS policies, grants, audit partitions and pgperf's migration history) and
# roles.sql (the cluster-wide roles the database's grants and policies name, without passwords).
# Usage: bash scripts/backup.sh DATABASE_URL DIR
# Exit codes: 0 written; 2 usage (wrong arguments, DIR not empty); 3 pg_dump failed (DIR removed).
set -euo pipefail

usage() { echo "usage: bash scripts/backup.sh DATABASE_URL DIR   (DIR must not exist or be empty)" >&2; exit 2; }
[ $# -eq 2 ] || usage
url=$1
dir=$2
bin=${PGPERF_PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
[ -x "$bin/pg_dump" ] || { echo "backup: pg_dump not found in $bin: install postgresql-client-15 or set PGPERF_PG_BIN" >&2; exit 2; }
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  echo "backup: $dir is not empty; name a new folder so no earlier backup is overwritten" >&2
  exit 2
fi
mkdir -p "$dir"
created=$(cd "$dir" && pwd)
fail() {
  echo "backup: $1; nothing was kept (removed $created)" >&2
  rm -rf "$created"
  exit 3
}

# --no-role-passwords reads pg_roles instead of pg_authid, so it also works where the user is
# not a superuser (Supabase); the roles are created again on restore only where missing.
"$bin/pg_dumpall" --roles-only --no-role-passwords --dbname="$url" --file="$dir/roles.sql" \
  || fail "pg_dumpall --roles-only failed (see above)"
"$bin/pg_dump" --format=custom --compress=6 --dbname="$url" --file="$dir/database.dump" \
  || fail "pg_dump failed (see above)"
tables=$("$bin/pg_restore" --list "$dir/database.dump" | grep -c ' TABLE DATA ' || true)
( cd "$dir" && sha256sum database.dump roles.sql > SHA256SUMS )
echo "backup: wrote $dir (database.dump: $tables tables of data, roles.sql, SHA256SUMS)" >&2
