#!/usr/bin/env bash
# The HTTP connector against a real local server (receiver.py): Camunda 7
# http-connector and Camunda 8 REST connector tasks call it from the job
# executor; the response is mapped into variables, a 404 becomes a BPMN error
# caught by a boundary event, a 500 and a timeout are retried on the retry
# cycle and then become an incident; the Idempotency-Key is the job id on
# every attempt; a secret from the worker's environment reaches the server
# and nothing else: not the database (pg_dump), not the worker's log;
# redirects are not followed, TLS is verified, the response size is capped.
set -u
. "$(dirname "$0")/lib.sh"
command -v pg_dump >/dev/null || { echo "needs pg_dump"; exit 77; }

work=$(mktemp -d /tmp/bpmnd-connector.XXXXXX)
record="$work/requests.jsonl" log="$work/worker.log"
python3 "$src/tests/e2e/receiver.py" --port-file "$work/port" --record "$record" --slow 4 &
receiver=$!
trap 'kill $receiver 2>/dev/null; wait $receiver 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "the receiver did not start"; exit 1; }
base="http://127.0.0.1:$(cat "$work/port")"
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

secret="SECRETVALUE-$RANDOM$RANDOM-do-not-store"
# the secret lives in the worker's environment only
worker() { BPMND_SECRET_API_TOKEN="$secret" $c worker --once >>"$log" 2>&1; }
offset=0
later() { offset=$((offset + ${1:-2})); $c clock --offset "PT${offset}S" >/dev/null; }
q() { sql "$1"; }
var() { q "select value::text from variable where instance_id = '$1' and name = '$2' order by scope_id limit 1"; }
state() { q "select state from process_instance where id = '$1'"; }
waiting_at() { q "select element_id from user_task where instance_id = '$1'"; }
job_of() { q "select id from job where instance_id = '$1'"; }
# requests the receiver saw on a path, as JSON lines
seen() { grep -F "\"path\": \"$1" "$record" || true; }

fresh_schema
$c clock --offset PT0S >/dev/null
$c deploy "$data/connector-c7.bpmn" >/dev/null
$c deploy "$data/connector-c8.bpmn" >/dev/null
start() { $c start "$1" --vars "{\"base\": \"$base\", \"path\": \"$2\", \"userId\": \"$3\"}"; }

# ---- Camunda 7 http-connector ----------------------------------------------
ok7=$(start connector-c7 /ok u7)
check "c7: the connector task is a connector job" '[ "$(q "select kind from job where instance_id = '"'"'$ok7'"'"'")" = connector ]'
job=$(job_of "$ok7")
worker
check "c7: success: the instance moved on" '[ "$(waiting_at "$ok7")" = Done ]'
check "c7: statusCode mapped by an output parameter" '[ "$(var "$ok7" status)" = 200 ]'
check "c7: the JSON response mapped by a script" '[ "$(var "$ok7" userName)" = "\"alice\"" ]'
check "c7: the response is parsed JSON" '[ "$(q "select value->>'"'"'id'"'"' from variable where instance_id = '"'"'$ok7'"'"' and name = '"'"'reply'"'"'")" = 42 ]'
check "c7: the locals (statusCode, response, headers) stay out of the process scope" '[ "$(q "select count(*) from variable v where instance_id = '"'"'$ok7'"'"' and name in ('"'"'statusCode'"'"', '"'"'response'"'"', '"'"'headers'"'"') and scope_id = (select scope_id from variable where instance_id = v.instance_id and name = '"'"'base'"'"')")" = 0 ]'
r=$(seen /ok | tail -1)
check "c7: method, body and headers reach the server" 'python3 -c "import json,sys; r=json.loads(sys.argv[1]); assert r[\"method\"] == \"POST\" and json.loads(r[\"body\"]) == {\"user\": \"u7\"} and r[\"headers\"][\"X-Request\"] == \"c7\"" "$r"'
check "c7: the Idempotency-Key is the job id" 'python3 -c "import json,sys; assert json.loads(sys.argv[1])[\"headers\"][\"Idempotency-Key\"] == sys.argv[2]" "$r" "$job"'
check "c7: the secret reaches the server" 'python3 -c "import json,sys; assert json.loads(sys.argv[1])[\"headers\"][\"Authorization\"] == \"Bearer \" + sys.argv[2]" "$r" "$secret"'

