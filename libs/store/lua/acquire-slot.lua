-- Takes a slot's lease if nobody holds it, under a fencing token that grows on every acquisition.
-- KEYS[1]: the slot's lease, KEYS[2]: its fence counter (one hash tag).
-- ARGV[1]: worker id, ARGV[2]: ttl (ms).
-- {1, holder, ttl} when taken (holder = '<worker>#<fence>'); {0, holder, pttl} when held by another.
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local fence = redis.call('INCR', KEYS[2])
local holder = ARGV[1] .. '#' .. fence
redis.call('SET', KEYS[1], holder, 'PX', ARGV[2])
return {1, holder, tonumber(ARGV[2])}
