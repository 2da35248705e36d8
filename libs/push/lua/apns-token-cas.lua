-- Compare-and-set of the shared APNs provider token: replaces it only if it still holds what the
-- caller read, and answers what is stored afterwards either way.
-- KEYS[1]: the token. ARGV: the value read ('' for none), the new value, its TTL (ms).
-- The stored value, or nil when there is none.
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return ARGV[2]
end
if cur == false then return nil end
return cur
