-- ARGV[5] account, [6] amount, [7] ttl ms, [8] reservation id, [9] source, [10] reference,
-- [11] expected version ('' = any).
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount, reservation_id = ARGV[5], tonumber(ARGV[6]), ARGV[8]
local acct = load_account(id)
if not acct then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[11])
if conflict then return finish(conflict) end
if redis.call("EXISTS", reservation_key(reservation_id)) == 1 then
  return finish(failure("ALREADY_EXISTS", "reservation " .. reservation_id .. " already exists"))
end
if acct.balance - acct.reserved < amount then
  return finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
    .. " is less than " .. fmt(amount)))
end
local res = { reservation_id = reservation_id, account_id = id, amount = amount, status = "PENDING",
  committed_amount = 0, expires_at_ms = now + tonumber(ARGV[7]), created_at_ms = now,
  source = ARGV[9], reference = ARGV[10] }
local tx = record(acct, { type = "RESERVE", source = ARGV[9], delta = 0, reserved_delta = amount,
  reservation_id = reservation_id, reference = ARGV[10] }, now)
redis.call("SET", reservation_key(reservation_id), cjson.encode(res))
redis.call("ZADD", "balance:reservations:expiry", fmt(res.expires_at_ms), reservation_id)
redis.call("SADD", by_account_reservations_key(id), reservation_id)
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
