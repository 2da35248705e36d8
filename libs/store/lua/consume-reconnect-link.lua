-- Consumes a Reconnect link session if it still names the account: only one caller re-arms.
-- KEYS: the session and its scope (one hash tag). ARGV[1]: the account id.
-- 1 consumed by this call, -1 gone (used, expired, or for another account).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