nf7=$(start connector-c7 /missing u404)
worker
check "c7: a 404 mapped by bpmn.error is caught by the boundary event" '[ "$(waiting_at "$nf7")" = Missing ] && [ "$(var "$nf7" lookupError)" = "\"NOT_FOUND\"" ]'
check "c7: no incident for a mapped 404" '[ "$(q "select count(*) from incident where instance_id = '"'"'$nf7'"'"'")" = 0 ]'

f7=$(start connector-c7 /fail u500)
job=$(job_of "$f7")
worker
check "c7: a 500 fails the job, one retry left" '[ "$(q "select retries from job where id = '"'"'$job'"'"'")" = 1 ] && grep -q "job $job at Call failed, will retry: .*HTTP 500 Internal Server Error from POST $base/fail" "$log"'
worker
check "c7: not retried before the retry cycle's interval" '[ "$(seen /fail | wc -l)" = 1 ]'
later
worker
check "c7: the second 500 opens an incident" '[ "$(state "$f7")" = active ] && [ "$(q "select count(*) from incident where instance_id = '"'"'$f7'"'"' and type = '"'"'failedJob'"'"' and resolved_at is null and message like '"'"'%HTTP 500%'"'"'")" = 1 ]'
check "c7: both attempts carried the same Idempotency-Key, the job id" '[ "$(seen /fail | python3 -c "import json,sys; print(\" \".join(sorted(set(json.loads(l)[\"headers\"][\"Idempotency-Key\"] for l in sys.stdin))))")" = "$job" ] && [ "$(seen /fail | wc -l)" = 2 ]'

t7=$(start connector-c7 /slow u-slow)
worker
check "c7: a timeout fails the job" 'grep -q "failed, will retry: .*no answer within 1000 ms" "$log"'
later
worker
check "c7: the second timeout opens an incident" '[ "$(q "select count(*) from incident where instance_id = '"'"'$t7'"'"' and resolved_at is null and message like '"'"'%no answer within%'"'"'")" = 1 ]'

# ---- Camunda 8 REST connector ----------------------------------------------
ok8=$(start connector-c8 /ok u8)
check "c8: the REST connector task is a connector job, not a worker's job" '[ "$(q "select kind from job where instance_id = '"'"'$ok8'"'"'")" = connector ]'
job=$(job_of "$ok8")
worker
check "c8: success: the instance moved on" '[ "$(waiting_at "$ok8")" = Done ]'
check "c8: resultVariable holds the response" '[ "$(q "select (value->>'"'"'status'"'"') || '"'"' '"'"' || (value->'"'"'body'"'"'->>'"'"'name'"'"') from variable where instance_id = '"'"'$ok8'"'"' and name = '"'"'apiResponse'"'"'")" = "200 alice" ]'
check "c8: resultExpression maps into variables" '[ "$(var "$ok8" userName)" = "\"alice\"" ]'
r=$(seen "/ok?source=c8" | tail -1)
check "c8: method (a static input), query, JSON body and headers reach the server" 'python3 -c "import json,sys; r=json.loads(sys.argv[1]); assert r[\"method\"] == \"POST\" and json.loads(r[\"body\"]) == {\"user\": \"u8\"} and r[\"headers\"][\"Content-Type\"] == \"application/json\" and r[\"headers\"][\"X-Request\"] == \"c8\"" "$r"'
check "c8: the Idempotency-Key is the job id" 'python3 -c "import json,sys; assert json.loads(sys.argv[1])[\"headers\"][\"Idempotency-Key\"] == sys.argv[2]" "$r" "$job"'
check "c8: the secret reaches the server" 'python3 -c "import json,sys; assert json.loads(sys.argv[1])[\"headers\"][\"Authorization\"] == \"Bearer \" + sys.argv[2]" "$r" "$secret"'

nf8=$(start connector-c8 /missing u404)
worker
check "c8: errorExpression turns a 404 into a BPMN error caught by the boundary event" '[ "$(waiting_at "$nf8")" = Missing ] && [ "$(q "select count(*) from incident where instance_id = '"'"'$nf8'"'"'")" = 0 ]'

