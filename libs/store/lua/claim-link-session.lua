-- Takes a link session's claim if the session is live and nobody holds the claim.
-- KEYS: session, claim (one hash tag). ARGV[1]: how long the claim holds (ms).
-- 1 claimed, 0 session gone or claimed by another request.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
