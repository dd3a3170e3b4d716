-- Shared by every balance script. Every key a script touches arrives in KEYS, named and laid
-- out by domain/balance/keys.py, the one place that knows key formats: no script builds a key.
-- Every key of one call hashes to one slot (the call's home), so the scripts run on a Redis
-- Cluster as on one Redis.
-- KEYS: with an idempotency key, [1] is its record; then the operation's own keys (each
-- script's header lists them); then, from KEYS[ARGV[5]] on, the tail: the slot's economy hash,
-- its outbox, and one key per transaction the script may write (ids ARGV[4]-1, ARGV[4]-2,
-- ...). An account's keys come as a group of five (account_keys); ARGV[6] names,
-- space-separated, the accounts whose groups the call carries, in their order, then after a
-- '|' the accounts of other slots the call may owe chips to (they get an outbox entry, `owe`).
-- ARGV[1] = now in ms ('' = server TIME), then, one per line, ledger entries the caller
-- computed ahead (domain/balance/chain_hints.py), [2] = idempotency key ('' = none),
-- [3] = request fingerprint, [4] = transaction id base; the operation's own arguments start
-- at ARGV[7].
-- A script answers {0, json, heads, used} (fresh: `heads` has a line
-- `account|seq|balance|reserved|checksum` per account it changed, `used` counts the
-- entries computed ahead that it could use), {1, json} (replayed from the idempotency record),
-- {2, json} (key reused for another request) or {3, json} (the data names an account whose
-- keys the call does not carry: the caller read before a concurrent change and reads again);
-- {2, ...} and {3, ...} write nothing and are never cached. An answer's `owed` lists the
-- credits it left in the outbox for the caller to deliver (deliver_credit.lua,
-- deliver_contribution.lua).
-- Checks come before the first write: Valkey does not roll a script back.
local MAX_BALANCE = 10000000000000
local GENESIS = srep("0", 64)
local IDEMPOTENCY_TTL_SECONDS = 86400
-- An answer is kept this long; a delivery mark longer (deliver_*.lua set it).
local answer_ttl = IDEMPOTENCY_TTL_SECONDS

local function fmt(n) return string.format("%d", n) end

-- ISO 8601 in UTC of a time in ms, as Python's isoformat writes it (days-to-civil after
-- Howard Hinnant's algorithm).
local function iso_utc(ms)
  local floor = math.floor
  local secs = floor(ms / 1000)
  local z = floor(secs / 86400) + 719468
  local of_day = secs % 86400
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", year, month,
    doy - floor((153 * mp + 2) / 5) + 1, floor(of_day / 3600), floor(of_day % 3600 / 60),
    of_day % 60, ms % 1000)
end

local function now_ms()
  if ARGV[1] ~= "" then return tonumber(string.match(ARGV[1], "^[^\n]+")) end
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function failure(code, detail) return { ok = false, code = code, detail = detail } end

local function keys_moved(id)
  return { 3, cjson.encode(failure("UNAVAILABLE", "the call does not carry the keys of account "
    .. id .. "; read again")) }
end

local function idempotent_replay()
  if ARGV[2] == "" then return nil end
  local stored = redis.call("GET", KEYS[1])
  if not stored then return nil end
  local sep = string.find(stored, "\n", 1, true)
  if string.sub(stored, 1, sep - 1) ~= ARGV[3] then
    return { 2, cjson.encode(failure("IDEMPOTENCY_KEY_REUSED",
      "idempotency key " .. ARGV[2] .. " was used for a different request")) }
  end
  return { 1, string.sub(stored, sep + 1) }
end

-- The heads of the accounts this call changed, and how many entries computed ahead it used.
local heads, hints_used = {}, 0
-- The credits this call left in its slot's outbox (`owe`), reported in its answer.
local owed = {}

