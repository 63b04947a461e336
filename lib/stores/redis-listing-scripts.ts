// The RedisStore's listing scripts: a page of a sorted set after a cursor, and indexing older records.

import { HELPERS } from './redis-lua';

/**
 * KEYS: a sorted set of the listing index. ARGV: the cursor's createdAt ('' for the first page), its
 * token, limit. Returns up to limit tokens after the cursor, newest first (score, then member, descending).
 */
export const LIST_PAGE = `${HELPERS}
local zkey, limit = KEYS[1], tonumber(ARGV[3])
if ARGV[1] == '' then return redis.call('ZRANGE', zkey, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit) end
local out = {}
for _, member in ipairs(redis.call('ZRANGE', zkey, ARGV[1], ARGV[1], 'BYSCORE', 'REV')) do
  if #out >= limit then break end
  if bytesBefore(member, ARGV[2]) then out[#out + 1] = member end
end
if #out < limit then
  for _, member in ipairs(redis.call('ZRANGE', zkey, '(' .. ARGV[1], '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit - #out)) do
    out[#out + 1] = member
  end
end
return out
`;

/** KEYS: none. ARGV: prefix, then tokens. Adds records written before the listing index to it. */
export const INDEX_RECORDS = `${HELPERS}
local prefix = ARGV[1]
for i = 2, #ARGV do
  local tkey = rkey(prefix, ARGV[i])
  local state = hget(tkey, 'state')
  if state then
    local createdAt = hget(tkey, 'createdAt')
    redis.call('ZADD', prefix .. 'all', createdAt, ARGV[i])
    enter(prefix, ARGV[i], state, createdAt, tonumber(hget(tkey, 'amount')), tonumber(hget(tkey, 'refundedTotal') or '0') or 0)
  end
end
return 1
`;
