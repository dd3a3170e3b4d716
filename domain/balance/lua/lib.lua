-- Shared by every balance script. ARGV[1] = now in ms ('' = server TIME), ARGV[2] = idempotency
-- key ('' = none), ARGV[3] = request fingerprint, ARGV[4] = transaction id base; the operation's
-- own arguments start at ARGV[5]. A script answers {0, json} (fresh), {1, json} (replayed from
-- the idempotency record) or {2, json} (key reused for another request, never cached).
-- Checks come before the first write: Valkey does not roll a script back.
local MAX_BALANCE = 10000000000000
local GENESIS = srep("0", 64)
local IDEMPOTENCY_TTL_SECONDS = 86400

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
  if ARGV[1] ~= "" then return tonumber(ARGV[1]) end
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function account_key(id) return "balance:accounts:{" .. id .. "}" end
local function reservation_key(id) return "balance:reservations:{" .. id .. "}" end
local function by_account_reservations_key(id) return "balance:reservations:by-account:{" .. id .. "}" end
local function pot_key(table_id, hand_id) return "balance:pots:{" .. table_id .. "}:{" .. hand_id .. "}" end

local function failure(code, detail) return { ok = false, code = code, detail = detail } end

local function idempotent_replay()
  if ARGV[2] == "" then return nil end
  local stored = redis.call("GET", "balance:transactions:idempotency:{" .. ARGV[2] .. "}")
  if not stored then return nil end
  local sep = string.find(stored, "\n", 1, true)
  if string.sub(stored, 1, sep - 1) ~= ARGV[3] then
    return { 2, cjson.encode(failure("IDEMPOTENCY_KEY_REUSED",
      "idempotency key " .. ARGV[2] .. " was used for a different request")) }
  end
  return { 1, string.sub(stored, sep + 1) }
end

local function finish(response)
  local body = cjson.encode(response)
  if ARGV[2] ~= "" then
    redis.call("SET", "balance:transactions:idempotency:{" .. ARGV[2] .. "}", ARGV[3] .. "\n" .. body,
      "EX", IDEMPOTENCY_TTL_SECONDS)
  end
  return { 0, body }
end

local function load_account(id)
  local v = redis.call("HMGET", account_key(id), "balance", "reserved", "version")
  if not v[1] then return nil end
  return { id = id, balance = tonumber(v[1]), reserved = tonumber(v[2]), version = tonumber(v[3]) }
end

local function create_account(id, now)
  redis.call("HSET", account_key(id), "balance", 0, "reserved", 0, "version", 0,
    "created_at_ms", fmt(now), "updated_at_ms", fmt(now))
  redis.call("SADD", "balance:accounts:ids", id)
  return { id = id, balance = 0, reserved = 0, version = 0 }
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
  local tx_id = ARGV[4] .. "-" .. tx_count
  acct.balance = acct.balance + change.delta
  acct.reserved = acct.reserved + change.reserved_delta
  acct.version = acct.version + 1
  redis.call("HSET", account_key(acct.id), "balance", fmt(acct.balance), "reserved", fmt(acct.reserved),
    "version", fmt(acct.version), "updated_at_ms", fmt(now))
  local tx = { id = tx_id, account_id = acct.id, type = change.type, source = change.source,
    amount = change.delta, reserved_delta = change.reserved_delta, balance_after = acct.balance,
    reserved_after = acct.reserved, reservation_id = change.reservation_id or "",
    reference = change.reference or "", idempotency_key = ARGV[2], created_at_ms = now }
  redis.call("SET", "balance:transactions:{" .. tx_id .. "}", cjson.encode(tx))
  redis.call("RPUSH", "balance:transactions:by-account:{" .. acct.id .. "}", tx_id)
  local ledger_key = "balance:ledger:{" .. acct.id .. "}"
  local head_key = "balance:ledger:latest-checksum:{" .. acct.id .. "}"
  local seq = redis.call("LLEN", ledger_key) + 1
  local previous = redis.call("GET", head_key) or GENESIS
  local line = table.concat({ fmt(seq), acct.id, tx_id, change.type, change.source, fmt(change.delta),
    fmt(change.reserved_delta), fmt(acct.balance), fmt(acct.reserved), fmt(now), previous }, "|")
  local checksum = sha256_hex(line)
  redis.call("RPUSH", ledger_key, line .. "|" .. checksum)
  redis.call("SET", head_key, checksum)
  local supply = change.supply
  if supply == nil then supply = change.delta end
  if supply ~= 0 then redis.call("HINCRBY", "balance:economy", "supply", fmt(supply)) end
  if change.delta ~= 0 then
    redis.call("HINCRBY", "balance:economy", "volume", fmt(math.abs(change.delta)))
  end
  publish_change(acct, change.type == "EXPIRE" and "EXPIRE" or change.source, now)
  return tx
end

local function load_reservation(id)
  local raw = redis.call("GET", reservation_key(id))
  if not raw then return nil end
  return cjson.decode(raw)
end

-- Resolves a PENDING reservation exactly once: `committed` chips leave the balance, the whole
-- reserved amount is freed. `change` gives the type, supply movement and reference.
local function resolve_reservation(res, status, committed, change, now)
  local acct = load_account(res.account_id)
  change.delta = -committed
  change.reserved_delta = -res.amount
  change.source = change.source or res.source
  change.reservation_id = res.reservation_id
  change.reference = change.reference or res.reference
  local tx = record(acct, change, now)
  res.status = status
  res.committed_amount = committed
  res.resolved_at_ms = now
  redis.call("SET", reservation_key(res.reservation_id), cjson.encode(res))
  redis.call("ZREM", "balance:reservations:expiry", res.reservation_id)
  redis.call("SREM", by_account_reservations_key(res.account_id), res.reservation_id)
  return acct, tx
end

local function expire_reservation(res, now)
  return resolve_reservation(res, "EXPIRED", 0, { type = "EXPIRE", supply = 0 }, now)
end

-- A PENDING reservation that may still be used, or the failure to answer with. A reservation
-- past its expiry is expired here and then, before any sweeper has run.
local function usable_reservation(res, now)
  if not res then return nil, failure("NOT_FOUND", "reservation does not exist") end
  if res.status == "EXPIRED" then
    return nil, failure("RESERVATION_EXPIRED", "reservation " .. res.reservation_id .. " expired")
  end
  if res.status ~= "PENDING" then
    return nil, failure("RESERVATION_ALREADY_RESOLVED",
      "reservation " .. res.reservation_id .. " is already " .. res.status)
  end
  if now >= res.expires_at_ms then
    expire_reservation(res, now)
    return nil, failure("RESERVATION_EXPIRED", "reservation " .. res.reservation_id .. " expired")
  end
  return res, nil
end

local function load_pot(table_id, hand_id)
  local raw = redis.call("GET", pot_key(table_id, hand_id))
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_pot(pot)
  redis.call("SET", pot_key(pot.table_id, pot.hand_id), cjson.encode(pot))
  if pot.status == "OPEN" then
    redis.call("SADD", "balance:pots:active", pot.table_id .. ":" .. pot.hand_id)
  else
    redis.call("SREM", "balance:pots:active", pot.table_id .. ":" .. pot.hand_id)
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end
