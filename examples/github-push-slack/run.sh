#!/usr/bin/env bash
# A GitHub push announced on Slack, end to end: what GitHub and Slack would
# see, on your machine. tests/e2e/github_slack.sh runs it on the test
# database and then checks what it left behind.
#
#   examples/github-push-slack/run.sh
#
# Starts the Slack stand-in (slack.py) and bpmnd with bpmnd.conf (the
# webhook endpoint "github", signed with GITHUB_WEBHOOK_SECRET, mapped by
# github.lua), the Slack webhook URL as the secret SLACK_WEBHOOK_URL of
# bpmnd's environment; deploys github-push-slack.bpmn as Camunda Modeler
# does; then plays GitHub: a ping, the push of push.json signed with the
# secret (X-Hub-Signature-256) with a new delivery id, the same delivery
# again (a redelivery: a duplicate), and the push with a forged signature
# (refused). Prints what bpmnd answered and what Slack received. Everything
# it started is stopped when it exits.
#
# Environment: BPMND and BPMNCTL (the binaries; default build/demo/...),
# BPMND_DATABASE_URL or BPMND_DATA_DIR (the database, as for bpmnctl),
# GITHUB_WEBHOOK_SECRET (default: a new random one), GITHUB_PUSH_WORK (a
# directory for logs and records; default a new temporary one),
# GITHUB_PUSH_PORT (bpmnd's port; default 8080 when free).
# Leaves in GITHUB_PUSH_WORK: delivery (the delivery id), instance (the
# instance id), ping, push, redelivery, forged (each "STATUS BODY" as bpmnd
# answered), slack.jsonl (every message Slack got), pids, bpmnd.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bpmnd=${BPMND:-$root/build/demo/adapters/server/bpmnd}
ctl=${BPMNCTL:-$root/build/demo/adapters/cli/bpmnctl}
bpmnd=$(readlink -f "$bpmnd") ctl=$(readlink -f "$ctl") # bpmnd is started in this directory
work=${GITHUB_PUSH_WORK:-$(mktemp -d /tmp/github-push.XXXXXX)}
mkdir -p "$work"
rm -f "$work"/{slack.jsonl,slack.port,instance,delivery,pids,ping,push,redelivery,forged}
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

