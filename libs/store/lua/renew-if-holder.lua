-- Extends each lease still held by the holder the caller names; one answer per key.
-- KEYS: leases. ARGV[1]: ttl (ms), ARGV[1 + i]: the holder expected in KEYS[i].
-- {1 | 0, ...}: 1 renewed, 0 held by someone else or gone.
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
