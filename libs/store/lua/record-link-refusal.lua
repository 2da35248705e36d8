-- Counts a refused login made through a link session; at the bound the session, its counters,
-- claim and scope are gone.
-- KEYS: session, refusals, claim, scope (one hash tag). ARGV[1]: the bound.
-- 1 when this call ended the session, 0 otherwise (or when the session is already gone).
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ttl)
if n >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  return 1
end
return 0