f8=$(start connector-c8 /fail u500)
worker
check "c8: a 500 not mapped by errorExpression fails the job (retries=2: one left)" '[ "$(q "select retries from job where instance_id = '"'"'$f8'"'"'")" = 1 ]'
later
worker
check "c8: the second 500 opens an incident" '[ "$(q "select count(*) from incident where instance_id = '"'"'$f8'"'"' and resolved_at is null and message like '"'"'%HTTP 500%'"'"'")" = 1 ]'

t8=$(start connector-c8 /slow u-slow)
worker
later
worker
check "c8: a timeout is retried, then an incident" '[ "$(q "select count(*) from incident where instance_id = '"'"'$t8'"'"' and resolved_at is null and message like '"'"'%no answer within 1000 ms%'"'"'")" = 1 ]'

inc=$(q "select id from incident where instance_id = '$f8' and resolved_at is null")
$c retry "$inc" >/dev/null
worker
check "c8: bpmnctl retry runs the call again" '[ "$(seen "/fail?source=c8" | wc -l)" = 3 ]'

# ---- what every call does ------------------------------------------------------
tx7=$(start connector-c7 /text u-text)
worker
check "a text response is mapped as text" '[ "$(var "$tx7" reply)" = "\"plain words\"" ] && [ "$(var "$tx7" status)" = 200 ]'
rd7=$(start connector-c7 /redirect u-redirect)
before=$(seen /ok | wc -l)
worker
check "a redirect is not followed: the 302 is the response" '[ "$(var "$rd7" status)" = 302 ] && [ "$(seen /ok | wc -l)" = "$before" ]'
big7=$(start connector-c7 /big u-big)
worker
check "a response over the cap fails the attempt" 'grep -q "POST $base/big: the response is larger than 1048576 bytes" "$log" && [ "$(q "select retries from job where instance_id = '"'"'$big7'"'"'")" = 1 ]'
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
  python3 "$src/tests/e2e/receiver.py" --port-file "$work/tls-port" --record "$work/tls.jsonl" \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" &
  tls_receiver=$!
  for _ in $(seq 100); do [ -s "$work/tls-port" ] && break; sleep 0.1; done
  tls7=$($c start connector-c7 --vars "{\"base\": \"https://127.0.0.1:$(cat "$work/tls-port")\", \"path\": \"/ok\", \"userId\": \"u-tls\"}")
  worker
  check "TLS is verified: a self-signed certificate fails the attempt" 'grep -q "could not call POST https://127.0.0.1:[0-9]*/ok: .*certificate" "$log" && [ "$(q "select retries from job where instance_id = '"'"'$tls7'"'"'")" = 1 ] && [ ! -s "$work/tls.jsonl" ]'
  kill $tls_receiver 2>/dev/null; wait $tls_receiver 2>/dev/null
fi

# ---- secrets ---------------------------------------------------------------
# the server echoes the secret back: the stored response has it masked
e7=$(start connector-c7 /echo u-echo)
worker
check "a response echoing the secret is stored masked" '[ "$(waiting_at "$e7")" = Done ] && q "select value::text from variable where instance_id = '"'"'$e7'"'"' and name = '"'"'reply'"'"'" | grep -q "Bearer \*\*\*\*"'
check "the receiver did get the secret" 'grep -q "$secret" "$record"'
n7=$(start connector-c7 /ok u-nosecret)
$c worker --once >>"$log" 2>&1
check "without the secret in its environment the worker fails the job, naming the secret" 'grep -q "secret \\\\\?\"API_TOKEN\\\\\?\" is not set" "$log" && [ "$(q "select retries from job where instance_id = '"'"'$n7'"'"'")" = 1 ]'
pg_dump "$BPMND_DATABASE_URL" >"$work/dump.sql"
check "the dump holds the runtime and history (the reference, the masked echo)" 'grep -qF "{{secrets.API_TOKEN}}" "$work/dump.sql" && grep -qF "Bearer ****" "$work/dump.sql"'
check "the secret is nowhere in the database (pg_dump)" '[ "$(grep -c "$secret" "$work/dump.sql")" = 0 ]'
check "the secret is not in the worker's log" '[ "$(grep -c "$secret" "$log")" = 0 ]'
check "the worker's log names the failing URL" 'grep -q "from POST $base/fail" "$log"'

$c clock --offset PT0S >/dev/null
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- worker log"; cat "$log"; }
[ $fail -eq 0 ]
