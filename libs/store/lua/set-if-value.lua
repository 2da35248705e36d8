-- Compare-and-set of a string key: replaces it only if it still holds what the caller read.
-- KEYS[1]: the key. ARGV[1]: the value read ('' for none), ARGV[2]: the new value.
-- 1 set, 0 changed meanwhile.
if (redis.call('GET', KEYS[1]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
