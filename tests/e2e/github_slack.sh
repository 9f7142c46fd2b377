#!/usr/bin/env bash
# The github-push-slack example end to end (examples/github-push-slack/run.sh)
# on the test database, then what it left behind: the signed push started one
# instance, whose Slack message (exactly one, at the secret URL) names the
# repository, branch, pusher, commit count and each commit's short id and
# first line, in the text and in the Block Kit blocks; the redelivery was a
# duplicate (one instance, one message); the forged signature was refused
# (401, no instance, no message); neither secret is in bpmnd's log or the
# database. Then the mapping on its own: tag pushes, branch deletions and
# other events are ignored, an unsigned push is refused.
set -u
. "$(dirname "$0")/lib.sh"
command -v pg_dump >/dev/null || { echo "needs pg_dump"; exit 77; }
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
example="$src/examples/github-push-slack"
fresh_schema
work=$(mktemp -d /tmp/bpmnd-github.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GITHUB_WEBHOOK_SECRET="e2e secret $RANDOM$RANDOM$RANDOM, never to be logged"

t0=$(date +%s)
BPMND="$build/adapters/server/bpmnd" BPMNCTL="$c" GITHUB_PUSH_WORK="$work" GITHUB_PUSH_PORT=$((20000 + RANDOM % 12000)) \
  bash "$example/run.sh" >"$work/out" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
check "run.sh succeeds (in ${took}s)" '[ $rc = 0 ] || { cat "$work/out"; false; }'
check "it takes well under a minute" '[ $took -lt 40 ]'
id=$(cat "$work/instance" 2>/dev/null)
delivery=$(cat "$work/delivery" 2>/dev/null)
status() { cut -d" " -f1 "$work/$1"; }
answer() { cut -d" " -f2- "$work/$1"; }
q() { sql "$1"; }
var() { q "select value::text from variable where instance_id = '$id' and name = '$1'"; }

# ---- GitHub's side: what bpmnd answered ---------------------------------------------
check "ping: 200 {ping: true}" '[ "$(status ping)" = 200 ] && answer ping | jq -e ".ping == true" >/dev/null'
check "the signed push: 202, a start, its instance" '[ "$(status push)" = 202 ] && answer push | jq -e --arg id "$id" --arg d "$delivery" ".action == \"start\" and .instanceId == \$id and .eventId == \$d and .duplicate == false" >/dev/null'
check "the redelivery: 200, a duplicate naming the same instance" '[ "$(status redelivery)" = 200 ] && answer redelivery | jq -e --arg id "$id" ".duplicate == true and .instanceId == \$id" >/dev/null'
check "the forged signature: 401 unauthorized" '[ "$(status forged)" = 401 ] && answer forged | jq -e ".error == \"unauthorized\"" >/dev/null'

# ---- the database --------------------------------------------------------------------
check "one instance in all: github-push-slack, business key = the delivery id, completed" '[ "$(q "select count(*) from process_instance")" = 1 ] && [ "$(q "select definition_key || '"' '"' || business_key || '"' '"' || state from process_instance")" = "github-push-slack $delivery completed" ]'
check "one delivery recorded, with its instance (not the forged one)" '[ "$(q "select source || '"' '"' || event_id || '"' '"' || instance_id from inbound_event")" = "webhook/github $delivery $id" ]'
check "nothing left to run: no job, no incident" '[ "$(q "select (select count(*) from job) + (select count(*) from incident)")" = 0 ]'
check "the mapping's variables" '[ "$(var repository)" = "\"Codertocat/Hello-World\"" ] && [ "$(var branch)" = "\"main\"" ] && [ "$(var pusher)" = "\"Codertocat\"" ] && [ "$(var commits | jq length)" = 3 ] && [ "$(var headCommit)" = "\"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c\"" ]'
check "the summary: count, short ids and first lines" '[ "$(var summary | jq -c "[.commitCount, [.commits[] | .shortId + \" \" + .message]]")" = "[3,[\"8a0b56b Fix the greeting\",\"5e2d7c0 Escape <, > and & in the README\",\"0d1a26e Add a contributing guide\"]]" ]'
check "the history shows the path: summary, Slack, end" '[ "$(q "select string_agg(element_id, '"' '"' order by seq) from history where instance_id = '"'$id'"' and kind = '"'leave'"' and element_id is not null")" = "StartEvent_PushReceived Task_BuildSummary Task_PostToSlack EndEvent_TeamTold" ]'

# ---- Slack's side: exactly one message ------------------------------------------------
check "Slack got exactly one message" '[ "$(grep -c . "$work/slack.jsonl")" = 1 ]'
msg=$(jq -c .body "$work/slack.jsonl" | head -1)
path=$(jq -r .path "$work/slack.jsonl" | head -1)
hook=${path#/services/}
check "posted as JSON to the webhook URL of the secret, with the job id as Idempotency-Key" '[[ "$path" == /services/T0DEMO/B0DEMO/* ]] && [ ${#hook} -gt 20 ] && [ "$(jq -r ".headers[\"Content-Type\"]" "$work/slack.jsonl")" = "application/json; charset=utf-8" ] && [ -n "$(jq -r ".headers[\"Idempotency-Key\"] // empty" "$work/slack.jsonl")" ]'
text='Codertocat pushed 3 commits to Codertocat/Hello-World main
• 8a0b56b Fix the greeting
• 5e2d7c0 Escape &lt;, &gt; and &amp; in the README
• 0d1a26e Add a contributing guide
Compare: https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f'
check "the text: pusher, count, repository, branch, each commit's short id and first line (escaped), compare URL" '[ "$(jq -r .text <<<"$msg")" = "$text" ]'
c=https://github.com/Codertocat/Hello-World/commit
blocks=$(jq -cnS --arg c "$c" '[
  {type: "header", text: {type: "plain_text", text: "Codertocat/Hello-World"}},
  {type: "section", text: {type: "mrkdwn", text: "*Codertocat* pushed 3 commits to `main` of <https://github.com/Codertocat/Hello-World|Codertocat/Hello-World>"}},
  {type: "section", text: {type: "mrkdwn", text: ("<\($c)/8a0b56b2b4d8e3a1b7ab6c4c1e3f9d2a1c5e7f90|`8a0b56b`> Fix the greeting\n"
     + "<\($c)/5e2d7c0a9f14b6e3d8a1c2b4f6e8d0a2c4e6f8b1|`5e2d7c0`> Escape &lt;, &gt; and &amp; in the README\n"
     + "<\($c)/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c|`0d1a26e`> Add a contributing guide")}},
  {type: "context", elements: [{type: "mrkdwn", text: "<https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f|Compare changes>"}]}]')
check "the Block Kit blocks: header, who pushed what where, the commits with links, the compare link" '[ "$(jq -cS .blocks <<<"$msg")" = "$blocks" ]'
check "link unfurling off" '[ "$(jq -r .unfurl_links <<<"$msg")" = false ]'
check "run.sh printed what Slack received" 'grep -q "\[slack\]     Codertocat pushed 3 commits to Codertocat/Hello-World main" "$work/out"'

# ---- the secrets: only in bpmnd's environment -----------------------------------------
pg_dump "$BPMND_DATABASE_URL" >"$work/dump.sql"
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; } # as pg_dump writes bytea
check "the deployed diagram holds the Slack URL's reference only" '[ "$(q "select bool_and(convert_from(bytes, '"'UTF8'"') like '"'%{{secrets.SLACK_WEBHOOK_URL}}%'"') from resource")" = t ]'
check "the Slack webhook URL is nowhere in the database (pg_dump, text and bytea) or bpmnd's log" '[ -s "$work/dump.sql" ] && ! grep -qF "$hook" "$work/dump.sql" && ! grep -qF "$(hex "$hook")" "$work/dump.sql" && [ -s "$work/bpmnd.log" ] && ! grep -qF "$hook" "$work/bpmnd.log"'
check "the webhook secret is nowhere in the database (pg_dump, text and bytea) or bpmnd's log" '! grep -qF "$GITHUB_WEBHOOK_SECRET" "$work/dump.sql" && ! grep -qF "$(hex "$GITHUB_WEBHOOK_SECRET")" "$work/dump.sql" && ! grep -qF "never to be logged" "$work/bpmnd.log"'
check "run.sh stopped what it started (bpmnd, Slack)" '[ "$(wc -l <"$work/pids")" = 2 ] && ! ps -o pid= -p "$(paste -sd, "$work/pids")" >/dev/null'

# ---- the mapping on its own: what is not a push to a branch changes nothing --------------
bpmnd_log="$work/bpmnd2.log"
cd "$example" && start_bpmnd --config bpmnd.conf --worker-threads 0 && cd - >/dev/null
trap 'kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null; rm -rf "$work"' EXIT # start_bpmnd set its own
hooks=${base%/engine-rest}/webhooks/github
sign() { python3 -c 'import hashlib, hmac, os, sys
print("sha256=" + hmac.new(os.environb[b"GITHUB_WEBHOOK_SECRET"], open(sys.argv[1], "rb").read(), hashlib.sha256).hexdigest())' "$1"; }
gh() { http -X POST -H 'Content-Type: application/json' -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: $(sign "$3")" --data-binary @"$3" "$hooks"; }
count() { q "select (select count(*) from process_instance) || '/' || (select count(*) from inbound_event)"; }
before=$(count)
jq '.ref = "refs/tags/v1.0" | .base_ref = "refs/heads/main"' "$example/push.json" >"$work/tag.json"
r=$(gh push d-tag "$work/tag.json")
check "a tag push: 200 ignored, nothing started" '[ "${r%% *}" = 200 ] && jq -e ".ignored == true and .reason == \"tags are not announced\"" <<<"${r#* }" >/dev/null && [ "$(count)" = "$before" ]'
jq '.deleted = true | .after = "0000000000000000000000000000000000000000" | .commits = [] | .head_commit = null' "$example/push.json" >"$work/deleted.json"
r=$(gh push d-deleted "$work/deleted.json")
check "a branch deletion: 200 ignored, nothing started" '[ "${r%% *}" = 200 ] && jq -e ".ignored == true and (.reason | test(\"deletion\"))" <<<"${r#* }" >/dev/null && [ "$(count)" = "$before" ]'
printf '{"action": "opened", "issue": {"number": 1}}' >"$work/issue.json"
r=$(gh issues d-issue "$work/issue.json")
check "another event: 200 ignored, nothing started" '[ "${r%% *}" = 200 ] && jq -e ".ignored == true and (.reason | test(\"issues\"))" <<<"${r#* }" >/dev/null && [ "$(count)" = "$before" ]'
r=$(http -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-unsigned' --data-binary @"$example/push.json" "$hooks")
check "an unsigned push: 401, nothing started" '[ "${r%% *}" = 401 ] && [ "$(count)" = "$before" ]'
rm -f /tmp/http-body.$$

echo "github_slack: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "--- run.sh"; cat "$work/out"; echo "--- bpmnd"; cat "$work/bpmnd.log"; }
[ $fail -eq 0 ]
