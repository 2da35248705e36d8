-- Admits one message into a device's current burst window. The window starts with the first
-- message and lasts its TTL; the first `budget` messages are notified one by one, the rest are
-- counted for one summary. A message seen again (a retried fan-out) keeps its first rank.
-- KEYS: the device's window pointer, the window's counts (one hash tag: the device id).
-- ARGV: window start expected ('' for none), start of a new window, window (ms), message key,
-- budget, messages this one stands for, account id, how long the counts live (ms).
-- {rank, ''}, or {-1, actual start ('' for none)} when the window is not the one expected.
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return {-1, cur} end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
elseif cur ~= ARGV[1] then
  return {-1, cur or ''}
end
local field = 'm:' .. ARGV[4]
local rank = tonumber(redis.call('HGET', KEYS[2], field))
if not rank then
  rank = redis.call('HINCRBY', KEYS[2], 'n', 1)
  redis.call('HSET', KEYS[2], field, rank)
  if rank > tonumber(ARGV[5]) then
    redis.call('HINCRBY', KEYS[2], 'suppressed', ARGV[6])
    local acc = redis.call('HGET', KEYS[2], 'account')
    if not acc then redis.call('HSET', KEYS[2], 'account', ARGV[7])
    elseif acc ~= ARGV[7] then redis.call('HSET', KEYS[2], 'account', '*') end
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
return {rank, ''}
