-- Replaces an account's sealed credentials and bumps their version; a disabled account stays
-- disabled, any other goes back to connecting (the cursor is untouched: mail that arrived meanwhile
-- is caught up). Tells the slot.
-- KEYS: account, slot version (one slot tag).
-- ARGV: account id, slot channel, username, sealed credentials, auth type, OAuth provider ('' for
-- none), sealed access token ('' for none).
-- 1 replaced, 0 the account is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'username', ARGV[3], 'credentials', ARGV[4], 'authType', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'oauthProvider', ARGV[6]) else redis.call('HDEL', KEYS[1], 'oauthProvider') end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'oauthAccess', ARGV[7]) else redis.call('HDEL', KEYS[1], 'oauthAccess') end
redis.call('HINCRBY', KEYS[1], 'credentialsVersion', 1)
redis.call('HDEL', KEYS[1], 'lastError', 'nextAttemptAt', 'alert')
if redis.call('HGET', KEYS[1], 'status') ~= 'disabled' then redis.call('HSET', KEYS[1], 'status', 'connecting') end
-- Tells the slot's owner: bump the slot's version and publish '<version>:<account id>' on its channel.
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], version .. ':' .. ARGV[1])
return 1