say() { printf '%s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

pids=()
started() { pids+=("$1"); echo "$1" >>"$work/pids"; }
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The two secrets live in bpmnd's environment only: the webhook's (GitHub
# signs with it) and the Slack webhook URL (whoever has it can post).
export GITHUB_WEBHOOK_SECRET=${GITHUB_WEBHOOK_SECRET:-$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')}
"$ctl" db migrate >/dev/null

# ---- Slack and bpmnd --------------------------------------------------------------
python3 "$here/slack.py" --port-file "$work/slack.port" --record "$work/slack.jsonl" &
started $!
for _ in $(seq 100); do [ -s "$work/slack.port" ] && break; sleep 0.05; done
[ -s "$work/slack.port" ] || die "the Slack stand-in did not start"
hook="T0DEMO/B0DEMO/$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

port=${GITHUB_PUSH_PORT:-8080}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
# started in this directory: bpmnd.conf names the mapping as github.lua
(cd "$here" && BPMND_SECRET_SLACK_WEBHOOK_URL="http://127.0.0.1:$(cat "$work/slack.port")/services/$hook" \
  exec "$bpmnd" --config bpmnd.conf --listen "127.0.0.1:$port" --worker-threads 2) 2>"$work/bpmnd.log" &
started $!
server="http://127.0.0.1:$port"
base="$server/engine-rest"
for _ in $(seq 100); do curl -sf "$server/ready" >/dev/null && break; sleep 0.1; done
curl -sf "$server/ready" >/dev/null || { cat "$work/bpmnd.log" >&2; die "bpmnd did not start"; }
say "bpmnd listens on $server: GitHub's payload URL is $server/webhooks/github;"
say "Slack's incoming webhook is the stand-in on port $(cat "$work/slack.port")."

# sign FILE: X-Hub-Signature-256 of FILE under the secret, as GitHub computes it
# (the secret is read from the environment, not passed on a command line)
sign() {
  python3 -c 'import hashlib, hmac, os, sys
print("sha256=" + hmac.new(os.environb[b"GITHUB_WEBHOOK_SECRET"], open(sys.argv[1], "rb").read(), hashlib.sha256).hexdigest())' "$1"
}
# deliver NAME EVENT DELIVERY FILE SIGNATURE: POST as GitHub does; "STATUS BODY" into $work/NAME
deliver() {
  local code
  code=$(curl -s -o "$work/response" -w '%{http_code}' -X POST "$server/webhooks/github" \
    -H 'Content-Type: application/json' -H 'User-Agent: GitHub-Hookshot/bpmnd-example' \
    -H "X-GitHub-Event: $2" -H "X-GitHub-Delivery: $3" -H "X-GitHub-Hook-ID: 30" \
    -H "X-Hub-Signature-256: $5" --data-binary @"$4") || die "no answer from bpmnd"
  echo "$code $(cat "$work/response")" >"$work/$1"
  say "   bpmnd answered $code $(cat "$work/response")"
}

step "1. Deploy github-push-slack.bpmn as Camunda Modeler does (POST /deployment/create)"
dep=$(curl -s -F deployment-name=github-push-slack -F deployment-source="Camunda Modeler" -F deploy-changed-only=true \
  -F "github-push-slack.bpmn=@$here/github-push-slack.bpmn;filename=github-push-slack.bpmn" "$base/deployment/create")
jq -e .id <<<"$dep" >/dev/null 2>&1 || die "the deployment failed: $dep"
say "   deployment $(jq -r .id <<<"$dep")"

step "2. GitHub pings the new webhook (X-GitHub-Event: ping, signed)"
printf '{"zen": "Design for failure.", "hook_id": 30, "hook": {"type": "Repository", "events": ["push"]}}' >"$work/ping.json"
deliver ping ping "$(cat /proc/sys/kernel/random/uuid)" "$work/ping.json" "$(sign "$work/ping.json")"

delivery=$(cat /proc/sys/kernel/random/uuid)
echo "$delivery" >"$work/delivery"
step "3. Codertocat pushes three commits to main: GitHub delivers push.json (delivery $delivery)"
deliver push push "$delivery" "$here/push.json" "$(sign "$here/push.json")"
instance=$(cut -d' ' -f2- "$work/push" | jq -r '.instanceId // empty')
[ -n "$instance" ] || die "the push started no instance: $(cat "$work/push")"
echo "$instance" >"$work/instance"
say "   instance $instance (business key $delivery) builds the summary and posts it to Slack"
state() { curl -s "$base/history/process-instance/$instance" | jq -r .state; }
end=$((SECONDS + 20))
until [ "$(state)" = COMPLETED ]; do
  [ $SECONDS -lt $end ] || die "gave up after 20s waiting for the instance to end (logs in $work)"
  sleep 0.1
done
say "   instance completed"

step "4. GitHub redelivers the same delivery (as after a timeout, or \"Redeliver\" in its UI)"
deliver redelivery push "$delivery" "$here/push.json" "$(sign "$here/push.json")"
say "   a duplicate: nothing started, nothing posted again"

step "5. Someone without the secret sends the push with a forged signature"
deliver forged push "$(cat /proc/sys/kernel/random/uuid)" "$here/push.json" \
  "sha256=$(printf 'not the secret' | sha256sum | cut -d' ' -f1)"
say "   refused before the body is parsed: nothing started"

n=$(wc -l <"$work/slack.jsonl")
step "Slack received $n message$([ "$n" = 1 ] || echo s) in all (recorded in $work/slack.jsonl)."
