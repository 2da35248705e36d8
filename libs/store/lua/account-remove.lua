-- Deletes an account's record and cursor, takes it out of its slot's set, and tells the slot.
-- KEYS: account, slot version, cursor, slot accounts (one slot tag). ARGV: account id, slot channel.
-- 1.
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
-- Tells the slot's owner: bump the slot's version and publish '<version>:<account id>' on its channel.
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], version .. ':' .. ARGV[1])
return 1
