-- Removes the dead letter with the given id (entries are JSON; an unreadable one is skipped).
-- KEYS[1]: the dead-letter list. ARGV[1]: the id.
-- 1 removed, 0 not found.
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
for _, raw in ipairs(entries) do
  local ok, entry = pcall(cjson.decode, raw)
  if ok and entry.id == ARGV[1] then
    redis.call('LREM', KEYS[1], 1, raw)
    return 1
  end
end
return 0
