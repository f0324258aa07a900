# Sourced by .ci/run: make sure a PostgreSQL server answers on 127.0.0.1:5432, create a
# fresh database for this run and export DATABASE_URL. Tests create their own databases
# from it, so they can run in parallel.
pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ci: installing PostgreSQL" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_answers; then
  echo "ci: starting PostgreSQL" >&2
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
fi
pg_answers || { echo "ci: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }

# Trust authentication on loopback: connect as the server's superuser.
pg_user=postgres
psql -h 127.0.0.1 -U "$pg_user" -d postgres -qtAc 'select 1' >/dev/null 2>&1 || pg_user=root
# Databases left behind by interrupted earlier runs on this machine.
for stale in $(psql -h 127.0.0.1 -U "$pg_user" -d postgres -qtAc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'freshet_t\_%' OR datname LIKE 'freshet_ci\_%'"); do
  psql -h 127.0.0.1 -U "$pg_user" -d postgres -qc "DROP DATABASE IF EXISTS $stale WITH (FORCE)" >/dev/null || true
done
ci_db="freshet_ci_$(date +%s)_$$"
psql -h 127.0.0.1 -U "$pg_user" -d postgres -qc "CREATE DATABASE $ci_db" >/dev/null
export DATABASE_URL="postgres://$pg_user@127.0.0.1:5432/$ci_db"
echo "ci: DATABASE_URL=$DATABASE_URL" >&2
drop_ci_database() {
  psql -h 127.0.0.1 -U "$pg_user" -d postgres -qc "DROP DATABASE IF EXISTS $ci_db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap drop_ci_database EXIT
