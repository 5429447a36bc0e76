/**
 * The Lua scripts of the Redis event queue (`queue-redis.ts`, which documents the key layout).
 * Each script works on the keys of one topic: KEYS[1] is the topic's key base
 * `P ev:{len:topic}:`, and every key the script touches is that base plus a suffix, so all of
 * them share the topic's hash tag (one cluster slot). A script runs atomically: no engine sees
 * a step half done.
 *
 * A delivery is a field of the `d` hash: its zero-padded sequence number -> cjson of
 * `{fn, eid, st, due, att, grp, first, err}` (st 0 waiting, 1 in flight, 2 dead; `grp` is ''
 * unless the subscription is FIFO and the event has a group; `first` is -1 before the first
 * attempt; `err` is '' or the JSON text of the last error). The same padded number is the
 * member of the subscription's sorted sets, so equal scores order by emit order.
 */

/** Helpers shared by every script. */
const PRELUDE = `
local base = KEYS[1]
local function pad(n) return string.format('%016d', n) end
local function gkey(fn, grp) return base .. 'g:' .. string.len(fn) .. ':' .. fn .. ':' .. grp end
local function getd(m)
  local raw = redis.call('HGET', base .. 'd', m)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function putd(m, d) redis.call('HSET', base .. 'd', m, cjson.encode(d)) end
local function setof(st) if st == 0 then return 'w:' elseif st == 1 then return 'f:' else return 'x:' end end
local function unindex(m, d)
  redis.call('ZREM', base .. setof(d.st) .. d.fn, m)
  if d.st == 2 then redis.call('ZREM', base .. 'dead', m) end
end
-- An in-flight delivery back to waiting, due at due (its lease is dropped).
local function requeue(m, d, due)
  redis.call('ZREM', base .. 'f:' .. d.fn, m)
  d.st = 0
  d.due = due
  putd(m, d)
  redis.call('ZADD', base .. 'w:' .. d.fn, due, m)
end
local function kill(m, d, now, err)
  unindex(m, d)
  if d.grp ~= '' then redis.call('ZREM', gkey(d.fn, d.grp), m) end
  d.st = 2
  d.due = now
  d.err = err
  putd(m, d)
  redis.call('ZADD', base .. 'x:' .. d.fn, now, m)
  redis.call('ZADD', base .. 'dead', tonumber(m), m)
end
local function remove(m, release)
  local d = getd(m)
  if not d then return false end
  unindex(m, d)
  if d.grp ~= '' then redis.call('ZREM', gkey(d.fn, d.grp), m) end
  redis.call('HDEL', base .. 'd', m)
  if release then
    local left = redis.call('HINCRBY', base .. 'evn', d.eid, -1)
    if left <= 0 then
      redis.call('HDEL', base .. 'ev', d.eid)
      redis.call('HDEL', base .. 'evn', d.eid)
    end
  end
  return true
end
`

/**
 * ARGV: now, idempotency ttl, n, then n times (event id, data, key|'', group|'', delay, traceparent|'',
 * baggage|''). Returns n times (event id, duplicate 0|1, deliveries).
 */