local function finish(response)
  if #owed > 0 then response.owed = owed end
  local body = cjson.encode(response)
  if ARGV[2] ~= "" then
    redis.call("SET", KEYS[1], ARGV[3] .. "\n" .. body, "EX", answer_ttl)
  end
  local reported = {}
  for _, head in pairs(heads) do reported[#reported + 1] = head end
  return { 0, body, table.concat(reported, "\n"), hints_used }
end

-- The checksum the caller computed for `line`, if it sent that very line (nil otherwise).
local hints
local function hinted(line)
  if not hints then
    hints = {}
    for entry in string.gmatch(ARGV[1], "\n([^\n]+)") do
      hints[string.sub(entry, 1, -66)] = string.sub(entry, -64)
    end
  end
  return hints[line]
end

-- One account's group of keys from KEYS[first] on, in keys.py's account_group order.
local function account_keys(first)
  return { hash = KEYS[first], transactions = KEYS[first + 1], ledger = KEYS[first + 2],
    head = KEYS[first + 3], reservations = KEYS[first + 4] }
end

-- The groups of the accounts ARGV[6] names, from KEYS[first] on, by account id.
local function carried_accounts(first)
  local groups, n = {}, 0
  local carried = string.match(ARGV[6], "^[^|]*")
  for id in string.gmatch(carried, "[^ |]+") do
    groups[id] = account_keys(first + 5 * n)
    n = n + 1
  end
  return groups
end

-- The accounts of other slots the call may owe chips to (after the '|' of ARGV[6]).
local function remote_accounts()
  local remote = {}
  local listed = string.match(ARGV[6], "|(.*)$") or ""
  for id in string.gmatch(listed, "[^ ]+") do remote[id] = true end
  return remote
end

local function load_account(id, keys)
  local v = redis.call("HMGET", keys.hash, "balance", "reserved", "version")
  if not v[1] then return nil end
  return { id = id, keys = keys, balance = tonumber(v[1]), reserved = tonumber(v[2]),
    version = tonumber(v[3]) }
end

local function create_account(id, keys, ids_key, now)
  redis.call("HSET", keys.hash, "balance", 0, "reserved", 0, "version", 0,
    "created_at_ms", fmt(now), "updated_at_ms", fmt(now))
  redis.call("SADD", ids_key, id)
  return { id = id, keys = keys, balance = 0, reserved = 0, version = 0 }
end

local function view(acct)
  return { account_id = acct.id, balance = acct.balance, reserved = acct.reserved,
    available = acct.balance - acct.reserved, version = acct.version }
end

local function version_conflict(acct, expected)
  if expected == "" then return nil end
  local current = acct and acct.version or 0
  if tonumber(expected) ~= current then
    return failure("VERSION_CONFLICT", "expected version " .. expected .. ", account is at " .. fmt(current))
  end
  return nil
end

local tx_count = 0

-- The player's real-time event on `user:{id}` (the gateway's contract), published inside the
-- script: it goes out if and only if the change is applied, and costs no second round trip.
-- A channel is no key: it needs no slot in KEYS, not even on Redis Cluster.
local function publish_change(acct, source, now)
  redis.call("PUBLISH", "user:" .. acct.id, cjson.encode({ kind = "balance.changed",
    account_id = acct.id, balance = acct.balance, reserved = acct.reserved,
    available = acct.balance - acct.reserved, source = source, at = iso_utc(now) }))
end

-- Applies one change to an account: balance and version, the transaction, the ledger entry with
-- its chained checksum, the economy counters and the player's event. `change.supply` is how much
-- the chips in circulation move (0 when chips only move between accounts and pots).
local function record(acct, change, now)
  tx_count = tx_count + 1
  local tail = tonumber(ARGV[5])
  local tx_key = KEYS[tail + 1 + tx_count]
  -- The caller counts the transactions before the call; running out is a bug, stop loudly.
  if not tx_key then error("the call carries no key for transaction " .. tx_count) end
  local tx_id = ARGV[4] .. "-" .. tx_count
  acct.balance = acct.balance + change.delta
  acct.reserved = acct.reserved + change.reserved_delta
  acct.version = acct.version + 1
  redis.call("HSET", acct.keys.hash, "balance", fmt(acct.balance), "reserved", fmt(acct.reserved),
    "version", fmt(acct.version), "updated_at_ms", fmt(now))
  local tx = { id = tx_id, account_id = acct.id, type = change.type, source = change.source,
    amount = change.delta, reserved_delta = change.reserved_delta, balance_after = acct.balance,
    reserved_after = acct.reserved, reservation_id = change.reservation_id or "",
    reference = change.reference or "", idempotency_key = change.idempotency_key or ARGV[2],
    created_at_ms = now }
  redis.call("SET", tx_key, cjson.encode(tx))
  redis.call("RPUSH", acct.keys.transactions, tx_id)
  local seq = redis.call("LLEN", acct.keys.ledger) + 1
  local previous = redis.call("GET", acct.keys.head) or GENESIS
  local line = table.concat({ fmt(seq), acct.id, tx_id, change.type, change.source, fmt(change.delta),
    fmt(change.reserved_delta), fmt(acct.balance), fmt(acct.reserved), fmt(now), previous }, "|")
  local checksum = hinted(line)
  if checksum then hints_used = hints_used + 1 else checksum = sha256_hex(line) end
  redis.call("RPUSH", acct.keys.ledger, line .. "|" .. checksum)
  redis.call("SET", acct.keys.head, checksum)
  heads[acct.id] = table.concat({ acct.id, fmt(seq), fmt(acct.balance),
    fmt(acct.reserved), checksum }, "|")
  local supply = change.supply
  if supply == nil then supply = change.delta end
  if supply ~= 0 then redis.call("HINCRBY", KEYS[tail], "supply", fmt(supply)) end
  if change.delta ~= 0 then
    redis.call("HINCRBY", KEYS[tail], "volume", fmt(math.abs(change.delta)))
  end
  publish_change(acct, change.type == "EXPIRE" and "EXPIRE" or change.source, now)
  return tx
end

