-- The mapping of the "github" webhook endpoint (bpmnd.conf): what each GitHub
-- delivery does. It runs in bpmnd's Lua sandbox with one variable, `event`
-- (docs/events.md); bpmnd has checked X-Hub-Signature-256 before it runs.
--
--   push to a branch         start github-push-slack, business key = the delivery id
--   push of a tag            ignored (200): tags are not announced
--   branch deleted           ignored (200): nothing to summarize
--   ping                     answered by bpmnd itself ({"ping": true}); never reaches this file
--   any other event          ignored (200), so GitHub's delivery log stays green if the
--                            webhook is set to send more than pushes
local b = event.body
if event.type ~= "push" then
  return {ignore = true, reason = "only pushes are announced, not " .. tostring(event.type)}
end
if b.deleted then
  return {ignore = true, reason = "branch deletions are not announced"}
end
if string.sub(b.ref, 1, 10) == "refs/tags/" then
  return {ignore = true, reason = "tags are not announced"}
end

-- Only what the process needs: a push payload carries the whole repository
-- and every commit's file lists, none of which the summary uses.
local commits = json.array()
for i, c in ipairs(b.commits) do
  commits[i] = {id = c.id, message = c.message, url = c.url, author = c.author.name}
end
return {
  start = "github-push-slack",
  businessKey = event.id or b.after, -- X-GitHub-Delivery: find the instance from GitHub's "Recent Deliveries"
  variables = {
    repository = b.repository.full_name,
    repositoryUrl = b.repository.html_url,
    branch = (string.gsub(b.ref, "^refs/heads/", "")),
    pusher = b.pusher.name,
    commits = commits,
    compareUrl = b.compare,
    forced = b.forced == true,
    headCommit = b.after,
  },
}
