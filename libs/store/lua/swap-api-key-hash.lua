-- Points a user record at a new API key hash if it still holds the one the caller read.
-- KEYS[1]: the user record. ARGV[1]: the hash read ('' for none), ARGV[2]: the new hash.
-- 1 swapped, 0 another rotation won, -1 the user is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'apiKeyHash') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'apiKeyHash', ARGV[2])
return 1