-- Chips this call owes to an account or pot of another slot: an entry in the slot's outbox,
-- written with the change that took them, so a crash cannot lose them. The caller delivers
-- it (deliver_*.lua, idempotent by the entry's id) and then deletes it; a sweep delivers what
-- a crash left. The chips stay in the supply: the slot's economy counted them and no other
-- does until they arrive.
local function owe(credit, now)
  credit.id = ARGV[4] .. "-o" .. fmt(#owed + 1)
  credit.created_at_ms = now
  -- The move's own key: the credit's transaction carries it, as the source's does.
  credit.idempotency_key = ARGV[2]
  redis.call("HSET", KEYS[tonumber(ARGV[5]) + 1], credit.id, cjson.encode(credit))
  owed[#owed + 1] = credit
  return credit
end

local function load_reservation(key)
  local raw = redis.call("GET", key)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- The reservation at `key` (nil if none) and where it lives: its key, the expiry index and its
-- holder's keys; or, as third value, the answer to give when the call lacks the holder's keys.
local function find_reservation(key, expiry_key, groups)
  local res = load_reservation(key)
  if not res then return nil, nil, nil end
  local holder = groups[res.account_id]
  if not holder then return nil, nil, keys_moved(res.account_id) end
  return res, { key = key, expiry = expiry_key, holder = holder }, nil
end

-- Resolves a PENDING reservation exactly once: `committed` chips leave the balance, the whole
-- reserved amount is freed. `change` gives the type, supply movement and reference.
local function resolve_reservation(res, place, status, committed, change, now)
  local acct = load_account(res.account_id, place.holder)
  change.delta = -committed
  change.reserved_delta = -res.amount
  change.source = change.source or res.source
  change.reservation_id = res.reservation_id
  change.reference = change.reference or res.reference
  local tx = record(acct, change, now)
  res.status = status
  res.committed_amount = committed
  res.resolved_at_ms = now
  redis.call("SET", place.key, cjson.encode(res))
  redis.call("ZREM", place.expiry, res.account_id .. "/" .. res.reservation_id)
  redis.call("SREM", place.holder.reservations, res.reservation_id)
  return acct, tx
end

local function expire_reservation(res, place, now)
  return resolve_reservation(res, place, "EXPIRED", 0, { type = "EXPIRE", supply = 0 }, now)
end

-- A PENDING reservation that may still be used, or the failure to answer with. A reservation
-- past its expiry is expired here and then, before any sweeper has run.
local function usable_reservation(res, place, now)
  if not res then return nil, failure("NOT_FOUND", "reservation does not exist") end
  if res.status == "EXPIRED" then
    return nil, failure("RESERVATION_EXPIRED", "reservation " .. res.reservation_id .. " expired")
  end
  if res.status ~= "PENDING" then
    return nil, failure("RESERVATION_ALREADY_RESOLVED",
      "reservation " .. res.reservation_id .. " is already " .. res.status)
  end
  if now >= res.expires_at_ms then
    expire_reservation(res, place, now)
    local refused = failure("RESERVATION_EXPIRED", "reservation " .. res.reservation_id .. " expired")
    -- This call ended the reservation (its metric counts it as expired), though it is refused.
    refused.expired_now = true
    return nil, refused
  end
  return res, nil
end

local function load_pot(key)
  local raw = redis.call("GET", key)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_pot(pot, key, active_key)
  redis.call("SET", key, cjson.encode(pot))
  if pot.status == "OPEN" then
    redis.call("SADD", active_key, pot.table_id .. ":" .. pot.hand_id)
  else
    redis.call("SREM", active_key, pot.table_id .. ":" .. pot.hand_id)
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Takes `amount` chips of account `id` for a pot: from its reservation at `res_key` (committing
-- it, the rest released) when `reservation_id` is set, else from its available balance.
-- Returns the account and transaction, or nil and the answer to give instead.
local function take_for_pot(id, amount, reservation_id, groups, res_key, expiry_key, reference,
                            now)
  local change = { type = "POT_CONTRIBUTION", source = "BET", supply = 0, reference = reference }
  if reservation_id ~= "" then
    local res, place, moved = find_reservation(res_key, expiry_key, groups)
    if moved then return nil, moved end
    local problem
    res, problem = usable_reservation(res, place, now)
    if problem then return nil, finish(problem) end
    if res.account_id ~= id then
      return nil, finish(failure("VALIDATION_FAILED", "the reservation belongs to another account"))
    end
    if amount > res.amount then
      return nil, finish(failure("INSUFFICIENT_FUNDS", "the reservation holds only "
        .. fmt(res.amount)))
    end
    return resolve_reservation(res, place, "COMMITTED", amount, change, now)
  end
  local acct = load_account(id, groups[id])
  if not acct then return nil, finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
  if acct.balance - acct.reserved < amount then
    return nil, finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
      .. " is less than " .. fmt(amount)))
  end
  change.delta, change.reserved_delta = -amount, 0
  return acct, record(acct, change, now)
end

-- Adds a contribution of `amount` chips from `id` to an OPEN pot.
local function add_to_pot(pot, id, amount, key, active_key)
  pot.contributions[id] = (pot.contributions[id] or 0) + amount
  pot.total = pot.total + amount
  save_pot(pot, key, active_key)
end
