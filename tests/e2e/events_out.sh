#!/usr/bin/env bash
# Outbound events against a real local receiver (receiver.py): the Slack
# connector posts text and Block Kit blocks built by Lua (Camunda 7) or FEEL
# (Camunda 8) to a webhook URL that is a secret of the worker's environment,
# never stored or logged; Slack's 4xx error text is the failure (or a BPMN
# error the diagram maps), 429/5xx are retried after Retry-After. CloudEvents
# 1.0 go out from a send task (binary mode), an intermediate message throw
# event (structured) and a message end event, once each, with every required
# attribute; a retry after a 500 carries the same id; a step that rolls back
# publishes nothing.
set -u
. "$(dirname "$0")/lib.sh"
command -v pg_dump >/dev/null || { echo "needs pg_dump"; exit 77; }
command -v jq >/dev/null || { echo "needs jq"; exit 77; }

work=$(mktemp -d /tmp/bpmnd-events.XXXXXX)
record="$work/requests.jsonl" log="$work/worker.log"
: >"$record"
python3 "$src/tests/e2e/receiver.py" --port-file "$work/port" --record "$record" &
receiver=$!
trap 'kill $receiver 2>/dev/null; wait $receiver 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "the receiver did not start"; exit 1; }
base="http://127.0.0.1:$(cat "$work/port")"
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# the webhook URL is the credential: it lives in the worker's environment only
hook="T0BPMND/B0TEST/hook$RANDOM$RANDOM$RANDOM"
worker() { BPMND_SECRET_SLACK_WEBHOOK_URL="$base/services/$hook" $c worker --once >>"$log" 2>&1; }
offset=0
later() { offset=$((offset + ${1:-2})); $c clock --offset "PT${offset}S" >/dev/null; }
q() { sql "$1"; }
state() { q "select state from process_instance where id = '$1'"; }
var() { q "select value::text from variable where instance_id = '$1' and name = '$2' order by scope_id limit 1"; }
waiting_at() { q "select element_id from user_task where instance_id = '$1'"; }
incidents() { q "select count(*) from incident where instance_id = '$1' and resolved_at is null${2:+ and message like '$2'}"; }
# the Slack messages the receiver got for a channel, one JSON object a line
slack() { grep -F '"path": "/services/' "$record" | jq -c --arg ch "$1" '.body | fromjson | select(.channel == $ch)'; }
# the CloudEvents the receiver got, decoded; those with subject $1 (and type $2)
events() { python3 "$src/tests/e2e/cloudevents.py" "$record" |
  jq -c --arg s "$1" --arg t "${2:-}" '[.[] | select(.attrs.subject == $s and ($t == "" or .attrs.type == $t))]'; }
one() { [ "$(events "$1" "$2" | jq length)" = 1 ]; }
attr() { events "$1" "$2" | jq -r ".[0].attrs.$3 // empty"; }
rfc3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

fresh_schema
$c clock --offset PT0S >/dev/null
$c deploy "$data/events-c7.bpmn" >/dev/null
$c deploy "$data/events-c8.bpmn" >/dev/null
$c deploy "$data/events-rollback.bpmn" >/dev/null
start() { $c start "$1" --vars "{\"base\": \"$base\", \"employeeId\": \"$2\", \"channel\": \"$3\", \"throwPath\": \"${4:-/events}\"}"; }

