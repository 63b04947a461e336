// The RedisStore's claim and transition scripts: each runs as one script, so each is atomic (keys: redis-lua.ts).

import { HELPERS } from './redis-lua';

/**
 * KEYS: record, order set, active set. ARGV: token, orderId, amount, owner, now, leaseUntil, prefix,
 * evenIfOrderPaid ('1' or '').
 * Returns { status, 'takeover' | 'insert' | '', the record it concerns as HGETALL's flat list } — for an
 * insert the list is empty: the new record is exactly what the caller asked for.
 */
export const CLAIM = `${HELPERS}
local tkey, okey, akey = KEYS[1], KEYS[2], KEYS[3]
local token, order, owner, now, prefix, evenIfPaid = ARGV[1], ARGV[2], ARGV[4], tonumber(ARGV[5]), ARGV[7], ARGV[8] == '1'
local function answer(status, key, how) return { status, how, redis.call('HGETALL', key) } end
local exists = redis.call('EXISTS', tkey) == 1
if exists then
  if hget(tkey, 'orderId') ~= order then return answer('token_conflict', tkey, '') end
  local state = hget(tkey, 'state')
  if state == 'fulfilled' or state == 'unfulfillable' or state == 'declined' then return answer(state, tkey, '') end
  if tonumber(hget(tkey, 'leaseUntil')) > now then return answer('busy', tkey, '') end
end
for _, other in ipairs(redis.call('SMEMBERS', okey)) do
  if other ~= token then
    local key = rkey(prefix, other)
    local state = hget(key, 'state')
    if (state == 'verified' or state == 'fulfilled') and not evenIfPaid then return answer('order_conflict', key, '') end
    if state == 'claimed' and tonumber(hget(key, 'leaseUntil')) > now then return answer('busy', key, '') end
  end
end
if exists then
  redis.call('HSET', tkey, 'owner', owner, 'leaseUntil', ARGV[6], 'updatedAt', ARGV[5])
  return answer('claimed', tkey, 'takeover')
end
redis.call('HSET', tkey, 'token', token, 'orderId', order, 'amount', ARGV[3], 'state', 'claimed', 'owner', owner,
  'leaseUntil', ARGV[6], 'transactionId', '', 'khalti', 'null', 'response', 'null', 'failureCode', '',
  'createdAt', ARGV[5], 'updatedAt', ARGV[5])
redis.call('SADD', okey, token)
redis.call('ZADD', akey, ARGV[5], token)
redis.call('ZADD', prefix .. 'all', ARGV[5], token)
enter(prefix, token, 'claimed', ARGV[5], tonumber(ARGV[3]), 0)
return { 'claimed', 'insert', {} }
`;

/**
 * KEYS: record, active set, owed set. ARGV: token, owner, transactionId, khalti JSON, now, prefix. The
 * order's set is found from the record (like the other tokens' records below), so the caller need not
 * read the record first.
 */
export const MARK_VERIFIED = `${HELPERS}
local tkey, akey = KEYS[1], KEYS[2]
local token, owner, prefix = ARGV[1], ARGV[2], ARGV[6]
if not owned(tkey, owner, 'claimed') then return 'not_owner' end
local okey = prefix .. 'o:' .. hget(tkey, 'orderId')
redis.call('HSET', tkey, 'transactionId', ARGV[3], 'khalti', ARGV[4], 'updatedAt', ARGV[5])
for _, other in ipairs(redis.call('SMEMBERS', okey)) do
  if other ~= token then
    local state = hget(rkey(prefix, other), 'state')
    if state == 'verified' or state == 'fulfilled' then
      redis.call('HSET', tkey, 'state', 'unfulfillable', 'failureCode', 'order_already_paid', 'owner', '', 'leaseUntil', '0')
      moved(tkey, 'claimed')
      redis.call('ZREM', akey, token)
      if ARGV[3] ~= '' then redis.call('ZADD', KEYS[3], hget(tkey, 'createdAt'), token) end
      return 'order_conflict'
    end
  end
end
redis.call('HSET', tkey, 'state', 'verified')
moved(tkey, 'claimed')
return 'verified'
`;

/** KEYS: record, active set. ARGV: owner, response JSON, now. */
export const MARK_FULFILLED = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'verified') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'fulfilled', 'response', ARGV[2], 'owner', '', 'leaseUntil', '0', 'updatedAt', ARGV[3])
moved(KEYS[1], 'verified')
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
return 1
`;

/** KEYS: record, active set, owed set. ARGV: owner, failureCode, transactionId, khalti JSON, now. */
export const MARK_UNFULFILLABLE = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'claimed') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'unfulfillable', 'failureCode', ARGV[2], 'transactionId', ARGV[3], 'khalti', ARGV[4],
  'owner', '', 'leaseUntil', '0', 'updatedAt', ARGV[5])
moved(KEYS[1], 'claimed')
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[3], hget(KEYS[1], 'createdAt'), hget(KEYS[1], 'token')) end
return 1
`;

/** KEYS: record, active set. ARGV: owner, failureCode, khalti JSON, now. */
export const MARK_DECLINED = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'claimed') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'declined', 'failureCode', ARGV[2], 'khalti', ARGV[3], 'owner', '', 'leaseUntil', '0',
  'updatedAt', ARGV[4])
moved(KEYS[1], 'claimed')
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
return 1
`;

/** KEYS: record, order set, active set. ARGV: token, owner. */
export const RELEASE = `${HELPERS}
if not owned(KEYS[1], ARGV[2], 'claimed') then return 0 end
local prefix = prefixOf(KEYS[1])
leave(prefix, ARGV[1], 'claimed', tonumber(hget(KEYS[1], 'amount')), tonumber(hget(KEYS[1], 'refundedTotal') or '0') or 0)
redis.call('ZREM', prefix .. 'all', ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: record. ARGV: owner, now. */
export const END_LEASE = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'claimed', 'verified') then return 0 end
redis.call('HSET', KEYS[1], 'owner', '', 'leaseUntil', '0', 'updatedAt', ARGV[2])
return 1
`;

/** KEYS: active set. ARGV: now, limit, prefix. Returns the tokens, oldest first. */
export const LIST_STALE = `${HELPERS}
return due(KEYS[1], 'leaseUntil', tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
`;
