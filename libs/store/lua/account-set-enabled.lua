-- Disables an account (the person's choice: no worker holds it) or enables a disabled one again.
-- Tells the slot either way.
-- KEYS: account, slot version (one slot tag). ARGV: account id, slot channel, 'enable' | 'disable'.
-- 1 done, 0 the account is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if ARGV[3] == 'disable' then
  redis.call('HSET', KEYS[1], 'status', 'disabled')
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
elseif status == 'disabled' then
  redis.call('HSET', KEYS[1], 'status', 'connecting')
end
-- Tells the slot's owner: bump the slot's version and publish '<version>:<account id>' on its channel.
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], version .. ':' .. ARGV[1])
return 1
