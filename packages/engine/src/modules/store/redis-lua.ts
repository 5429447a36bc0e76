/**
 * The Lua scripts of the `redis` adapter. Each runs atomically inside Redis, which is what makes
 * every write of the adapter one step, on one Redis or many engines alike.
 *
 * Keys of one group (KEYS[1] its items hash, KEYS[2] its transition counter) share a hash tag,
 * so a script never crosses a cluster slot. A write that makes a group non-empty or empty
 * returns `transition` (1 or -1) and the counter's new value `ver`; the adapter then records it
 * in the scope's group index with {@link INDEX}, which applies transitions in `ver` order.
 *
 * `UPDATE` applies the ops of `ops.ts` with the same semantics and error messages. It does not
 * use Redis's bundled cjson for the stored value because Redis 7.0's cjson rounds numbers to 14
 * digits, turns `[]` into `{}` and reorders keys; the small codec below keeps every untouched
 * number, string and key exactly as stored (cjson only decodes the op list, which holds strings
 * and numbers that it decodes exactly).
 */

/** Shared by the item scripts: records a group becoming non-empty (1) or empty (-1). */
const TRANSITION = `
local function transition(dir)
  return dir, redis.call('INCR', KEYS[2])
end
local function after_add(old)
  if not old and redis.call('HLEN', KEYS[1]) == 1 then return transition(1) end
  return 0, 0
end
local function after_remove()
  if redis.call('HLEN', KEYS[1]) == 0 then return transition(-1) end
  return 0, 0
end
`

/** ARGV: item, JSON text. Returns {old text|nil, transition, ver}. */
export const SET = `${TRANSITION}
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local dir, ver = after_add(old)
return {old, dir, ver}
`

/** ARGV: item. Returns {old text|nil, transition, ver}. */
export const DELETE = `${TRANSITION}
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return {false, 0, 0} end
redis.call('HDEL', KEYS[1], ARGV[1])
local dir, ver = after_remove()
return {old, dir, ver}
`

/** Returns {transition, ver, item1, value1, item2, value2, ...}. */
export const CLEAR = `${TRANSITION}
local all = redis.call('HGETALL', KEYS[1])
if #all == 0 then return {0, 0} end
redis.call('DEL', KEYS[1])
local dir, ver = transition(-1)
local out = {dir, ver}
for i = 1, #all do out[i + 2] = all[i] end
return out
`

/**
 * Compare-and-set, for updates whose result is finished in the engine (`finish`). ARGV: item,
 * '1' + expected text or '0' when the item is expected missing, '1' + new text or '0' to
 * delete. Returns {'ok', transition, ver} or {'retry', current text|nil}.
 */
export const CAS = `${TRANSITION}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local want = ARGV[2]
if (want == '0' and cur) or (want ~= '0' and cur ~= string.sub(want, 2)) then return {'retry', cur} end
if ARGV[3] == '0' then
  if not cur then return {'ok', 0, 0} end
  redis.call('HDEL', KEYS[1], ARGV[1])
  local dir, ver = after_remove()
  return {'ok', dir, ver}
end
redis.call('HSET', KEYS[1], ARGV[1], string.sub(ARGV[3], 2))
local dir, ver = after_add(cur)
return {'ok', dir, ver}
`

/**
 * KEYS: the scope's group index (sorted set, all scores 0, so ordered by bytes = code points)
 * and its hash of last applied versions. ARGV: group, ver, transition. A transition older than
 * the last one applied for the group is ignored.
 */
export const INDEX = `
local seen = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local ver = tonumber(ARGV[2])
if ver <= seen then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[1], 0, ARGV[1]) else redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`

