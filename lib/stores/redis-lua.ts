// RedisStore's Lua helpers, prepended to every script, and the key layout they work on.
//
// Layout (prefix P): `P t:<token>` a hash per record (null strings stored as ""); `P o:<orderId>` the set
// of the order's tokens; `P active` a sorted set of claimed/verified tokens scored by createdAt;
// `P refunds` the tokens with a pending refund, scored by when it was asked; `P owed` the unfulfillable
// tokens with a transaction id that no refund was tried for yet, scored by createdAt. The listing index:
// `P all` every token and `P s:<state>` each state's tokens, scored by createdAt, and `P sums` a hash of
// `amount:<state>` and `refunded:<state>` (paisa); `P listing` marks the index as built for older data.
// Numbers that are written come from ARGV as strings: Lua would print large ones in exponent form.

/** Shared Lua helpers, prepended to every script. */
export const HELPERS = `
local function rkey(prefix, token) return prefix .. 't:' .. token end
local function hget(key, name) local v = redis.call('HGET', key, name); if v == false then return nil end; return v end
local function owned(key, owner, state1, state2)
  local state = hget(key, 'state')
  return hget(key, 'owner') == owner and (state == state1 or (state2 ~= nil and state == state2))
end
local function fmt(n) return string.format('%.0f', n) end
-- The prefix and token of a record's key (prefix .. 't:' .. token).
local function prefixOf(tkey)
  local token = hget(tkey, 'token')
  return string.sub(tkey, 1, #tkey - #token - 2), token
end
-- The listing index changes only with a state set's membership (ZADD/ZREM answering 1), so its sums
-- stay right whatever order an index rebuild and the transitions run in.
local function enter(prefix, token, state, createdAt, amount, refunded)
  if redis.call('ZADD', prefix .. 's:' .. state, createdAt, token) == 1 then
    redis.call('HINCRBY', prefix .. 'sums', 'amount:' .. state, fmt(amount))
    if refunded ~= 0 then redis.call('HINCRBY', prefix .. 'sums', 'refunded:' .. state, fmt(refunded)) end
  end
end
local function leave(prefix, token, state, amount, refunded)
  if redis.call('ZREM', prefix .. 's:' .. state, token) == 1 then
    redis.call('HINCRBY', prefix .. 'sums', 'amount:' .. state, fmt(-amount))
    if refunded ~= 0 then redis.call('HINCRBY', prefix .. 'sums', 'refunded:' .. state, fmt(-refunded)) end
  end
end
-- After a record's state was set: move it from state \`from\` in the listing index.
local function moved(tkey, from)
  local prefix, token = prefixOf(tkey)
  local to = hget(tkey, 'state')
  if to == from then return end
  local amount, refunded = tonumber(hget(tkey, 'amount')), tonumber(hget(tkey, 'refundedTotal') or '0') or 0
  leave(prefix, token, from, amount, refunded)
  enter(prefix, token, to, hget(tkey, 'createdAt'), amount, refunded)
end
-- Byte order, as sorted sets order members (Lua's own < follows the locale).
local function bytesBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
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
