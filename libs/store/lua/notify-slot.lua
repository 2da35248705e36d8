-- Tells a slot's owner that one of its accounts changed (a migration moved it into the slot).
-- KEYS: account, slot version (one slot tag). ARGV: account id, slot channel.
-- 1.
-- Tells the slot's owner: bump the slot's version and publish '<version>:<account id>' on its channel.
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], version .. ':' .. ARGV[1])
return 1