# ---- Camunda 7: Slack, then an event from each of the three elements -------------
i1=$(start events-c7 e-1 "#ops")
check "c7: the Slack task is a connector job" '[ "$(q "select kind from job where instance_id = '"'"'$i1'"'"'")" = connector ]'
worker
check "c7: Slack, send task, throw and end event ran: the instance completed" '[ "$(state "$i1")" = completed ]'
s=$(slack "#ops")
check "c7: one Slack message" '[ "$(echo "$s" | grep -c .)" = 1 ]'
check "c7: its text, built by Lua" '[ "$(echo "$s" | jq -r .text)" = "Offboarding of e-1 finished" ]'
check "c7: its Block Kit blocks, built by Lua" '[ "$(echo "$s" | jq -cS .blocks)" = "$(jq -cnS "[{type: \"header\", text: {type: \"plain_text\", text: \"Offboarding finished\"}}, {type: \"section\", text: {type: \"mrkdwn\", text: \"*e-1* has left: accounts revoked\"}}]")" ]'
check "c7: username and icon_emoji" '[ "$(echo "$s" | jq -r "[.username, .icon_emoji] | join(\" \")")" = "bpmnd :wave:" ]'
check "c7: posted as JSON to the URL of the secret" '[ "$(grep -F "\"path\": \"/services/$hook\"" "$record" | jq -r ".headers[\"Content-Type\"]" | sort -u)" = "application/json; charset=utf-8" ]'
check "c7: the Slack output mapped statusCode" '[ "$(var "$i1" slackStatus)" = 200 ]'

check "c7: the send task published once" 'one e-1 io.bpmnd.test.sent'
check "c7: the throw event published once" 'one e-1 io.bpmnd.test.thrown'
check "c7: the end event published once" 'one e-1 io.bpmnd.test.ended'
check "c7: three events in all for the instance" '[ "$(events e-1 | jq length)" = 3 ]'
ev=$(events e-1 io.bpmnd.test.sent)
check "c7 send task: binary mode, specversion 1.0, source bpmnd:/events-c7" '[ "$(echo "$ev" | jq -r ".[0] | [.mode, .attrs.specversion, .attrs.source] | join(\" \")")" = "binary 1.0 bpmnd:/events-c7" ]'
check "c7 send task: the data (a Lua table) as JSON" '[ "$(echo "$ev" | jq -cS ".[0].data")" = "{\"employee\":\"e-1\",\"step\":\"send\"}" ] && [ "$(echo "$ev" | jq -r ".[0].content_type")" = application/json ]'
check "c7 send task: the id is the Idempotency-Key (the job id)" '[ -n "$(attr e-1 io.bpmnd.test.sent id)" ] && [ "$(echo "$ev" | jq -r ".[0].headers[\"Idempotency-Key\"]")" = "$(attr e-1 io.bpmnd.test.sent id)" ]'
check "c7 send task: time is RFC 3339" '[[ "$(attr e-1 io.bpmnd.test.sent time)" =~ $rfc3339 ]]'
check "c7 send task: the extension attribute and the extra header" '[ "$(attr e-1 io.bpmnd.test.sent tenant)" = acme ] && [ "$(echo "$ev" | jq -r ".[0].headers[\"X-Test\"]")" = send ]'
ev=$(events e-1 io.bpmnd.test.thrown)
check "c7 throw event: structured mode, application/cloudevents+json" '[ "$(echo "$ev" | jq -r ".[0].mode")" = structured ] && [[ "$(echo "$ev" | jq -r ".[0].content_type")" == application/cloudevents+json* ]]'
check "c7 throw event: every required attribute, time, datacontenttype, extension" '[ "$(echo "$ev" | jq -r ".[0].attrs | [.specversion, .source, .type, .subject, .datacontenttype, .tenant] | join(\" \")")" = "1.0 bpmnd:/events-c7 io.bpmnd.test.thrown e-1 application/json acme" ] && [ -n "$(attr e-1 io.bpmnd.test.thrown id)" ] && [[ "$(attr e-1 io.bpmnd.test.thrown time)" =~ $rfc3339 ]]'
check "c7 throw event: the data in the envelope" '[ "$(echo "$ev" | jq -cS ".[0].data")" = "{\"employee\":\"e-1\",\"step\":\"throw\"}" ]'
ev=$(events e-1 io.bpmnd.test.ended)
check "c7 end event: binary, text data as text/plain" '[ "$(echo "$ev" | jq -r ".[0] | [.mode, .data, .content_type] | join(\"|\")")" = "binary|e-1 done|text/plain; charset=utf-8" ]'
check "c7: each event its own id" '[ "$(events e-1 | jq "[.[].attrs.id] | unique | length")" = 3 ]'

