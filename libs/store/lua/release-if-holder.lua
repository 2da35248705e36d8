-- Deletes a lease or lock only if the caller still holds it (a late release never frees another's).
-- KEYS[1]: the lease. ARGV[1]: the holder. 1 released, 0 not held by the caller.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
