// The RedisStore's refund scripts: begin, settle, end a lease, take over, list the pending ones.

import { HELPERS } from './redis-lua';

/**
 * KEYS: record, refunds set, owed set. ARGV: refund id, amount ('' = what is left), mobile, owner, now,
 * leaseUntil. Returns 'begun', 'not_found', 'not_refundable', 'in_progress' or 'too_large' (the rules of
 * ledger/rules.ts decideRefund, in Lua so the decision and the write are one step).
 */
export const REFUND_BEGIN = `${HELPERS}
local tkey = KEYS[1]
if redis.call('EXISTS', tkey) == 0 then return 'not_found' end
local state = hget(tkey, 'state')
if (state ~= 'fulfilled' and state ~= 'unfulfillable') or (hget(tkey, 'transactionId') or '') == '' then return 'not_refundable' end
if (hget(tkey, 'refundId') or '') ~= '' then return 'in_progress' end
local left = tonumber(hget(tkey, 'amount')) - tonumber(hget(tkey, 'refundedTotal') or '0')
local amount = left
if ARGV[2] ~= '' then amount = tonumber(ARGV[2]) end
if amount <= 0 or amount > left then return 'too_large' end
redis.call('HSET', tkey, 'refundId', ARGV[1], 'refundAmount', string.format('%.0f', amount), 'refundMobile', ARGV[3],
  'refundOwner', ARGV[4], 'refundLeaseUntil', ARGV[6], 'refundRequestedAt', ARGV[5], 'updatedAt', ARGV[5])
local token = hget(tkey, 'token')
redis.call('ZADD', KEYS[2], ARGV[5], token)
redis.call('ZREM', KEYS[3], token)
return 'begun'
`;

/** KEYS: record, refunds set. ARGV: refund id, owner, refundedTotal, refunds JSON, now. */
export const REFUND_SETTLE = `${HELPERS}
if hget(KEYS[1], 'refundId') ~= ARGV[1] or hget(KEYS[1], 'refundOwner') ~= ARGV[2] then return 0 end
local prefix, token = prefixOf(KEYS[1])
local state, added = hget(KEYS[1], 'state'), tonumber(ARGV[3]) - (tonumber(hget(KEYS[1], 'refundedTotal') or '0') or 0)
if added ~= 0 and redis.call('ZSCORE', prefix .. 's:' .. state, token) then
  redis.call('HINCRBY', prefix .. 'sums', 'refunded:' .. state, fmt(added))
end
redis.call('HSET', KEYS[1], 'refundedTotal', ARGV[3], 'refunds', ARGV[4], 'refundId', '', 'refundAmount', '', 'refundMobile', '',
  'refundOwner', '', 'refundLeaseUntil', '', 'refundRequestedAt', '', 'updatedAt', ARGV[5])
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
return 1
`;

/** KEYS: record. ARGV: refund id, owner, now. */
export const REFUND_END_LEASE = `${HELPERS}
if hget(KEYS[1], 'refundId') ~= ARGV[1] or hget(KEYS[1], 'refundOwner') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'refundOwner', '', 'refundLeaseUntil', '0', 'updatedAt', ARGV[3])
return 1
`;

/** KEYS: record. ARGV: refund id, owner, now, leaseUntil. */
export const REFUND_TAKE = `${HELPERS}
if hget(KEYS[1], 'refundId') ~= ARGV[1] or tonumber(hget(KEYS[1], 'refundLeaseUntil') or '0') > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'refundOwner', ARGV[2], 'refundLeaseUntil', ARGV[4], 'updatedAt', ARGV[3])
return 1
`;

/** KEYS: refunds set. ARGV: now, limit, prefix. Returns the tokens whose pending refund's lease ended, oldest first. */
export const LIST_PENDING_REFUNDS = `${HELPERS}
return due(KEYS[1], 'refundLeaseUntil', tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
`;
