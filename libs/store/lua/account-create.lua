-- Stores a new account, its starting cursor and its place in its slot's set, and tells the slot.
-- KEYS: account, slot version, cursor, slot accounts (one slot tag).
-- ARGV: account id, slot channel, uidValidity, lastUid, then the record's field/value pairs.
-- 1.
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('HSET', KEYS[3], 'uidValidity', ARGV[3], 'lastUid', ARGV[4])
redis.call('SADD', KEYS[4], ARGV[1])
-- Tells the slot's owner: bump the slot's version and publish '<version>:<account id>' on its channel.
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], version .. ':' .. ARGV[1])
return 1