# ---- a 500 is retried with the same event id ----------------------------------------
i2=$(start events-c7 e-2 "#ops" /flaky)
worker
job=$(q "select id from job where instance_id = '$i2' and element_id = 'Event_Announce'")
check "c7: a 500 from the sink fails the throw event's job, one retry left" '[ -n "$job" ] && [ "$(q "select retries from job where id = '"'"'$job'"'"'")" = 1 ] && [[ "$(q "select error_message from job where id = '"'"'$job'"'"'")" == *"HTTP 500 Internal Server Error from CloudEvents POST $base/flaky" ]]'
later
worker
check "c7: the retry is delivered and the instance completes" '[ "$(state "$i2")" = completed ]'
check "c7: two attempts, one event id: the job id" '[ "$(events e-2 io.bpmnd.test.thrown | jq length)" = 2 ] && [ "$(events e-2 io.bpmnd.test.thrown | jq -r "[.[].attrs.id] | unique | join(\" \")")" = "$job" ]'
check "c7: the retry carries the time of the step, not of the attempt" '[ "$(events e-2 io.bpmnd.test.thrown | jq "[.[].attrs.time] | unique | length")" = 1 ]'
check "c7: the send task and the end event still published once" 'one e-2 io.bpmnd.test.sent && one e-2 io.bpmnd.test.ended'

# ---- Slack's answers -------------------------------------------------------------------
i3=$(start events-c7 e-3 missing)
worker
check "c7: Slack's 404 channel_not_found fails the attempt with Slack's words" '[[ "$(q "select error_message from job where instance_id = '"'"'$i3'"'"'")" == *"Slack answered HTTP 404: channel_not_found" ]]'
later
worker
check "c7: then an incident whose message is Slack's error" '[ "$(incidents "$i3" "%Slack answered HTTP 404: channel_not_found")" = 1 ] && [ "$(slack missing | grep -c .)" = 2 ]'
check "c7: nothing published for the failed Slack step" '[ "$(events e-3 | jq length)" = 0 ]'
i4=$(start events-c7 e-4 archived)
worker
check "c7: a 410 channel_is_archived mapped by bpmn.error is caught by the boundary event" '[ "$(waiting_at "$i4")" = Task_FixChannel ] && [ "$(var "$i4" slackError)" = "\"SLACK_ARCHIVED\"" ] && [ "$(incidents "$i4")" = 0 ]'
i5=$(start events-c7 e-5 busy)
worker
check "c7: a 429 is retried after Retry-After (120 s), not the 1 s retry cycle" '[ "$(q "select retries from job where instance_id = '"'"'$i5'"'"'")" = 1 ] && [ "$(q "select extract(epoch from due_at - now())::int - $offset between 100 and 125 from job where instance_id = '"'"'$i5'"'"'")" = t ]'
i6=$(start events-c7 e-6 down)
worker
check "c7: a 503 is a failed attempt to retry" '[[ "$(q "select retries || '"'"' '"'"'|| error_message from job where instance_id = '"'"'$i6'"'"'")" == "1 "*"Slack answered HTTP 503 Service Unavailable" ]]'

# ---- a step that rolls back publishes nothing ------------------------------------------
r1=$($c start events-rollback --vars "{\"base\": \"$base\", \"key\": \"r-1\", \"boom\": true}")
worker
check "rollback: the failing step is an incident" '[ "$(incidents "$r1" "%boom%")" = 1 ]'
check "rollback: no connector job survived it" '[ "$(q "select count(*) from job where instance_id = '"'"'$r1'"'"' and kind = '"'"'connector'"'"'")" = 0 ]'
check "rollback: nothing was published" '[ "$(events r-1 | jq length)" = 0 ]'
r2=$($c start events-rollback --vars "{\"base\": \"$base\", \"key\": \"r-2\", \"boom\": false}")
worker
check "rollback: the same diagram publishes once when the step commits" 'one r-2 io.bpmnd.test.rollback && [ "$(state "$r2")" = completed ]'

