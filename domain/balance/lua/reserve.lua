-- KEYS: [1] idempotency record, [2-6] the account's group, [7] the reservation, [8] the slot's
-- expiry index; then the tail. ARGV[7] account, [8] amount, [9] ttl ms, [10] reservation id,
-- [11] source, [12] reference, [13] expected version ('' = any).
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount, reservation_id = ARGV[7], tonumber(ARGV[8]), ARGV[10]
local mine = account_keys(2)
local acct = load_account(id, mine)
if not acct then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[13])
if conflict then return finish(conflict) end
if redis.call("EXISTS", KEYS[7]) == 1 then
  return finish(failure("ALREADY_EXISTS", "reservation " .. reservation_id .. " already exists"))
end
if acct.balance - acct.reserved < amount then
  return finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
    .. " is less than " .. fmt(amount)))
end
local res = { reservation_id = reservation_id, account_id = id, amount = amount, status = "PENDING",
  committed_amount = 0, expires_at_ms = now + tonumber(ARGV[9]), created_at_ms = now,
  source = ARGV[11], reference = ARGV[12] }
local tx = record(acct, { type = "RESERVE", source = ARGV[11], delta = 0, reserved_delta = amount,
  reservation_id = reservation_id, reference = ARGV[12] }, now)
redis.call("SET", KEYS[7], cjson.encode(res))
redis.call("ZADD", KEYS[8], fmt(res.expires_at_ms), id .. "/" .. reservation_id)
redis.call("SADD", mine.reservations, reservation_id)
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
