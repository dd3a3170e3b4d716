-- KEYS: [1] idempotency record, [2] the reservation, [3] the expiry index, from [4] the group of
-- the holder ARGV[6] names (as the caller read it); then the tail. ARGV[7] reservation id.
-- A reservation already past its expiry ends EXPIRED rather than RELEASED.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local res, place, moved = find_reservation(KEYS[2], KEYS[3], carried_accounts(4))
if moved then return moved end
if not res then return finish(failure("NOT_FOUND", "reservation does not exist")) end
if res.status ~= "PENDING" then
  return finish(failure("RESERVATION_ALREADY_RESOLVED",
    "reservation " .. res.reservation_id .. " is already " .. res.status))
end
local acct, tx
if now >= res.expires_at_ms then
  acct, tx = expire_reservation(res, place, now)
else
  acct, tx = resolve_reservation(res, place, "RELEASED", 0, { type = "RELEASE", supply = 0 }, now)
end
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
