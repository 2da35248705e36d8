-- Adds a member to a user's set only while the set holds fewer than the quota: two concurrent
-- creates cannot both take the last place.
-- KEYS[1]: the set. ARGV[1]: the member, ARGV[2]: the quota.
-- 1 added (or already a member), 0 full.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