/** An order-keeping JSON codec over JSON.stringify output: values stay as their source text. */
const CODEC = `
local NULL = {t = 'z'}
local sfind, ssub = string.find, string.sub
local function ws(s, i) return sfind(s, '[^ \\t\\r\\n]', i) or (#s + 1) end
local function str(s, i)
  local j = i + 1
  while true do
    local k = sfind(s, '["\\\\]', j)
    if not k then error('unterminated string') end
    if ssub(s, k, k) == '"' then return ssub(s, i, k), k + 1 end
    j = k + 2
  end
end
local decode
decode = function(s, i)
  i = ws(s, i)
  local c = ssub(s, i, i)
  if c == '{' then
    local node = {t = 'o', k = {}, v = {}}
    i = ws(s, i + 1)
    if ssub(s, i, i) == '}' then return node, i + 1 end
    while true do
      local key, val
      key, i = str(s, ws(s, i))
      i = ws(s, i) + 1
      val, i = decode(s, i)
      if node.v[key] == nil then node.k[#node.k + 1] = key end
      node.v[key] = val
      i = ws(s, i)
      local d = ssub(s, i, i)
      i = i + 1
      if d == '}' then return node, i end
    end
  elseif c == '[' then
    local node = {t = 'a', n = 0}
    i = ws(s, i + 1)
    if ssub(s, i, i) == ']' then return node, i + 1 end
    while true do
      local val
      val, i = decode(s, i)
      node.n = node.n + 1
      node[node.n] = val
      i = ws(s, i)
      local d = ssub(s, i, i)
      i = i + 1
      if d == ']' then return node, i end
    end
  elseif c == '"' then
    local lit
    lit, i = str(s, i)
    return {t = 's', s = lit}, i
  elseif c == 't' then return {t = 'b', s = 'true'}, i + 4
  elseif c == 'f' then return {t = 'b', s = 'false'}, i + 5
  elseif c == 'n' then return NULL, i + 4
  end
  local a, b = sfind(s, '^-?[%d.eE+-]+', i)
  if not a then error('bad JSON at ' .. i) end
  return {t = 'n', s = ssub(s, a, b)}, b + 1
end
local encode
encode = function(node, out)
  local t = node.t
  if t == 'o' then
    out[#out + 1] = '{'
    for j, key in ipairs(node.k) do
      if j > 1 then out[#out + 1] = ',' end
      out[#out + 1] = key
      out[#out + 1] = ':'
      encode(node.v[key], out)
    end
    out[#out + 1] = '}'
  elseif t == 'a' then
    out[#out + 1] = '['
    for j = 1, node.n do
      if j > 1 then out[#out + 1] = ',' end
      encode(node[j], out)
    end
    out[#out + 1] = ']'
  elseif t == 'z' then out[#out + 1] = 'null'
  else out[#out + 1] = node.s end
end
local function number_text(x)
  if x == 0 then return '0' end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format('%d', x) end
  for p = 15, 17 do
    local s = string.format('%.' .. p .. 'g', x)
    if tonumber(s) == x then return s end
  end
  return string.format('%.17g', x)
end
`

/**
 * ARGV: item, max value bytes, ops as JSON: [{type, segs, lits, idx, value?, by?}] where
 * `segs` are the path segments, `lits` their JSON string literals (object keys are compared as
 * literals) and `idx` each segment as an array index or -1. Returns {'ok', old|nil, new|nil,
 * transition, ver}, {'bad', message} (nothing written) or {'big', bytes} (nothing written).
 */
