-- Swaps in a re-sealed push token only if the device record is still the one read, and drops a
-- plaintext token stored before sealing existed.
-- KEYS[1]: the device. ARGV: sealed token read ('' for none), plaintext token read ('' for none),
-- the new sealed token, the sealed token's field.
-- 1 swapped, 0 the device changed or is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if (redis.call('HGET', KEYS[1], ARGV[4]) or '') ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[1], 'token') or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[4], ARGV[3])
redis.call('HDEL', KEYS[1], 'token')
return 1
