package sessions

// The Lua implementation of the session operations on plain Redis: what a user builds today when
// they want atomic sessions without sessiond. One script per operation, loaded with SCRIPT LOAD
// and run with EVALSHA. Layout:
//
//	sess:t:<sha1(token)>  string  the session's handle; after a rotation, for the grace period:
//	                              "r|<handle>|<old nonce>|<successor token>|<new nonce>"
//	sess:h:<handle>       hash    owner data nonce created last_seen idle deadline tok
//	sess:o:<owner>        set     handles of the owner's sessions
//
// Times are Unix ms from the server's clock (TIME). A session expires at
// min(last_seen+idle, created+absolute): every touch PEXPIREATs the hash and the token key to that
// instant, so the absolute deadline caps the sliding one. The token is stored only as its SHA-1
// (redis.sha1hex is the only digest a script has), the client draws the random token and handle
// (scripts have no good randomness), and rotation is one script: check the nonce, bind the new
// token, park the old one for the grace period with its successor, bump the nonce.
//
// Simplification against sessiond (documented in bench/README.md): after the grace period a
// rotated-out token is simply unknown, not detected as a replay.

const luaCreate = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token, handle, owner, data = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local idle = tonumber(ARGV[5]) * 1000
local absolute = tonumber(ARGV[6]) * 1000
if string.len(token) < 22 then return redis.error_reply('ERR token too short') end
local tk = 'sess:t:' .. redis.sha1hex(token)
if redis.call('EXISTS', tk) == 1 then return redis.error_reply('ERR token in use') end
local hk = 'sess:h:' .. handle
local deadline = 0
if absolute > 0 then deadline = now + absolute end
local exp = deadline
if idle > 0 and (exp == 0 or now + idle < exp) then exp = now + idle end
redis.call('HSET', hk, 'owner', owner, 'data', data, 'nonce', 1, 'created', now, 'last_seen', now,
  'idle', idle, 'deadline', deadline, 'tok', tk)
redis.call('SET', tk, handle)
if exp > 0 then
  redis.call('PEXPIREAT', hk, exp)
  redis.call('PEXPIREAT', tk, exp)
end
if owner ~= '' then
  local ok = 'sess:o:' .. owner
  redis.call('SADD', ok, handle)
  if deadline == 0 then
    redis.call('PERSIST', ok)
  else
    local pt = redis.call('PTTL', ok)
    if pt == -1 or pt < absolute then redis.call('PEXPIREAT', ok, deadline) end
  end
end
return {'token', token, 'handle', handle, 'nonce', 1, 'expires', exp, 'idle', idle, 'absolute', absolute}
`

// luaGet: ARGV token, touch (1/0). Returns the data, or nil when the token is not valid.
const luaGet = `
local tk = 'sess:t:' .. redis.sha1hex(ARGV[1])
local h = redis.call('GET', tk)
if not h or string.sub(h, 1, 2) == 'r|' then return false end
local hk = 'sess:h:' .. h
local f = redis.call('HMGET', hk, 'data', 'idle', 'deadline')
if not f[1] then return false end
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local idle, deadline = tonumber(f[2]), tonumber(f[3])
  local exp = deadline
  if idle > 0 and (exp == 0 or now + idle < exp) then exp = now + idle end
  if exp ~= 0 and exp <= now then return false end
  redis.call('HSET', hk, 'last_seen', now)
  if exp > 0 then
    redis.call('PEXPIREAT', hk, exp)
    redis.call('PEXPIREAT', tk, exp)
  end
end
return f[1]
`

// luaTouch: ARGV token. Returns the remaining ms, -1 when the session has no deadline, -2 when the
// token is not valid.
const luaTouch = `
local tk = 'sess:t:' .. redis.sha1hex(ARGV[1])
local h = redis.call('GET', tk)
if not h or string.sub(h, 1, 2) == 'r|' then return -2 end
local hk = 'sess:h:' .. h
local f = redis.call('HMGET', hk, 'idle', 'deadline')
if not f[1] then return -2 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle, deadline = tonumber(f[1]), tonumber(f[2])
local exp = deadline
if idle > 0 and (exp == 0 or now + idle < exp) then exp = now + idle end
if exp == 0 then
  redis.call('HSET', hk, 'last_seen', now)
  return -1
end
if exp <= now then return -2 end
redis.call('HSET', hk, 'last_seen', now)
redis.call('PEXPIREAT', hk, exp)
redis.call('PEXPIREAT', tk, exp)
return exp - now
`

// luaValidate: ARGV token, nonce, successor token (drawn by the client), grace ms.
const luaValidate = `
local tk = 'sess:t:' .. redis.sha1hex(ARGV[1])
local h = redis.call('GET', tk)
if not h then return {'ok', 0, 'reason', 'unknown'} end
if string.sub(h, 1, 2) == 'r|' then
  local p = {}
  for part in string.gmatch(h, '[^|]+') do p[#p + 1] = part end
  if p[3] == ARGV[2] then
    local exp = redis.call('PEXPIRETIME', 'sess:h:' .. p[2])
    if exp == -2 then return {'ok', 0, 'reason', 'unknown'} end
    return {'ok', 1, 'token', p[4], 'nonce', tonumber(p[5]), 'expires', exp}
  end
  return {'ok', 0, 'reason', 'replayed'}
end
local hk = 'sess:h:' .. h
local f = redis.call('HMGET', hk, 'nonce', 'idle', 'deadline')
if not f[1] then return {'ok', 0, 'reason', 'unknown'} end
if f[1] ~= ARGV[2] then return {'ok', 0, 'reason', 'nonce'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle, deadline = tonumber(f[2]), tonumber(f[3])
local exp = deadline
if idle > 0 and (exp == 0 or now + idle < exp) then exp = now + idle end
if exp ~= 0 and exp <= now then return {'ok', 0, 'reason', 'expired'} end
local ntk = 'sess:t:' .. redis.sha1hex(ARGV[3])
if redis.call('EXISTS', ntk) == 1 then return redis.error_reply('ERR token in use') end
local n = tonumber(f[1]) + 1
redis.call('HSET', hk, 'nonce', n, 'last_seen', now, 'tok', ntk)
redis.call('SET', ntk, h)
local grace = tonumber(ARGV[4])
if exp > 0 then
  redis.call('PEXPIREAT', hk, exp)
  redis.call('PEXPIREAT', ntk, exp)
  if exp - now < grace then grace = exp - now end
end
redis.call('SET', tk, 'r|' .. h .. '|' .. f[1] .. '|' .. ARGV[3] .. '|' .. n, 'PX', grace)
return {'ok', 1, 'token', ARGV[3], 'nonce', n, 'expires', exp}
`

// luaRevokeOwner: ARGV owner. Returns the number of live sessions revoked.
const luaRevokeOwner = `
local ok = 'sess:o:' .. ARGV[1]
local hs = redis.call('SMEMBERS', ok)
local n = 0
for _, h in ipairs(hs) do
  local hk = 'sess:h:' .. h
  local tk = redis.call('HGET', hk, 'tok')
  if tk then
    redis.call('DEL', tk, hk)
    n = n + 1
  end
end
redis.call('DEL', ok)
return n
`
