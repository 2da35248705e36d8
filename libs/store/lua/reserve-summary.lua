-- Records a summary about to be published, under the same lease and account checks as an advance.
-- KEYS: cursor, lease, account (one slot tag).
-- ARGV: holder, uidValidity, firstUid, lastUid, count, coversUpTo.
-- 1 recorded, -1 lease lost, -2 account gone.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end
redis.call('HSET', KEYS[1], 'summaryUidValidity', ARGV[2], 'summaryFirstUid', ARGV[3], 'summaryLastUid', ARGV[4], 'summaryCount', ARGV[5], 'summaryCoversUpTo', ARGV[6])
return 1
