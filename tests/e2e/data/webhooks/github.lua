-- GitHub webhooks for the ci-build process: a push to a branch starts a
-- build; stars are acknowledged and ignored; any other event is not routed
-- (bpmnd answers 422). bpmnd answers ping itself.
local b = event.body
if event.type == "push" then
  if b.deleted then
    return {ignore = true, reason = "a deleted branch is not built"}
  end
  local messages = {}
  for i, c in ipairs(b.commits) do
    messages[i] = c.message
  end
  return {
    start = "ci-build",
    businessKey = b.after,
    variables = {
      repository = b.repository.full_name,
      branch = (string.gsub(b.ref, "^refs/heads/", "")),
      pusher = b.pusher.name,
      commitCount = #b.commits,
      messages = messages,
    },
  }
elseif event.type == "star" then
  return {ignore = true, reason = "stars are not tracked"}
elseif event.type == "release" then
  return {start = "ci-build", businessKey = b.release.tag_name}
end