export const ENQUEUE = `${PRELUDE}
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local subs = nil
local out = {}
local i = 4
for _ = 1, n do
  local eid, data, key, grp, delay, tp, bg = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6]
  i = i + 7
  local dup = nil
  if key ~= '' then
    local seen = redis.call('HGET', base .. 'idem', key)
    if seen then
      local exp = redis.call('ZSCORE', base .. 'idemx', key)
      if exp and tonumber(exp) > now then dup = seen end
    end
  end
  if dup then
    out[#out + 1] = dup; out[#out + 1] = 1; out[#out + 1] = 0
  else
    if key ~= '' then
      redis.call('HSET', base .. 'idem', key, eid)
      redis.call('ZADD', base .. 'idemx', now + ttl, key)
    end
    if subs == nil then
      subs = {}
      local all = redis.call('HGETALL', base .. 'subs')
      for j = 1, #all, 2 do
        local s = cjson.decode(all[j + 1])
        if s.exp == 0 then subs[#subs + 1] = {all[j], s.fifo} end
      end
    end
    if #subs > 0 then
      redis.call('HSET', base .. 'ev', eid, cjson.encode({data = data, grp = grp, tp = tp, bg = bg, at = now}))
      redis.call('HSET', base .. 'evn', eid, #subs)
      local due = now + delay
      for _, s in ipairs(subs) do
        local seq = redis.call('INCR', base .. 'seq')
        local m = pad(seq)
        local g = ''
        if s[2] == 1 then g = grp end
        putd(m, {fn = s[1], eid = eid, st = 0, due = due, att = 0, grp = g, first = -1, err = ''})
        redis.call('ZADD', base .. 'w:' .. s[1], due, m)
        if g ~= '' then redis.call('ZADD', gkey(s[1], g), seq, m) end
      end
    end
    out[#out + 1] = eid; out[#out + 1] = 0; out[#out + 1] = #subs
  end
end
return out
`

/**
 * ARGV: function, limit, lease deadline, now. Returns {next due|-1, then per delivery: member,
 * event id, attempt, first attempt, data, group, traceparent, baggage, emitted}.
 */
export const CLAIM = `${PRELUDE}
local fn, limit, lease, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local raw = redis.call('HGET', base .. 'subs', fn)
if not raw or limit <= 0 then return {-1} end
local fifo = cjson.decode(raw).fifo == 1
local w = base .. 'w:' .. fn
local taken = {}
if not fifo then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', w, '-inf', now, 'LIMIT', 0, limit)) do taken[#taken + 1] = {m, getd(m)} end
else
  local offset = 0
  while #taken < limit do
    local batch = redis.call('ZRANGEBYSCORE', w, '-inf', now, 'LIMIT', offset, 256)
    if #batch == 0 then break end
    for _, m in ipairs(batch) do
      local d = getd(m)
      if d.grp == '' or redis.call('ZRANGE', gkey(fn, d.grp), 0, 0)[1] == m then
        taken[#taken + 1] = {m, d}
        if #taken >= limit then break end
      end
    end
    offset = offset + #batch
  end
end
local out = {-1}
for _, t in ipairs(taken) do
  local m, d = t[1], t[2]
  redis.call('ZREM', w, m)
  d.st = 1
  d.due = lease
  d.att = d.att + 1
  if d.first < 0 then d.first = now end
  putd(m, d)
  redis.call('ZADD', base .. 'f:' .. fn, lease, m)
  local e = cjson.decode(redis.call('HGET', base .. 'ev', d.eid))
  out[#out + 1] = m; out[#out + 1] = d.eid; out[#out + 1] = d.att; out[#out + 1] = d.first
  out[#out + 1] = e.data; out[#out + 1] = e.grp; out[#out + 1] = e.tp; out[#out + 1] = e.bg; out[#out + 1] = e.at
end
if #taken < limit then
  local nxt = redis.call('ZRANGEBYSCORE', w, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #nxt > 0 then out[1] = tonumber(nxt[2]) end
end
return out
`

/** ARGV: members. Removes them (acknowledged); unknown ones are ignored. */
export const ACK = `${PRELUDE}
for _, m in ipairs(ARGV) do remove(m, true) end
return 0
`

/** ARGV: member, attempt, due, error JSON|'', count 1|0. Returns 1 when the lease was current. */
export const RETRY = `${PRELUDE}
local m, attempt, at, err, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local d = getd(m)
if not d or d.st ~= 1 or d.att ~= attempt then return 0 end
if count == '0' then d.att = d.att - 1 end
if err ~= '' then d.err = err end
requeue(m, d, at)
return 1
`

/** ARGV: member, attempt, now, error JSON. Returns 1 when the lease was current. */
export const DEAD = `${PRELUDE}
local m, attempt, now, err = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local d = getd(m)
if not d or d.st ~= 1 or d.att ~= attempt then return 0 end
kill(m, d, now, err)
return 1
`

