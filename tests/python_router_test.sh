#!/usr/bin/env bash
# examples/python against the real `allot serve`: a server with admin,
# router and viewer tokens on an ephemeral loopback port and a manual clock;
# the Python router (standard library only) creates and starts an
# experiment, serves 3,000 conversations and reads the report; its roles
# are checked (a router token may not read reports).
# Usage: python_router_test.sh ALLOT SOURCE_DIR
set -euo pipefail
allot=$1
source_dir=$2
dir=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/serve.out" ] && cat "$dir/serve.out" >&2; exit 1; }

digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
mkdir -p "$dir/data"
cat > "$dir/serve.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/data"
[[tokens]]
sha256 = "$(digest admin-secret)"
role = "admin"
[[tokens]]
sha256 = "$(digest router-secret)"
role = "router"
[[tokens]]
sha256 = "$(digest viewer-secret)"
role = "viewer"
TOML
"$allot" serve --config "$dir/serve.toml" --manual-clock > "$dir/serve.out" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/serve.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the server did not start"

cd "$source_dir/examples/python"
out=$(python3 router.py --url "http://127.0.0.1:$port" \
  --experiment "$source_dir/examples/experiments/prompt-variants.toml" --requests 3000 \
  --step 60 --admin-token admin-secret --router-token router-secret \
  --viewer-token viewer-secret)
echo "$out"
grep -q "^created and started prompt-variants" <<<"$out" || fail "not created"
grep -q "served 3000 requests (0 errors)" <<<"$out" || fail "requests failed"
# The step-by-step prompt resolves most often: it leads the latest report.
leader=$(awk '/^latest report/ {r=1; next} r && NF {print $NF, $1}' <<<"$out" | sort -rn | head -1 | cut -d' ' -f2)
[ "$leader" = "step-by-step" ] || fail "expected step-by-step to lead, got $leader"

# Roles from Python: the router token may not read reports (403).
python3 - "$port" <<'PY'
import sys
from allot_client import AllotClient, AllotError
client = AllotClient(f"http://127.0.0.1:{sys.argv[1]}", "router-secret")
try:
    client.report("prompt-variants")
    sys.exit("a router token read a report")
except AllotError as e:
    assert e.status == 403, e
try:
    AllotClient(f"http://127.0.0.1:{sys.argv[1]}", "wrong").assign("prompt-variants", "u")
    sys.exit("an unknown token was served")
except AllotError as e:
    assert e.status == 401, e
print("roles: ok")
PY
echo "python router: ok"