export const UPDATE = `${TRANSITION}${CODEC}
local function absent(n) return n == nil or n == NULL end
local function bad(msg) error({msg}) end
local function joined(op, last)
  local parts = {}
  for j = 1, last do parts[j] = op.segs[j] end
  return table.concat(parts, '.')
end
local function or_root(s) if s == '' then return '(root)' end return s end
local function get_at(node, op)
  for j = 1, #op.segs do
    if absent(node) then return nil end
    if node.t == 'a' then
      local ix = op.idx[j]
      if ix < 0 or ix >= node.n then return nil end
      node = node[ix + 1]
    elseif node.t == 'o' then node = node.v[op.lits[j]]
    else return nil end
  end
  if node == NULL then return nil end
  return node
end
local function set_at(node, op, j, value, where)
  if j > #op.segs then return value end
  if absent(node) then node = {t = 'o', k = {}, v = {}} end
  if node.t == 'a' then
    local ix = op.idx[j]
    if ix < 0 or ix > node.n then
      bad(where .. ': "' .. joined(op, j) .. '" is not a valid index of the array there')
    end
    node[ix + 1] = set_at(node[ix + 1], op, j + 1, value, where)
    if ix == node.n then node.n = node.n + 1 end
    return node
  end
  if node.t ~= 'o' then
    bad(where .. ': cannot set "' .. joined(op, #op.segs) .. '" because "' .. or_root(joined(op, j - 1)) .. '" is not an object')
  end
  local key = op.lits[j]
  if node.v[key] == nil then node.k[#node.k + 1] = key end
  node.v[key] = set_at(node.v[key], op, j + 1, value, where)
  return node
end
local function remove_at(node, op, j)
  if absent(node) or #op.segs == 0 then return node end
  local last = j == #op.segs
  if node.t == 'a' then
    local ix = op.idx[j]
    if ix < 0 or ix >= node.n then return node end
    if last then
      table.remove(node, ix + 1)
      node.n = node.n - 1
    else node[ix + 1] = remove_at(node[ix + 1], op, j + 1) end
    return node
  end
  local key = op.lits[j]
  if node.t ~= 'o' or node.v[key] == nil then return node end
  if last then
    node.v[key] = nil
    local keys = {}
    for _, k in ipairs(node.k) do if k ~= key then keys[#keys + 1] = k end end
    node.k = keys
  else node.v[key] = remove_at(node.v[key], op, j + 1) end
  return node
end
local TYPE = {a = 'array', o = 'object', s = 'string', b = 'boolean'}
local function apply(value, op, where)
  if op.type == 'set' then
    return set_at(value, op, 1, decode(op.value, 1), where)
  elseif op.type == 'merge' then
    local target = get_at(value, op)
    if target ~= nil and target.t ~= 'o' then
      bad(where .. ': cannot merge into "' .. or_root(joined(op, #op.segs)) .. '" because it is not an object')
    end
    target = target or {t = 'o', k = {}, v = {}}
    local add = decode(op.value, 1)
    for _, key in ipairs(add.k) do
      if target.v[key] == nil then target.k[#target.k + 1] = key end
      target.v[key] = add.v[key]
    end
    return set_at(value, op, 1, target, where)
  elseif op.type == 'increment' or op.type == 'decrement' then
    local cur = get_at(value, op)
    if cur ~= nil and cur.t ~= 'n' then
      bad(where .. ': cannot ' .. op.type .. ' "' .. or_root(joined(op, #op.segs)) .. '" because it holds a ' .. TYPE[cur.t])
    end
    local n = 0
    if cur ~= nil then n = tonumber(cur.s) end
    local x
    if op.type == 'increment' then x = n + op.by else x = n - op.by end
    if x ~= x or x == math.huge or x == -math.huge then bad(where .. ': the result is not a finite number') end
    return set_at(value, op, 1, {t = 'n', s = number_text(x)}, where)
  end
  return remove_at(value, op, 1)
end

local old = redis.call('HGET', KEYS[1], ARGV[1])
local ops = cjson.decode(ARGV[3])
local value = nil
if old then value = decode(old, 1) end
local ok, err = pcall(function()
  for n, op in ipairs(ops) do value = apply(value, op, 'update: ops[' .. (n - 1) .. ']') end
end)
if not ok then
  if type(err) == 'table' then return {'bad', err[1]} end
  error(err)
end
if absent(value) then
  if not old then return {'ok', false, false, 0, 0} end
  redis.call('HDEL', KEYS[1], ARGV[1])
  local dir, ver = after_remove()
  return {'ok', old, false, dir, ver}
end
local out = {}
encode(value, out)
local text = table.concat(out)
if #text > tonumber(ARGV[2]) then return {'big', #text} end
redis.call('HSET', KEYS[1], ARGV[1], text)
local dir, ver = after_add(old)
return {'ok', old, text, dir, ver}
`
