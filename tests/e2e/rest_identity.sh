#!/usr/bin/env bash
# The read-only identity resources with authentication on, as a task list
# uses them: GET /identity/groups (a user's groups and their other members),
# POST /identity/verify, GET /user[/count], GET /user/{id}/profile,
# GET /group[/count], with filters, sorting, 400 and 404 bodies; every one
# needs credentials, none needs the admin group; no password hash leaves.
# The job operations and DELETE /history/variable-instance need admin.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null || { echo "needs jq and curl"; exit 77; }

fresh_schema
BPMND_PASSWORD="pw-alice" $c user add alice --first Alice --last Archer --email alice@example.org >/dev/null
BPMND_PASSWORD="pw-bob" $c user add bob --first Bob >/dev/null
BPMND_PASSWORD="pw-carol" $c user add carol >/dev/null
BPMND_PASSWORD="pw-root" $c user add root >/dev/null
$c group add sales --name "Sales" --member alice --member bob >/dev/null
$c group add hr --name "Human Resources" --member alice --member carol >/dev/null
$c group add admin --member root >/dev/null
tmp=$(mktemp -d)
bpmnd_log="$tmp/bpmnd.log"
start_bpmnd --auth on --worker-threads 0
trap 'kill $bpmnd_pid 2>/dev/null; wait $bpmnd_pid 2>/dev/null; rm -rf "$tmp"' EXIT
B=$base

# call USER METHOD PATH [JSON] as that user (password pw-USER)
call() {
  local u=$1 data=()
  shift
  [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
  res=$(curl -s -u "$u:pw-$u" -o "$tmp/body" -w '%{http_code} %{content_type}' -X "$1" "${data[@]}" "$B$2")
}
jqb() { jq -r "$@" "$tmp/body"; }
ok() { call "$1" GET "$2"; [ "$res" = "200 application/json" ]; }
count() { call bob GET "$1"; [ "$res" = "200 application/json" ] && jqb .count; }
status() {
  local want=$1
  shift
  call "$@"
  [ "${res%% *}" = "$want" ] && jq -e '(.type | type) == "string" and (.message | length) > 0' "$tmp/body" >/dev/null
}

check "no credentials: 401" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$B/identity/groups?userId=alice")" = 401 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" "$B/user")" = 401 ]'

# ---- /identity/groups ------------------------------------------------------------------
check "GET /identity/groups by a non-admin" 'ok bob "/identity/groups?userId=alice"'
check "alice: her groups by name, with id and name" '[ "$(jq -c .groups "$tmp/body")" = "[{\"id\":\"hr\",\"name\":\"Human Resources\"},{\"id\":\"sales\",\"name\":\"Sales\"}]" ]'
check "the other members, once each, with display names" '[ "$(jq -c .groupUsers "$tmp/body")" = "[{\"id\":\"bob\",\"firstName\":\"Bob\",\"lastName\":null,\"displayName\":\"Bob\"},{\"id\":\"carol\",\"firstName\":null,\"lastName\":null,\"displayName\":\"carol\"}]" ]'
check "a user in no group, or unknown: empty lists" 'ok bob "/identity/groups?userId=nobody" && [ "$(jq -c . "$tmp/body")" = "{\"groups\":[],\"groupUsers\":[]}" ]'
check "no userId: 400" 'status 400 bob GET /identity/groups && [ "$(jqb .message)" = "No user id was supplied" ]'

# ---- /identity/verify ------------------------------------------------------------------
check "the right password" 'call bob POST /identity/verify "{\"username\": \"alice\", \"password\": \"pw-alice\"}" && [ "$res" = "200 application/json" ] && [ "$(jq -c "{authenticatedUser, authenticated}" "$tmp/body")" = "{\"authenticatedUser\":\"alice\",\"authenticated\":true}" ]'
check "a wrong password, an unknown user: authenticated false" 'call bob POST /identity/verify "{\"username\": \"alice\", \"password\": \"pw-bob\"}" && [ "$(jqb .authenticated)" = false ] && [ "$(jqb .authenticatedUser)" = alice ] && call bob POST /identity/verify "{\"username\": \"zed\", \"password\": \"x\"}" && [ "$(jqb .authenticated)" = false ]'
check "a missing password: 400" 'status 400 bob POST /identity/verify "{\"username\": \"alice\"}" && [ "$(jqb .message)" = "Username and password are required" ]'

