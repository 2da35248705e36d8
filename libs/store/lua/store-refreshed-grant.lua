-- Writes what an OAuth2 refresh returned, only while the account holds the same credentials
-- version; a rotated refresh token replaces the sealed grant only if nobody replaced it meanwhile.
-- KEYS[1]: the account. ARGV: credentials version, sealed grant read, new sealed grant ('' when
-- not rotated), sealed access token.
-- 1 stored, 0 the credentials changed meanwhile.
if (redis.call('HGET', KEYS[1], 'credentialsVersion') or '0') ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  if redis.call('HGET', KEYS[1], 'credentials') ~= ARGV[2] then return 0 end
  redis.call('HSET', KEYS[1], 'credentials', ARGV[3])
end
redis.call('HSET', KEYS[1], 'oauthAccess', ARGV[4])
return 1
