#!/usr/bin/env bash
# Camunda Modeler's exact conversation with a Camunda 7 engine, replayed
# against bpmnd at the Modeler's default endpoint layout: the connection
# check, the version, deployment create as the Modeler's FormData sends it
# (a changed diagram, an unchanged one, a broken one, an attachment), and
# "start instance" with the saved definition id.
set -u
. "$(dirname "$0")/lib.sh"
fresh_schema
start_bpmnd --worker-threads 1
hdr=(-H 'accept: application/json')

r=$(http "${hdr[@]}" "$base/deployment?maxResults=0")
check "connection check: 200 []" '[ "$r" = "200 []" ]'
check "version" '[ "$(curl -s "${hdr[@]}" "$base/version" | jq -r .version)" = 7.24.0 ]'

# the Modeler's FormData: CRLF lines, a file part named after the file,
# text/xml; attachments typeless (application/octet-stream)
multipart() { # file [extra-file]
  local b="----formdata-undici-032598124761" f=$1
  {
    for kv in "deployment-name=$(basename "$f" .bpmn)" "deployment-source=Camunda Modeler" "enable-duplicate-filtering=true"; do
      printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "$b" "${kv%%=*}" "${kv#*=}"
    done
    printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: text/xml\r\n\r\n' "$b" "$(basename "$f")" "$(basename "$f")"
    cat "$f"
    printf '\r\n'
    if [ -n "${2:-}" ]; then
      printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' "$b" "$(basename "$2")" "$(basename "$2")"
      cat "$2"
      printf '\r\n'
    fi
    printf -- '--%s--\r\n' "$b"
  } > /tmp/mp.$$
  curl -s -w '\n%{http_code} %{time_total}' "${hdr[@]}" -H "Content-Type: multipart/form-data; boundary=$b" \
    --data-binary @/tmp/mp.$$ "$base/deployment/create"
}
work=$(mktemp -d)
cp "$data/inbox.bpmn" "$work/refund.bpmn"
printf '{"components":[]}' > "$work/approve.form"
out=$(multipart "$work/refund.bpmn" "$work/approve.form")
body=$(echo "$out" | head -n -1) status=$(echo "$out" | tail -1)
check "first deploy: 200 within the Modeler's 5 s" '[ "${status%% *}" = 200 ] && awk "BEGIN{exit !(${status#* } < 5)}"'
dep1=$(echo "$body" | jq -r .id)
def1=$(echo "$body" | jq -r '.deployedProcessDefinitions | to_entries[0].value.id')
check "the resource is named after the filename" '[ "$(echo "$body" | jq -r ".deployedProcessDefinitions[].resource")" = refund.bpmn ]'
check "the self link" '[ "$(echo "$body" | jq -r ".links[0].rel")" = self ]'
check "the attachment is stored as a resource" '[ "$(curl -s "$base/deployment/$dep1/resources" | jq -r "map(.name) | sort | join(\",\")")" = "approve.form,refund.bpmn" ]'

out=$(multipart "$work/refund.bpmn" "$work/approve.form")
body=$(echo "$out" | head -n -1)
check "unchanged: the same deployment, deployedProcessDefinitions null" '[ "$(echo "$body" | jq -r .id)" = "$dep1" ] && [ "$(echo "$body" | jq -r .deployedProcessDefinitions)" = null ]'

sed -i 's/name="Pay refund"/name="Pay the refund"/' "$work/refund.bpmn"
out=$(multipart "$work/refund.bpmn" "$work/approve.form")
body=$(echo "$out" | head -n -1)
check "changed: a new deployment, version 2" '[ "$(echo "$body" | jq -r .id)" != "$dep1" ] && [ "$(echo "$body" | jq -r ".deployedProcessDefinitions[].version")" = 2 ]'
def2=$(echo "$body" | jq -r '.deployedProcessDefinitions | to_entries[0].value.id')

cp "$data/broken.bpmn" "$work/broken.bpmn"
before=$(sql "select count(*) from deployment")
out=$(multipart "$work/broken.bpmn")
body=$(echo "$out" | head -n -1) status=$(echo "$out" | tail -1)
check "broken: 400 ParseException" '[ "${status%% *}" = 400 ] && [ "$(echo "$body" | jq -r .type)" = ParseException ]'
check "the message starts as the Modeler expects" 'echo "$body" | jq -r .message | grep -q "^ENGINE-09005 Could not parse BPMN process\."'
check "details per resource with line and element" '[ "$(echo "$body" | jq -r ".details[\"broken.bpmn\"].errors | length > 0")" = true ] && echo "$body" | jq -e ".details[\"broken.bpmn\"].errors[0] | has(\"line\") and has(\"mainBpmnElementId\")" >/dev/null'
check "nothing was deployed" '[ "$(sql "select count(*) from deployment")" = "$before" ]'

r=$(curl -s -w ' %{http_code}' "${hdr[@]}" -H 'content-type: application/json' -d '{"businessKey":"from-modeler","variables":null}' "$base/process-definition/$def2/start")
check "start instance with the saved definition id: 200 with id and links" '[ "${r##* }" = 200 ] && [ "$(echo "${r% *}" | jq -r ".businessKey + \"/\" + .links[0].rel + \"/\" + (.ended|tostring)")" = "from-modeler/self/false" ]'
r=$(curl -s -w ' %{http_code}' -H 'content-type: application/json' -d '{"variables":{"x":{"value":"1","type":"Integr"}}}' "$base/process-definition/$def1/start")
check "start with an unknown variable type: 400 naming it" '[ "${r##* }" = 400 ] && echo "$r" | grep -q "Integr"'
r=$(http "$base/process-definition/no:such:def/start" -H 'content-type: application/json' -d '{}')
check "start of an unknown definition: 404" '[ "${r%% *}" = 404 ]'
check "by key starts the latest version" '[ "$(curl -s -H "content-type: application/json" -d "{}" "$base/process-definition/key/refund/start" | jq -r .definitionId)" = "$def2" ]'
check "the XML comes back" '[ "$(curl -s "$base/process-definition/$def2/xml" | jq -r .bpmn20Xml | grep -c "Pay the refund")" = 1 ]'
r=$(curl -s -w ' %{http_code}' -F "x=notafile" "$base/deployment/create")
check "a non-file part that is not a deployment field: 400 naming it" '[ "${r##* }" = 400 ] && echo "$r" | grep -q "form parameter .x."'
r=$(curl -s -w ' %{http_code}' -F deployment-name=empty "$base/deployment/create")
check "no resources: 400" '[ "${r##* }" = 400 ] && echo "$r" | grep -q "No deployment resources"'
r=$(curl -s -w ' %{http_code}' -H "Content-Type: multipart/form-data; boundary=xyz" --data-binary $'--xyz\r\nContent-Disposition: form-data; name="a"' "$base/deployment/create")
check "a truncated multipart body: 400" '[ "${r##* }" = 400 ]'
rm -rf "$work" /tmp/mp.$$ /tmp/http-body.$$
echo "rest_modeler: $pass passed, $fail failed"
[ $fail -eq 0 ]