# ---- /user -------------------------------------------------------------------------------
check "GET /user: UserProfileDto, by id" 'ok carol /user && [ "$(jqb "[.[].id] | join(\",\")")" = "alice,bob,carol,root" ] && [ "$(jq -c ".[0]" "$tmp/body")" = "{\"id\":\"alice\",\"firstName\":\"Alice\",\"lastName\":\"Archer\",\"email\":\"alice@example.org\"}" ]'
no_hash() { ! grep -qE 'password|[$](y|6|2b)[$]' "$tmp/body"; }
check "no password hash in the answer" 'no_hash'
check "user filters" '[ "$(count "/user/count?memberOfGroup=sales")" = 2 ] && [ "$(count "/user/count?firstNameLike=B%25")" = 1 ] && [ "$(count "/user/count?idIn=alice,carol,zed")" = 2 ] && [ "$(count "/user/count?emailLike=%25example.org")" = 1 ] && [ "$(count "/user/count?memberOfTenant=t")" = 0 ]'
check "user sorting and paging" 'ok bob "/user?sortBy=firstName&sortOrder=desc&firstNameLike=%25&maxResults=2" && [ "$(jqb "[.[].id] | join(\",\")")" = "bob,alice" ]'
check "an unknown user sortBy: 400" 'status 400 bob GET "/user?sortBy=password&sortOrder=asc"'
check "GET /user/{id}/profile" 'ok bob /user/alice/profile && [ "$(jqb ".firstName + \" \" + .lastName + \" \" + .email")" = "Alice Archer alice@example.org" ]'
check "the profile of nobody: 404" 'status 404 bob GET /user/zed/profile && [ "$(jqb .message)" = "User with id zed does not exist" ]'

# ---- /group ------------------------------------------------------------------------------
check "GET /group: GroupDto, by id" 'ok alice /group && [ "$(jqb "[.[].id] | join(\",\")")" = "admin,hr,sales" ] && [ "$(jq -c ".[2]" "$tmp/body")" = "{\"id\":\"sales\",\"name\":\"Sales\",\"type\":null}" ]'
check "group filters" '[ "$(count "/group/count?member=alice")" = 2 ] && [ "$(count "/group/count?nameLike=%25Res%25")" = 1 ] && [ "$(count "/group/count?type=SYSTEM")" = 0 ] && [ "$(count "/group/count?id=hr")" = 1 ]'
check "group sorting" 'ok bob "/group?sortBy=name&sortOrder=asc&member=alice" && [ "$(jqb "[.[].id] | join(\",\")")" = "hr,sales" ]'
check "sortBy without sortOrder: 400" 'status 400 bob GET "/group?sortBy=id"'

# ---- the job and history operations need the admin group ------------------------------------
check "a non-admin: 403 on the job operations" 'status 403 bob PUT /job/x/suspended "{\"suspended\": true}" && status 403 bob PUT /job/suspended "{\"jobId\": \"x\", \"suspended\": true}" && status 403 bob PUT /job/x/duedate "{}" && status 403 bob DELETE /job/x && status 403 bob DELETE /history/variable-instance/x'
check "an admin gets past the check: 404" 'status 404 root PUT /job/x/suspended "{\"suspended\": true}" && status 404 root PUT /job/x/duedate "{}" && status 404 root DELETE /job/x && status 404 root DELETE /history/variable-instance/x'

check "openapi.json lists the identity operations" 'call bob GET /openapi.json && jq -e ".paths[\"/identity/groups\"].get and .paths[\"/identity/verify\"].post and .paths[\"/group\"].get and .paths[\"/group/count\"].get and .paths[\"/user\"].get and .paths[\"/user/count\"].get and .paths[\"/user/{id}/profile\"].get" "$tmp/body" >/dev/null'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
