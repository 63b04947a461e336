// The RedisStore's Lua scripts: each claim and transition runs as one script, so each is atomic.
//
// Layout (prefix P): `P t:<token>` a hash per record (null strings stored as ""); `P o:<orderId>` the set
// of the order's tokens; `P active` a sorted set of claimed/verified tokens scored by createdAt;
// `P refunds` the tokens with a pending refund, scored by when it was asked; `P owed` the unfulfillable
// tokens with a transaction id that no refund was tried for yet, scored by createdAt.
// Numbers that are written come from ARGV as strings: Lua would print large ones in exponent form.

/** Shared Lua helpers, prepended to every script. */
const HELPERS = `
local function rkey(prefix, token) return prefix .. 't:' .. token end
local function hget(key, name) local v = redis.call('HGET', key, name); if v == false then return nil end; return v end
local function owned(key, owner, state1, state2)
  local state = hget(key, 'state')
  return hget(key, 'owner') == owner and (state == state1 or (state2 ~= nil and state == state2))
end
-- Up to limit tokens of sorted set zkey, in score order, whose record's lease field ended by now.
local function due(zkey, field, now, limit, prefix)
  local found, start = {}, 0
  while #found < limit do
    local batch = redis.call('ZRANGE', zkey, start, start + 199)
    if #batch == 0 then break end
    for _, token in ipairs(batch) do
      if tonumber(hget(rkey(prefix, token), field) or '0') <= now then
        found[#found + 1] = token
        if #found >= limit then break end
      end
    end
    start = start + 200
  end
  return found
end
`;

/**
 * KEYS: record, order set, active set. ARGV: token, orderId, amount, owner, now, leaseUntil, prefix,
 * evenIfOrderPaid ('1' or '').
 * Returns { status, 'takeover' | 'insert' | '', the record it concerns as HGETALL's flat list }.
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
return answer('claimed', tkey, 'insert')
`;

/** KEYS: record, order set, active set, owed set. ARGV: token, owner, transactionId, khalti JSON, now, prefix. */
export const MARK_VERIFIED = `${HELPERS}
local tkey, okey, akey = KEYS[1], KEYS[2], KEYS[3]
local token, owner, prefix = ARGV[1], ARGV[2], ARGV[6]
if not owned(tkey, owner, 'claimed') then return 'not_owner' end
redis.call('HSET', tkey, 'transactionId', ARGV[3], 'khalti', ARGV[4], 'updatedAt', ARGV[5])
for _, other in ipairs(redis.call('SMEMBERS', okey)) do
  if other ~= token then
    local state = hget(rkey(prefix, other), 'state')
    if state == 'verified' or state == 'fulfilled' then
      redis.call('HSET', tkey, 'state', 'unfulfillable', 'failureCode', 'order_already_paid', 'owner', '', 'leaseUntil', '0')
      redis.call('ZREM', akey, token)
      if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], hget(tkey, 'createdAt'), token) end
      return 'order_conflict'
    end
  end
end
redis.call('HSET', tkey, 'state', 'verified')
return 'verified'
`;

/** KEYS: record, active set. ARGV: owner, response JSON, now. */
export const MARK_FULFILLED = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'verified') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'fulfilled', 'response', ARGV[2], 'owner', '', 'leaseUntil', '0', 'updatedAt', ARGV[3])
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
return 1
`;

/** KEYS: record, active set, owed set. ARGV: owner, failureCode, transactionId, khalti JSON, now. */
export const MARK_UNFULFILLABLE = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'claimed') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'unfulfillable', 'failureCode', ARGV[2], 'transactionId', ARGV[3], 'khalti', ARGV[4],
  'owner', '', 'leaseUntil', '0', 'updatedAt', ARGV[5])
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[3], hget(KEYS[1], 'createdAt'), hget(KEYS[1], 'token')) end
return 1
`;

/** KEYS: record, active set. ARGV: owner, failureCode, khalti JSON, now. */
export const MARK_DECLINED = `${HELPERS}
if not owned(KEYS[1], ARGV[1], 'claimed') then return 0 end
redis.call('HSET', KEYS[1], 'state', 'declined', 'failureCode', ARGV[2], 'khalti', ARGV[3], 'owner', '', 'leaseUntil', '0',
  'updatedAt', ARGV[4])
redis.call('ZREM', KEYS[2], hget(KEYS[1], 'token'))
return 1
`;

/** KEYS: record, order set, active set. ARGV: token, owner. */
export const RELEASE = `${HELPERS}
if not owned(KEYS[1], ARGV[2], 'claimed') then return 0 end
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
