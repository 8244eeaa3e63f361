#!/usr/bin/env bash
# examples/router end to end: a first run starts the experiment and serves
# requests on 4 threads; a second run on the same state directory recovers
# it (from the snapshot and the journal after it) and goes on; the third,
# after a kill -9 mid-run, recovers too. Usage: router_example_test.sh ROUTER SOURCE_DIR
set -euo pipefail
router=$1
source_dir=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
experiment=$source_dir/examples/experiments/support-bot-model.toml

fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$router" --experiment "$experiment" --state-dir "$dir" --requests 60000 --threads 4)
echo "$out"
grep -q "^started support-bot-model" <<<"$out" || fail "first run did not start the experiment"
grep -q "served 60000 requests on 4 threads (.* 0 failed)" <<<"$out" || fail "first run did not serve"
epochs1=$(sed -n 's/.* reports, \([0-9]*\) epochs$/\1/p' <<<"$out")
[ "${epochs1:-0}" -ge 2 ] || fail "no reallocation in the first run (epochs: $epochs1)"
# Each arm's payload picked a backend: the large model converts better, so
# Thompson gives it more weight by the end.
large=$(awk '$1 == "large" {print $NF}' <<<"$out")
awk -v w="$large" 'BEGIN { exit !(w > 0.5) }' || fail "large should lead, weight $large"

out=$("$router" --experiment "$experiment" --state-dir "$dir" --requests 20000 --threads 2)
echo "$out"
grep -q "^recovered support-bot-model: from a snapshot" <<<"$out" || fail "second run did not recover"
grep -q "served 20000 requests on 2 threads (.* 0 failed)" <<<"$out" || fail "second run failed requests"
recovered_epochs=$(sed -n 's/.*replayed, \([0-9]*\) epochs.*/\1/p' <<<"$out")
[ "$recovered_epochs" = "$epochs1" ] || fail "recovered $recovered_epochs epochs, had $epochs1"

# kill -9 mid-run: the journal (batched, 10 ms) and the last snapshot recover.
"$router" --experiment "$experiment" --state-dir "$dir" --requests 5000000 --threads 4 \
  > "$dir/killed.out" &
pid=$!
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
out=$("$router" --experiment "$experiment" --state-dir "$dir" --requests 1000 --threads 1)
echo "$out"
grep -q "^recovered support-bot-model" <<<"$out" || fail "no recovery after kill -9"
grep -q "served 1000 requests on 1 threads (.* 0 failed)" <<<"$out" || fail "third run failed requests"
echo "router example: ok"
