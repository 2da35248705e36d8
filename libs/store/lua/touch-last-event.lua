-- Records when an account last saw mail, unless it was deleted meanwhile (no hash is resurrected).
-- KEYS[1]: the account. ARGV[1]: the time (ISO 8601).
-- 1 written, 0 the account is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastEventAt', ARGV[1])
return 1
