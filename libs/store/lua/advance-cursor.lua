-- Moves an account's cursor only while the caller holds its slot's lease, and only forward within
-- a UIDVALIDITY (or to a new UIDVALIDITY): a worker that lost its lease cannot rewind or skip.
-- Moving past a reserved summary clears the reservation. Never for an account whose record is
-- gone: a watcher still fetching when the account was deleted cannot leave a cursor behind.
-- KEYS: cursor, lease, account (one slot tag). ARGV: holder, uidValidity, lastUid.
-- 1 advanced, 0 unchanged (not forward), -1 lease lost, -2 account gone.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end
local v = redis.call('HGET', KEYS[1], 'uidValidity')
local last = tonumber(redis.call('HGET', KEYS[1], 'lastUid') or '0')
if v == ARGV[2] and last >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'uidValidity', ARGV[2], 'lastUid', ARGV[3])
local upTo = tonumber(redis.call('HGET', KEYS[1], 'summaryCoversUpTo') or '-1')
if redis.call('HGET', KEYS[1], 'summaryUidValidity') ~= ARGV[2] or upTo <= tonumber(ARGV[3]) then
  redis.call('HDEL', KEYS[1], 'summaryUidValidity', 'summaryFirstUid', 'summaryLastUid', 'summaryCount', 'summaryCoversUpTo')
end
return 1
