#!/usr/bin/env bash
# Restores a folder written by scripts/backup.sh into an empty database, in one transaction:
# either everything is restored or nothing is (no half-restored schema is left behind).
# Roles that the target cluster lacks are created first (as in the source, without passwords).
# Usage: bash scripts/restore.sh DIR DATABASE_URL
# Exit codes: 0 restored; 2 usage (wrong arguments, checksum mismatch, target not empty);
# 3 pg_restore failed (its transaction rolled back: the target is as empty as before).
set -euo pipefail

usage() { echo "usage: bash scripts/restore.sh DIR DATABASE_URL   (DIR from scripts/backup.sh; an empty database)" >&2; exit 2; }
[ $# -eq 2 ] || usage
dir=$1
url=$2
bin=${PGPERF_PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
[ -x "$bin/pg_restore" ] || { echo "restore: pg_restore not found in $bin: install postgresql-client-15 or set PGPERF_PG_BIN" >&2; exit 2; }
for file in database.dump roles.sql SHA256SUMS; do
  [ -f "$dir/$file" ] || { echo "restore: $dir/$file is missing: is $dir a folder written by scripts/backup.sh?" >&2; exit 2; }
done
( cd "$dir" && sha256sum --quiet --check SHA256SUMS ) \
  || { echo "restore: $dir does not match its SHA256SUMS: the backup is damaged; restore from another one" >&2; exit 2; }

psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 --dbname="$url")
user_tables=$("${psql[@]}" -A -t -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")
if [ "$user_tables" != "0" ]; then
  echo "restore: the target database already has $user_tables tables; restore into a new empty database (createdb) so nothing is overwritten" >&2
  exit 2
fi

# Only the CREATE ROLE / ALTER ROLE / COMMENT ON ROLE of roles the cluster does not have yet:
# existing roles (postgres, or Supabase's own) keep their attributes.
existing=$("${psql[@]}" -A -t -c "SELECT rolname FROM pg_roles")
missing_roles=$(awk -v existing="$existing" '
  BEGIN { n = split(existing, names, "\n"); for (i = 1; i <= n; i++) have[names[i]] = 1 }
  /^(CREATE|ALTER) ROLE / || /^COMMENT ON ROLE / {
    name = ($1 == "COMMENT") ? $4 : $3; sub(/;$/, "", name); gsub(/"/, "", name)
    if (!(name in have)) print
  }' "$dir/roles.sql")
if [ -n "$missing_roles" ]; then
  printf '%s\n' "$missing_roles" | "${psql[@]}" \
    || { echo "restore: creating the missing roles failed (see above); nothing else was restored" >&2; exit 3; }
fi
# Role memberships (GRANT role TO role) may name roles created just now; already granted ones are no-ops.
grep -E '^GRANT .* TO .*;' "$dir/roles.sql" | "${psql[@]}" >/dev/null 2>&1 || true

"$bin/pg_restore" --exit-on-error --single-transaction --dbname="$url" "$dir/database.dump" \
  || { echo "restore: pg_restore failed (see above); its transaction was rolled back, the target database is still empty" >&2; exit 3; }
echo "restore: restored $dir into the target database" >&2
