-- Writes what a worker sees of a live connection: never over 'disabled', never for an account
-- deleted meanwhile (no hash is resurrected), never for credentials replaced since.
-- KEYS[1]: the account. ARGV[1]: credentials version the worker connected with ('' for any), then
-- field/value pairs; the value '\0del' deletes the field.
-- 1 written, 0 refused.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'status') == 'disabled' then return 0 end
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], 'credentialsVersion') or '0') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  if ARGV[i+1] == '\0del' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
end
return 1