/**
 * ARGV: after (a sequence number), function|'', limit. Returns dead letters of the topic after
 * `after` in emit order, at most `limit`: member, function, event id, data, error, attempts,
 * first attempt, failed at, group, traceparent.
 */
export const DEAD_LIST = `${PRELUDE}
local after, fn, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
local offset = 0
while #out < limit * 10 do
  local batch = redis.call('ZRANGEBYSCORE', base .. 'dead', '(' .. after, '+inf', 'LIMIT', offset, 256)
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    local d = getd(m)
    if fn == '' or d.fn == fn then
      local e = cjson.decode(redis.call('HGET', base .. 'ev', d.eid))
      out[#out + 1] = m; out[#out + 1] = d.fn; out[#out + 1] = d.eid; out[#out + 1] = e.data; out[#out + 1] = d.err
      out[#out + 1] = d.att; out[#out + 1] = d.first; out[#out + 1] = d.due; out[#out + 1] = d.grp; out[#out + 1] = e.tp
      if #out >= limit * 10 then break end
    end
  end
  offset = offset + #batch
end
return out
`

/** Selects dead letters: ARGV[2] is 'one' (ARGV[3] a member), 'all', or 'fn' (ARGV[3] a function). */
const SELECT = `
local function selected()
  local kind, arg = ARGV[2], ARGV[3]
  if kind == 'one' then
    local d = getd(arg)
    if d and d.st == 2 then return {arg} end
    return {}
  end
  local all = redis.call('ZRANGE', base .. 'dead', 0, -1)
  if kind == 'all' then return all end
  local out = {}
  for _, m in ipairs(all) do if getd(m).fn == arg then out[#out + 1] = m end end
  return out
end
`

/** ARGV: now, selector (see SELECT). Makes the letters deliveries again, behind their group. */
export const REDRIVE = `${PRELUDE}${SELECT}
local now = tonumber(ARGV[1])
local ms = selected()
for _, m in ipairs(ms) do
  local d = getd(m)
  remove(m, false)
  local seq = redis.call('INCR', base .. 'seq')
  local n = pad(seq)
  putd(n, {fn = d.fn, eid = d.eid, st = 0, due = now, att = 0, grp = d.grp, first = -1, err = ''})
  redis.call('ZADD', base .. 'w:' .. d.fn, now, n)
  if d.grp ~= '' then redis.call('ZADD', gkey(d.fn, d.grp), seq, n) end
end
return #ms
`

/** ARGV: (unused), selector (see SELECT). Deletes the letters. */
export const DISCARD = `${PRELUDE}${SELECT}
local ms = selected()
for _, m in ipairs(ms) do remove(m, true) end
return #ms
`

/**
 * ARGV: function, holder, holder lease deadline, policy JSON, fifo 1|0. Creates or updates the
 * subscription, live (not released, not expired), held by `holder` until the deadline.
 */
export const SUBSCRIBE = `${PRELUDE}
local fn = ARGV[1]
redis.call('HSET', base .. 'hold:' .. fn, ARGV[2], ARGV[3])
redis.call('HSET', base .. 'pol', fn, ARGV[4])
redis.call('HSET', base .. 'subs', fn, cjson.encode({fifo = tonumber(ARGV[5]), rel = -1, exp = 0}))
return 0
`

/** ARGV: function, holder, now. The holder lets go; with the last holder the subscription is released. */
export const RELEASE = `${PRELUDE}
local fn, now = ARGV[1], tonumber(ARGV[3])
redis.call('HDEL', base .. 'hold:' .. fn, ARGV[2])
local raw = redis.call('HGET', base .. 'subs', fn)
if not raw or redis.call('HLEN', base .. 'hold:' .. fn) > 0 then return 0 end
local s = cjson.decode(raw)
if s.rel < 0 then
  s.rel = now
  redis.call('HSET', base .. 'subs', fn, cjson.encode(s))
end
return 1
`

