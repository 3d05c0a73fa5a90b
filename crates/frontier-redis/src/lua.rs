//! The Lua scripts. Each runs on one slot: `KEYS[1]` is the key prefix of a shard
//! (`gf:{<crawl>:<shard>}:`), of the crawl (`gf:{<crawl>}:`) or of a worker
//! (`gf:{<crawl>:w:<worker>}:`), and every key a script touches starts with it.
//!
//! Every script is idempotent under a re-send (redis-rs cluster connections re-send a
//! command whose reply was lost): enqueue re-tests the seen-set, a prepare already done by
//! the same worker and batch answers "accepted" again, reservations are keyed by a request
//! id, commits and aborts compare batch numbers. Time is always the server's (`TIME`).
//!
//! Records in a host queue: `attempts \t depth \t url \t referrer [\t last error]`.
//! Prepared entries (`pp`, field = url): `worker \t batch \t outcome \t host \t reason \t record`.

/// Helpers shared by the shard scripts.
const PRELUDE: &str = r#"
local P = KEYS[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split(s, n)
  local out, i = {}, 1
  while true do
    if n and #out == n - 1 then out[#out + 1] = string.sub(s, i); return out end
    local j = string.find(s, '\t', i, true)
    if not j then out[#out + 1] = string.sub(s, i); return out end
    out[#out + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end
local function num(v) return tonumber(v or '0') or 0 end
-- Adds n to a counter of `st`. Never passes 0: Lua's `-#{}` is -0, which Redis reads as
-- "-0" and refuses ("value is not an integer").
local function bump(field, n)
  if n ~= 0 then redis.call('HINCRBY', P .. 'st', field, n) end
end
local function hint()
  local v = redis.call('INCR', P .. 'ver')
  local r = redis.call('ZRANGE', P .. 'ready', 0, 0, 'WITHSCORES')
  local d = redis.call('ZRANGE', P .. 'dl', 0, 0, 'WITHSCORES')
  local l = redis.call('ZRANGE', P .. 'lease', 0, 0, 'WITHSCORES')
  local o = redis.call('ZRANGE', P .. 'oz', 0, 0, 'WITHSCORES')
  local ready = r[2] or '-1'
  if d[2] and (ready == '-1' or tonumber(d[2]) < tonumber(ready)) then ready = d[2] end
  local lease = l[2] or '-1'
  if o[2] and (lease == '-1' or tonumber(o[2]) < tonumber(lease)) then lease = o[2] end
  return {v, ready, lease}
end
-- Puts a host with queued URLs back in `ready` unless it is leased.
local function wake(host, now)
  local hk = P .. 'h:' .. host
  if redis.call('HEXISTS', hk, 't') == 1 then return end
  if redis.call('LLEN', P .. 'q:' .. host) == 0 then return end
  local s = redis.call('HMGET', hk, 'nx', 'b')
  local at = math.max(num(s[1]), num(s[2]), now or 0)
  redis.call('ZADD', P .. 'ready', 'NX', at, host)
end
-- A URL handed out and not finished counts a failed attempt and goes back to its queue
-- (front) or, at the attempt limit, to the dead-letter list. Returns 1 if dead-lettered.
local function requeue(host, rec, err, maxatt)
  local f = split(rec)
  local att = num(f[1]) + 1
  if att >= maxatt then
    redis.call('RPUSH', P .. 'dead', f[3] .. '\t' .. att .. '\t' .. err .. '\t' .. host)
    bump('z', 1)
    return 1
  end
  redis.call('LPUSH', P .. 'q:' .. host, att .. '\t' .. f[2] .. '\t' .. f[3] .. '\t' .. (f[4] or '') .. '\t' .. err)
  bump('q', 1)
  return 0
end
-- Returns the expired leases of this shard (at most `max` hosts) to their queues.
local function reap(now, max, maxatt)
  local hosts = redis.call('ZRANGEBYSCORE', P .. 'lease', '-inf', now, 'LIMIT', 0, max)
  local dead = 0
  for _, host in ipairs(hosts) do
    local fl = P .. 'f:' .. host
    local recs = redis.call('HVALS', fl)
    -- HVALS keeps claim order; pushing to the front in reverse keeps it in the queue.
    for i = #recs, 1, -1 do dead = dead + requeue(host, recs[i], 'lease expired', maxatt) end
    bump('f', -#recs)
    redis.call('DEL', fl)
    redis.call('HDEL', P .. 'h:' .. host, 't', 'w', 'e')
    redis.call('ZREM', P .. 'lease', host)
    wake(host, now)
  end
  return {#hosts, dead}
end
-- Ends a lease for good: the host goes back to `ready` (after its delay).
local function finish_lease(host, now)
  redis.call('HDEL', P .. 'h:' .. host, 't', 'w', 'e')
  redis.call('ZREM', P .. 'lease', host)
  wake(host, now)
end
-- Ends the leases given from ARGV[first] on as (host, token, delay ms, throttle ms or -1,
-- mode, lease ms)*: mode 'r' returns URLs still in flight to the queue front (no attempt
-- counted); 'd' leaves them in flight, completable under the ended lease's token, as
-- *orphans* (`or`: url -> token, worker, host, record; `oz`: url by expiry) that the reaper
-- returns to their queues if they are not completed within a lease length. Either way the
-- host is due again after its delay. Returns per host its next allowed time, or -1 if fenced.
local function release(first, now)
  local out = {}
  for i = first, #ARGV, 6 do
    local host = ARGV[i]
    local hk = P .. 'h:' .. host
    local tok = ARGV[i + 1]
    if redis.call('HGET', hk, 't') ~= tok then
      out[#out + 1] = -1
    else
      local fl = P .. 'f:' .. host
      local recs = redis.call('HVALS', fl)
      if ARGV[i + 4] == 'r' then
        for j = #recs, 1, -1 do redis.call('LPUSH', P .. 'q:' .. host, recs[j]) end
        if #recs > 0 then
          bump('f', -#recs)
          bump('q', #recs)
        end
      else
        local w = redis.call('HGET', hk, 'w') or ''
        local exp = now + tonumber(ARGV[i + 5])
        for _, rec in ipairs(recs) do
          local url = split(rec)[3]
          redis.call('HSET', P .. 'or', url, tok .. '\t' .. w .. '\t' .. host .. '\t' .. rec)
          redis.call('ZADD', P .. 'oz', exp, url)
        end
      end
      redis.call('DEL', fl)
      local nx = now + tonumber(ARGV[i + 2])
      redis.call('HSET', hk, 'nx', nx)
      if tonumber(ARGV[i + 3]) >= 0 then redis.call('HSET', hk, 'th', ARGV[i + 3]) end
      finish_lease(host, now)
      out[#out + 1] = math.max(nx, num(redis.call('HGET', hk, 'b')))
    end
  end
  return out
end
-- An orphan of lease `tok` (see `release`): its record, removed from the orphans; or nil.
local function take_orphan(url, tok)
  local o = redis.call('HGET', P .. 'or', url)
  if not o then return nil end
  local e = split(o, 4)
  if e[1] ~= tok then return nil end
  redis.call('HDEL', P .. 'or', url)
  redis.call('ZREM', P .. 'oz', url)
  return e[4]
end
-- Orphans past their expiry (their holder died) go back to their queues, one attempt more.
local function reap_orphans(now, max, maxatt)
  local urls = redis.call('ZRANGEBYSCORE', P .. 'oz', '-inf', now, 'LIMIT', 0, max)
  local dead = 0
  for _, url in ipairs(urls) do
    local e = split(redis.call('HGET', P .. 'or', url) or '', 4)
    redis.call('HDEL', P .. 'or', url)
    redis.call('ZREM', P .. 'oz', url)
    if e[4] then
      dead = dead + requeue(e[3], e[4], 'lease expired', maxatt)
      bump('f', -1)
      wake(e[3], now)
    end
  end
  return {#urls, dead}
end
-- URLs whose retry delay has passed go back to the back of their host queues (bounded).
local function undelay(now, max)
  local due = redis.call('ZRANGEBYSCORE', P .. 'dl', '-inf', now, 'LIMIT', 0, max)
  for _, m in ipairs(due) do
    local j = string.find(m, '\t', 1, true)
    local host = string.sub(m, 1, j - 1)
    redis.call('RPUSH', P .. 'q:' .. host, string.sub(m, j + 1))
    redis.call('ZREM', P .. 'dl', m)
    wake(host, now)
  end
end
"#;

/// Seen-test only (a probe before reserving page-limit budget).
/// ARGV: (bucket, field)*. Returns 1 for each pair already seen, else 0.
pub(crate) const PROBE: &str = r#"
local out = {}
for i = 1, #ARGV, 2 do
  out[#out + 1] = redis.call('HEXISTS', P .. 's:' .. ARGV[i], ARGV[i + 1])
end
return out
"#;

/// Seen-test + push + ready-insert.
/// ARGV: budget (-1: unlimited), max per host (-1: none), request id ('' : none),
/// (host, bucket, field, record)*. Returns {added, duplicates, capped, hint, over-budget
/// indices (0-based)}. With a request id, a re-sent call answers the first call's counts
/// (the page-limit accounting must not see a re-send's "all duplicates").
pub(crate) const ENQUEUE: &str = r#"
local budget = tonumber(ARGV[1])
local maxh = tonumber(ARGV[2])
local rq = ARGV[3]
if rq ~= '' then
  local prev = redis.call('GET', P .. 'rq:' .. rq)
  if prev then
    local f = split(prev)
    local over = {}
    for i = 4, #f do over[#over + 1] = tonumber(f[i]) end
    return {tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), hint(), over}
  end
end
local added, dup, capped, over = 0, 0, 0, {}
local touched = {}
for i = 4, #ARGV, 4 do
  local host, sk, f, rec = ARGV[i], P .. 's:' .. ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if redis.call('HEXISTS', sk, f) == 1 then
    dup = dup + 1
  elseif budget == 0 then
    over[#over + 1] = (i - 4) / 4
  else
    local hk = P .. 'h:' .. host
    if maxh >= 0 and num(redis.call('HGET', hk, 'n')) >= maxh then
      capped = capped + 1
    else
      redis.call('HSET', sk, f, '')
      if maxh >= 0 then redis.call('HINCRBY', hk, 'n', 1) end
      redis.call('RPUSH', P .. 'q:' .. host, rec)
      added = added + 1
      if budget > 0 then budget = budget - 1 end
      touched[host] = true
    end
  end
end
for host, _ in pairs(touched) do wake(host, 0) end
if added > 0 then
  bump('q', added)
  bump('a', added)
end
if rq ~= '' then
  local memo = added .. '\t' .. dup .. '\t' .. capped
  for _, o in ipairs(over) do memo = memo .. '\t' .. o end
  redis.call('SET', P .. 'rq:' .. rq, memo, 'EX', 60)
end
return {added, dup, capped, hint(), over}
"#;

/// Claim due hosts of this shard under fresh leases (after reaping its expired leases).
/// ARGV: worker, max hosts, max urls per host, lease ms, max attempts, reap max, robots ttl ms.
/// Returns {hint, {host, token, lease expiry, robots, robots age ms or -1, throttle ms, {record*}}*}.
pub(crate) const CLAIM: &str = r#"
local worker, maxh, maxu = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lease_ms, maxatt, reapmax, rttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()
reap(now, reapmax, maxatt)
reap_orphans(now, reapmax, maxatt)
undelay(now, reapmax)
local out = {}
local hosts = redis.call('ZRANGEBYSCORE', P .. 'ready', '-inf', now, 'LIMIT', 0, maxh)
local taken = 0
for _, host in ipairs(hosts) do
  redis.call('ZREM', P .. 'ready', host)
  local recs = {}
  if maxu > 0 then recs = redis.call('LPOP', P .. 'q:' .. host, maxu) or {} end
  if #recs > 0 or (maxu == 0 and redis.call('LLEN', P .. 'q:' .. host) > 0) then
    local hk = P .. 'h:' .. host
    local tok = redis.call('INCR', P .. 'tok')
    local exp = now + lease_ms
    redis.call('HSET', hk, 't', tok, 'w', worker, 'e', exp)
    redis.call('ZADD', P .. 'lease', exp, host)
    local fl = P .. 'f:' .. host
    for _, rec in ipairs(recs) do
      redis.call('HSET', fl, split(rec)[3], rec)
    end
    taken = taken + #recs
    local s = redis.call('HMGET', hk, 'r', 'ra', 'th')
    local age = -1
    if s[2] and now - num(s[2]) <= rttl then age = now - num(s[2]) end
    local robots = ''
    if age >= 0 then robots = s[1] or '' end
    out[#out + 1] = {host, tok, exp, robots, age, num(s[3]), recs}
  end
end
if taken > 0 then
  bump('q', -taken)
  bump('f', taken)
end
return {hint(), out}
"#;

/// Extends a lease. ARGV: host, token, lease ms. Returns the new expiry, or -1 if fenced.
pub(crate) const RENEW: &str = r#"
local hk = P .. 'h:' .. ARGV[1]
if redis.call('HGET', hk, 't') ~= ARGV[2] then return -1 end
local exp = now_ms() + tonumber(ARGV[3])
redis.call('HSET', hk, 'e', exp)
redis.call('ZADD', P .. 'lease', 'XX', exp, ARGV[1])
return exp
"#;

/// Phase 1 of a completion: moves finished URLs of live leases to `pp`, tagged with the
/// worker and its batch. ARGV: worker, batch, (host, token, url, outcome, reason)*.
/// Returns 1 (accepted) or 0 (fenced) per page.
pub(crate) const PREPARE: &str = r#"
local worker, batch = ARGV[1], ARGV[2]
local tag = worker .. '\t' .. batch .. '\t'
local out, moved = {}, 0
local tokens = {}
for i = 3, #ARGV, 5 do
  local host, tok, url, outcome, reason = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local held = tokens[host]
  if held == nil then
    held = redis.call('HGET', P .. 'h:' .. host, 't') or ''
    tokens[host] = held
  end
  local prev = redis.call('HGET', P .. 'pp', url)
  local fl = P .. 'f:' .. host
  local rec = nil
  if not prev then
    if held == tok then
      rec = redis.call('HGET', fl, url)
      if rec then redis.call('HDEL', fl, url) end
    else
      rec = take_orphan(url, tok)
    end
  end
  if prev and string.sub(prev, 1, #tag) == tag then
    out[#out + 1] = 1
  elseif rec then
    if outcome == 'q' then
      -- Cut short (shutdown): back to the queue front, no attempt counted, no record.
      redis.call('LPUSH', P .. 'q:' .. host, rec)
      bump('f', -1)
      bump('q', 1)
      wake(host, now_ms())
    else
      redis.call('HSET', P .. 'pp', url, tag .. outcome .. '\t' .. host .. '\t' .. reason .. '\t' .. rec)
      moved = moved + 1
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if moved > 0 then
  bump('f', -moved)
  bump('p', moved)
end
return out
"#;

/// Phase 2: resolves a worker's prepared entries of this shard against its decision.
/// ARGV: worker, last committed batch, requeue the rest (1/0), max attempts.
/// Entries of batches <= committed become done/failed/skipped; later ones are requeued
/// (only when told: the worker slot has recorded them as aborted). Then ends the leases
/// given from ARGV[5] on, as RELEASE. Returns {done, requeued, hint, release results}.
pub(crate) const RESOLVE: &str = r#"
local worker, committed, rest, maxatt = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local all = redis.call('HGETALL', P .. 'pp')
local done, requeued = 0, 0
local now = now_ms()
local counts = {d = 0, x = 0, k = 0}
local gone = {}
for i = 1, #all, 2 do
  local e = split(all[i + 1], 6)
  if e[1] == worker then
    local b = tonumber(e[2])
    if b <= committed then
      gone[#gone + 1] = all[i]
      local c = e[3]
      if counts[c] == nil then c = 'x' end
      counts[c] = counts[c] + 1
      if e[5] ~= '' then redis.call('HINCRBY', P .. 'rs', e[5], 1) end
      done = done + 1
    elseif rest then
      redis.call('HDEL', P .. 'pp', all[i])
      requeue(e[4], e[6], 'completion aborted', maxatt)
      wake(e[4], now)
      requeued = requeued + 1
    end
  end
end
for i = 1, #gone, 1000 do
  redis.call('HDEL', P .. 'pp', unpack(gone, i, math.min(i + 999, #gone)))
end
for c, n in pairs(counts) do
  if n > 0 then bump(c, n) end
end
if done + requeued > 0 then bump('p', -(done + requeued)) end
local released = release(5, now)
return {done, requeued, hint(), released}
"#;

/// Ends leases (see `release` above). ARGV: (host, token, delay ms, throttle ms or -1, mode,
/// lease ms)*.
/// Returns {next allowed time or -1 if fenced, per host; hint}.
pub(crate) const RELEASE: &str = r#"
return {release(1, now_ms()), hint()}
"#;

/// Gives one URL of a lease back for a later attempt, not before `delay` ms (or
/// dead-letters it past the limit). ARGV: host, token, url, error, max attempts, delay ms.
/// Returns {0 requeued / 1 dead / -1 fenced, attempts, hint}.
pub(crate) const RETRY: &str = r#"
local host = ARGV[1]
if redis.call('HGET', P .. 'h:' .. host, 't') ~= ARGV[2] then return {-1, 0, hint()} end
local fl = P .. 'f:' .. host
local rec = redis.call('HGET', fl, ARGV[3])
if not rec then return {-1, 0, hint()} end
redis.call('HDEL', fl, ARGV[3])
bump('f', -1)
local att = num(split(rec)[1]) + 1
local dead = requeue(host, rec, ARGV[4], tonumber(ARGV[5]))
if dead == 0 then
  -- requeue() put it at the front; a retry waits its delay, then goes to the back.
  local q = P .. 'q:' .. host
  local r = redis.call('LPOP', q)
  local delay = tonumber(ARGV[6])
  if delay > 0 then
    redis.call('ZADD', P .. 'dl', now_ms() + delay, host .. '\t' .. r)
  else
    redis.call('RPUSH', q, r)
  end
end
return {dead, att, hint()}
"#;

/// Takes more URLs of a held host. ARGV: host, token, max. Returns {records} or -1 if fenced.
pub(crate) const TAKE: &str = r#"
local host = ARGV[1]
if redis.call('HGET', P .. 'h:' .. host, 't') ~= ARGV[2] then return -1 end
local recs = redis.call('LPOP', P .. 'q:' .. host, tonumber(ARGV[3]))
if not recs then return {} end
local fl = P .. 'f:' .. host
for _, rec in ipairs(recs) do redis.call('HSET', fl, split(rec)[3], rec) end
bump('q', -#recs)
bump('f', #recs)
return recs
"#;

/// Ends every lease of one worker in this shard (its restart or clean stop): URLs held go
/// back to the queue front, no attempt counted, hosts due now. ARGV: worker.
/// Returns {URLs returned, hint}.
pub(crate) const RECLAIM: &str = r#"
local now = now_ms()
local n = 0
for _, host in ipairs(redis.call('ZRANGE', P .. 'lease', 0, -1)) do
  local hk = P .. 'h:' .. host
  if redis.call('HGET', hk, 'w') == ARGV[1] then
    local fl = P .. 'f:' .. host
    local recs = redis.call('HVALS', fl)
    for j = #recs, 1, -1 do redis.call('LPUSH', P .. 'q:' .. host, recs[j]) end
    n = n + #recs
    redis.call('DEL', fl)
    redis.call('HDEL', hk, 't', 'w', 'e')
    redis.call('ZREM', P .. 'lease', host)
    wake(host, now)
  end
end
local orphans = redis.call('HGETALL', P .. 'or')
for i = 1, #orphans, 2 do
  local e = split(orphans[i + 1], 4)
  if e[2] == ARGV[1] then
    redis.call('HDEL', P .. 'or', orphans[i])
    redis.call('ZREM', P .. 'oz', orphans[i])
    redis.call('LPUSH', P .. 'q:' .. e[3], e[4])
    wake(e[3], now)
    n = n + 1
  end
end
if n > 0 then
  bump('f', -n)
  bump('q', n)
end
return {n, hint()}
"#;

/// Holds a host for every worker until now + ms (Retry-After, 429, 503).
/// ARGV: host, ms, token ('': any holder). Returns {the block's end or -1 if fenced, hint}.
pub(crate) const BLOCK: &str = r#"
local host = ARGV[1]
local hk = P .. 'h:' .. host
if ARGV[3] ~= '' and redis.call('HGET', hk, 't') ~= ARGV[3] then return {-1, hint()} end
local b = math.max(now_ms() + tonumber(ARGV[2]), num(redis.call('HGET', hk, 'b')))
redis.call('HSET', hk, 'b', b)
redis.call('ZADD', P .. 'ready', 'XX', 'GT', b, host)
return {b, hint()}
"#;

/// Stores a host's robots.txt; only the lease holder may. ARGV: host, token, body.
/// Returns 1, or -1 if fenced.
pub(crate) const ROBOTS: &str = r#"
local hk = P .. 'h:' .. ARGV[1]
if redis.call('HGET', hk, 't') ~= ARGV[2] then return -1 end
redis.call('HSET', hk, 'r', ARGV[3], 'ra', now_ms())
return 1
"#;

/// Reaps expired leases of this shard. ARGV: max hosts, max attempts.
/// Returns {hosts reaped, dead-lettered, hint}.
pub(crate) const REAP: &str = r#"
local now = now_ms()
local r = reap(now, tonumber(ARGV[1]), tonumber(ARGV[2]))
local o = reap_orphans(now, tonumber(ARGV[1]), tonumber(ARGV[2]))
undelay(now, tonumber(ARGV[1]))
return {r[1] + o[1], r[2] + o[2], hint()}
"#;

/// A shard's hint alone (the sweep that repairs lost index entries).
pub(crate) const HINT: &str = "return hint()";

/// Crawl slot: applies shard hints to the ready index `idx` and the lease index `lidx`,
/// newest version first. ARGV: (shard, version, ready min or -1, lease min or -1)*.
pub(crate) const APPLY_HINTS: &str = r#"
local P = KEYS[1]
for i = 1, #ARGV, 4 do
  local s, v = ARGV[i], tonumber(ARGV[i + 1])
  local old = tonumber(redis.call('HGET', P .. 'hv', s) or '0')
  if v > old then
    redis.call('HSET', P .. 'hv', s, v)
    if tonumber(ARGV[i + 2]) >= 0 then redis.call('ZADD', P .. 'idx', ARGV[i + 2], s)
    else redis.call('ZREM', P .. 'idx', s) end
    if tonumber(ARGV[i + 3]) >= 0 then redis.call('ZADD', P .. 'lidx', ARGV[i + 3], s)
    else redis.call('ZREM', P .. 'lidx', s) end
  end
end
return 1
"#;

/// Crawl slot: at most ARGV[2] shards with expired leases (ARGV[1] = 'lidx'), or with due
/// hosts and then expired leases (ARGV[1] = 'idx': a claim reaps on its way), by server time.
pub(crate) const DUE_SHARDS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[2])
local out = redis.call('ZRANGEBYSCORE', KEYS[1] .. ARGV[1], '-inf', now, 'LIMIT', 0, max)
if ARGV[1] == 'idx' and #out < max then
  local have = {}
  for _, s in ipairs(out) do have[s] = true end
  local more = redis.call('ZRANGEBYSCORE', KEYS[1] .. 'lidx', '-inf', now, 'LIMIT', 0, max - #out)
  for _, s in ipairs(more) do if not have[s] then out[#out + 1] = s end end
end
return out
"#;

/// Crawl slot: ms until the earliest shard hint (0: due now), -1 if none.
pub(crate) const NEXT_READY: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('ZRANGE', KEYS[1] .. 'idx', 0, 0, 'WITHSCORES')
if not r[2] then return -1 end
return math.max(0, tonumber(r[2]) - now)
"#;

/// Crawl slot: shards the indexes say have due or waiting hosts, or leases (a cheap "not
/// finished yet"; the indexes may lag, so zero proves nothing).
pub(crate) const INDEXED: &str = r#"
return redis.call('ZCARD', KEYS[1] .. 'idx') + redis.call('ZCARD', KEYS[1] .. 'lidx')
"#;

/// Crawl slot: reserves page-limit budget. ARGV: request id, wanted, limit.
/// Returns {granted, other reservations outstanding}. A re-sent request gets its grant again.
pub(crate) const RESERVE: &str = r#"
local P = KEYS[1]
local prev = redis.call('HGET', P .. 'resv', ARGV[1])
local others = redis.call('HLEN', P .. 'resv')
if prev then return {tonumber(prev), others - 1} end
local r = tonumber(redis.call('HGET', P .. 'lim', 'r') or '0')
local g = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - r)
if g < 0 then g = 0 end
if g > 0 then
  redis.call('HINCRBY', P .. 'lim', 'r', g)
  redis.call('HSET', P .. 'resv', ARGV[1], g)
end
return {g, others}
"#;

/// Crawl slot: settles a reservation. ARGV: request id, used. Idempotent.
pub(crate) const SETTLE: &str = r#"
local P = KEYS[1]
local g = redis.call('HGET', P .. 'resv', ARGV[1])
if not g then return 0 end
redis.call('HDEL', P .. 'resv', ARGV[1])
redis.call('HINCRBY', P .. 'lim', 'r', tonumber(ARGV[2]) - tonumber(g))
redis.call('HINCRBY', P .. 'lim', 'a', tonumber(ARGV[2]))
return 1
"#;

/// Worker slot: records the batch about to be prepared and the shards it touches.
/// ARGV: batch, shards (comma-separated). Returns 0 if the batch is not after the last
/// committed or aborted one, else 1.
pub(crate) const INTENT: &str = r#"
local P = KEYS[1]
local s = redis.call('HMGET', P .. 'ck', 'b', 'ab')
local b = tonumber(ARGV[1])
if b <= tonumber(s[1] or '-1') or b <= tonumber(s[2] or '-1') then return 0 end
redis.call('HSET', P .. 'ck', 'pb', b, 'ps', ARGV[2])
return 1
"#;

/// Worker slot: the commit point. ARGV: batch, checkpoint. Returns 1 committed (or
/// already), 0 refused (the batch was aborted by a recovery).
pub(crate) const COMMIT: &str = r#"
local P = KEYS[1]
local s = redis.call('HMGET', P .. 'ck', 'b', 'ab')
local b = tonumber(ARGV[1])
if b <= tonumber(s[2] or '-1') then return 0 end
if b <= tonumber(s[1] or '-1') then return 1 end
redis.call('HSET', P .. 'ck', 'b', b, 'c', ARGV[2])
return 1
"#;

/// Worker slot: forgets the pending batch once resolved. ARGV: batch.
pub(crate) const CLEAR: &str = r#"
local P = KEYS[1]
if redis.call('HGET', P .. 'ck', 'pb') == ARGV[1] then redis.call('HDEL', P .. 'ck', 'pb', 'ps') end
return 1
"#;

/// Worker slot: a recovery decides the pending batch: committed stays, anything else is
/// aborted for good. Returns {last committed batch or -1, checkpoint or '', pending batch or
/// -1, shards, last aborted batch or -1}.
pub(crate) const ABORT: &str = r#"
local P = KEYS[1]
local s = redis.call('HMGET', P .. 'ck', 'b', 'c', 'pb', 'ps', 'ab')
local b = tonumber(s[1] or '-1')
local pb = tonumber(s[3] or '-1')
local ab = tonumber(s[5] or '-1')
if pb > b and pb > ab then
  redis.call('HSET', P .. 'ck', 'ab', pb)
  ab = pb
end
return {b, s[2] or '', pb, s[4] or '', ab}
"#;

/// Builds a shard script: the prelude, then the body.
pub(crate) fn shard(body: &str) -> String {
    let mut s = String::with_capacity(PRELUDE.len() + body.len());
    s.push_str(PRELUDE);
    s.push_str(body);
    s
}