# ---- Camunda 8: job types io.bpmnd:slack-webhook:1 and io.bpmnd:cloudevents-http:1 ----
i8=$(start events-c8 e-8 "#c8")
worker
check "c8: the instance completed" '[ "$(state "$i8")" = completed ]'
s=$(slack "#c8")
check "c8: one Slack message, text and blocks from FEEL" '[ "$(echo "$s" | grep -c .)" = 1 ] && [ "$(echo "$s" | jq -r .text)" = "Offboarding of e-8 finished" ] && [ "$(echo "$s" | jq -cS .blocks)" = "$(jq -cnS "[{type: \"header\", text: {type: \"plain_text\", text: \"Offboarding finished\"}}, {type: \"section\", text: {type: \"mrkdwn\", text: \"*e-8* has left: accounts revoked\"}}]")" ] && [ "$(echo "$s" | jq -r .username)" = bpmnd ]'
check "c8: resultExpression over the Slack response" '[ "$(var "$i8" slackStatus)" = 200 ]'
check "c8: send task, throw and end event published once each" 'one e-8 io.bpmnd.test.sent && one e-8 io.bpmnd.test.thrown && one e-8 io.bpmnd.test.ended'
check "c8: source bpmnd:/events-c8, modes binary/structured/binary" '[ "$(events e-8 | jq -r "[.[] | .attrs.source] | unique | join(\" \")")" = "bpmnd:/events-c8" ] && [ "$(events e-8 | jq -r "[.[] | .attrs.type + \"=\" + .mode] | sort | join(\" \")")" = "io.bpmnd.test.ended=binary io.bpmnd.test.sent=binary io.bpmnd.test.thrown=structured" ]'
check "c8: data and the extension from a dotted input target" '[ "$(events e-8 io.bpmnd.test.sent | jq -cS ".[0].data")" = "{\"employee\":\"e-8\",\"step\":\"send\"}" ] && [ "$(attr e-8 io.bpmnd.test.sent tenant)" = acme ] && [ "$(events e-8 io.bpmnd.test.ended | jq -r ".[0].data")" = "e-8 done" ]'
i9=$(start events-c8 e-9 archived)
worker
check "c8: errorExpression turns channel_is_archived into a BPMN error caught by the boundary event" '[ "$(waiting_at "$i9")" = Task_FixChannel ] && [ "$(incidents "$i9")" = 0 ]'
i10=$(start events-c8 e-10 missing)
worker
later
worker
check "c8: channel_not_found is retried (retries=2), then an incident with Slack's words" '[ "$(incidents "$i10" "%channel_not_found%")" = 1 ] && [ "$(slack missing | grep -c .)" = 4 ]'

# ---- the webhook URL is nowhere but in the worker's environment -------------------------
check "the receiver got the messages on the secret URL" '[ "$(grep -cF "/services/$hook" "$record")" -ge 8 ]'
check "no job row, history row, incident or variable holds the webhook URL" '[ "$(q "select (select count(*) from job where payload::text like '"'"'%$hook%'"'"' or error_message like '"'"'%$hook%'"'"') + (select count(*) from history where detail::text like '"'"'%$hook%'"'"') + (select count(*) from incident where message like '"'"'%$hook%'"'"') + (select count(*) from variable where value::text like '"'"'%$hook%'"'"')")" = 0 ]'
pg_dump "$BPMND_DATABASE_URL" >"$work/dump.sql"
check "the database holds the reference (pg_dump)" 'grep -qF "{{secrets.SLACK_WEBHOOK_URL}}" "$work/dump.sql"'
check "the webhook URL is nowhere in the database (pg_dump)" '[ "$(grep -c "$hook" "$work/dump.sql")" = 0 ]'
check "the webhook URL is not in the worker's log" '[ -s "$log" ] && [ "$(grep -c "$hook" "$log")" = 0 ]'
check "the worker's log has Slack's error" 'grep -q "Slack answered HTTP 404: channel_not_found" "$log"'

$c clock --offset PT0S >/dev/null
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- worker log"; cat "$log"; }
[ $fail -eq 0 ]