/**
 * ARGV: now. Every in-flight delivery of the topic is waiting again, due now, and every
 * subscription has no holder and is released at `now` unless it already was (one engine only).
 */
export const RECOVER = `${PRELUDE}
local now = tonumber(ARGV[1])
local all = redis.call('HGETALL', base .. 'subs')
for j = 1, #all, 2 do
  local fn, s = all[j], cjson.decode(all[j + 1])
  for _, m in ipairs(redis.call('ZRANGE', base .. 'f:' .. fn, 0, -1)) do
    requeue(m, getd(m), now)
  end
  redis.call('DEL', base .. 'hold:' .. fn)
  if s.rel < 0 then
    s.rel = now
    redis.call('HSET', base .. 'subs', fn, cjson.encode(s))
  end
end
return 0
`

/**
 * ARGV: now, subscription ttl, dead-letter retention, holder, holder lease deadline, then the
 * functions this holder holds (renewed). Holders whose lease ran out are dropped (a subscription
 * losing its last one is released when that lease ended); released subscriptions past the TTL
 * expire (their waiting and in-flight deliveries die with function_not_found); dead letters past
 * retention and idempotency keys past their TTL are deleted; lost leases are given back.
 * Returns {expired, purged, unleased}.
 */
export const SWEEP = `${PRELUDE}
local now, ttl, retention, holder, holdUntil = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
for i = 6, #ARGV do redis.call('HSET', base .. 'hold:' .. ARGV[i], holder, holdUntil) end
local expired, purged, unleased = 0, 0, 0
local all = redis.call('HGETALL', base .. 'subs')
for j = 1, #all, 2 do
  local fn, s = all[j], cjson.decode(all[j + 1])
  local changed = false
  local hk = base .. 'hold:' .. fn
  local holders = redis.call('HGETALL', hk)
  local last = -1
  for h = 1, #holders, 2 do
    local until_ms = tonumber(holders[h + 1])
    if until_ms <= now then
      redis.call('HDEL', hk, holders[h])
      if until_ms > last then last = until_ms end
    end
  end
  if last >= 0 and s.rel < 0 and redis.call('HLEN', hk) == 0 then
    s.rel = last
    changed = true
  end
  if s.exp == 0 and s.rel >= 0 and s.rel <= now - ttl then
    s.exp = 1
    changed = true
    local err = cjson.encode({code = 'function_not_found', message = 'no worker subscribed the function again within subscription_ttl_ms (' .. ttl .. ' ms)'})
    for _, set in ipairs({'w:', 'f:'}) do
      for _, m in ipairs(redis.call('ZRANGE', base .. set .. fn, 0, -1)) do
        kill(m, getd(m), now, err)
        expired = expired + 1
      end
    end
  end
  if changed then redis.call('HSET', base .. 'subs', fn, cjson.encode(s)) end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', base .. 'x:' .. fn, '-inf', now - retention)) do
    if remove(m, true) then purged = purged + 1 end
  end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', base .. 'f:' .. fn, '-inf', now)) do
    requeue(m, getd(m), now)
    unleased = unleased + 1
  end
end
for _, k in ipairs(redis.call('ZRANGEBYSCORE', base .. 'idemx', '-inf', now)) do
  redis.call('HDEL', base .. 'idem', k)
  redis.call('ZREM', base .. 'idemx', k)
end
return {expired, purged, unleased}
`

/** ARGV: now. Returns per subscription: function, pending, in flight, delayed, dead. */
export const STATS = `${PRELUDE}
local now = ARGV[1]
local out = {}
for _, fn in ipairs(redis.call('HKEYS', base .. 'subs')) do
  local w = base .. 'w:' .. fn
  out[#out + 1] = fn
  out[#out + 1] = redis.call('ZCOUNT', w, '-inf', now)
  out[#out + 1] = redis.call('ZCARD', base .. 'f:' .. fn)
  out[#out + 1] = redis.call('ZCOUNT', w, '(' .. now, '+inf')
  out[#out + 1] = redis.call('ZCARD', base .. 'x:' .. fn)
end
return out
`
