-- Compare-and-set of one hash field: replaces it only if it still holds what the caller read.
-- KEYS[1]: the hash. ARGV[1]: the field, ARGV[2]: the value read, ARGV[3]: the new value.
-- 1 set, 0 changed (or gone) meanwhile.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
