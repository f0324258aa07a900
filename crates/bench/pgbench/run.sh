#!/usr/bin/env bash
# What one append costs PostgreSQL, shape by shape, against the one-row baseline measured in
# the same minutes (README.md). Needs pgbench and psql. Usage:
#   crates/bench/pgbench/run.sh [postgres://postgres@127.0.0.1:5432] [rounds] [seconds]
# It (re)creates the database freshet_bench_pgbench there, with Freshet's migrations.
set -euo pipefail
server=${1:-postgres://postgres@127.0.0.1:5432}
rounds=${2:-3}
seconds=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
migrations=$here/../../../migrations/postgres
db=freshet_bench_pgbench
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
for migration in "$migrations"/*.sql; do
    psql -q -v ON_ERROR_STOP=1 "$server/$db" -f "$migration" >/dev/null
done
psql -q "$server/$db" -c "CREATE TABLE bench_baseline (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id text NOT NULL, payload jsonb NOT NULL)"
# The store's own batch statement (crates/store/src/postgres/append_batch.sql), with the
# arrays of $1 appends in place of its parameters, as store_batch_$1.
payload=$(sed -n "s/.*ARRAY\['\(.*\)'::jsonb.*/\1/p" "$here/append_events.sql")
store_batch() {
    local count=$1 streams=() keys=() ordinals=()
    for i in $(seq "$count"); do
        streams+=("'s$i-' || :n") keys+=("'k$i-' || :n") ordinals+=("$i")
    done
    # Each of the count appends gets `$1`.
    each() { local items=(); for _ in $(seq "$count"); do items+=("$1"); done; local IFS=,; echo "ARRAY[${items[*]}]"; }
    list() { local IFS=,; echo "ARRAY[$*]"; }
    {
        echo "-- appends per transaction: $count"
        echo '\set n random(1, 9223372036854775807)'
        sed -e '/^--/d' \
            -e "s/\\\$1::text\\[\\]/$(list "${streams[@]}")/" \
            -e "s/\\\$2::bigint\\[\\]/$(each 0)::bigint[]/" \
            -e "s/\\\$3::timestamptz\\[\\]/$(each 'now()')/" \
            -e "s/\\\$4::text\\[\\]/$(each "'user-bench'")/" \
            -e "s/\\\$5::uuid\\[\\]/$(each 'gen_random_uuid()')/" \
            -e "s/\\\$6::uuid\\[\\]/$(each 'gen_random_uuid()')/" \
            -e "s/\\\$7::text\\[\\]/$(list "${keys[@]}")/" \
            -e "s/\\\$8::text\\[\\]/$(each "'bench'")/" \
            -e "s/\\\$9::timestamptz\\[\\]/$(each "now() - interval '1 day'")/" \
            -e "s/\\\$10::bigint\\[\\]/$(list "${ordinals[@]}")::bigint[]/" \
            -e "s/\\\$11::bigint\\[\\]/$(each 1)::bigint[]/" \
            -e "s/\\\$12::uuid\\[\\]/$(each 'gen_random_uuid()')/" \
            -e "s/\\\$13::text\\[\\]/$(each "'PortfolioNoteLogged'")/" \
            -e "s/\\\$14::integer\\[\\]/$(each 1)/" \
            -e "s/\\\$15::jsonb\\[\\]/$(each "'$payload'::jsonb")/" \
            -e "s/\\\$16::timestamptz\\[\\]/$(each NULL)::timestamptz[]/" \
            -e "s/\\\$17::uuid\\[\\]/$(each NULL)::uuid[]/" \
            "$here/../../store/src/postgres/append_batch.sql"
        echo ";"
    } > "$generated/store_batch_$count.sql"
}
store_batch 1
store_batch 4
shapes=(plain_row event_row keyed_event_row append_events store_batch_1 append_batch_4 store_batch_4)
script() { if [[ -f $here/$1.sql ]]; then echo "$here/$1.sql"; else echo "$generated/$1.sql"; fi; }
declare -A runs
for round in $(seq "$rounds"); do
    for shape in "${shapes[@]}"; do
        tps=$(pgbench -n -M prepared -c 8 -j 2 -T "$seconds" -f "$(script "$shape")" "$server/$db" \
            | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        # A transaction of a batch holds several appends: count appends, not transactions.
        per=$(sed -n 's/^-- appends per transaction: //p' "$(script "$shape")")
        tps=$(echo "$tps * ${per:-1}" | bc -l)
        printf 'round %s %-22s %8.0f appends/s\n' "$round" "$shape" "$tps"
        runs[$shape]+="$tps "
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
baseline=$(echo "${runs[plain_row]}" | median)
for shape in "${shapes[@]}"; do
    tps=$(echo "${runs[$shape]}" | median)
    printf '%-22s %8.0f appends/s  %4.0f%% of plain_row\n' "$shape" "$tps" \
        "$(echo "100 * $tps / $baseline" | bc -l)"
done
