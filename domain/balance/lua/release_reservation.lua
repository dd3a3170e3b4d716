-- ARGV[5] reservation id. A reservation already past its expiry ends EXPIRED rather than RELEASED.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local res = load_reservation(ARGV[5])
if not res then return finish(failure("NOT_FOUND", "reservation does not exist")) end
if res.status ~= "PENDING" then
  return finish(failure("RESERVATION_ALREADY_RESOLVED",
    "reservation " .. res.reservation_id .. " is already " .. res.status))
end
local acct, tx
if now >= res.expires_at_ms then
  acct, tx = expire_reservation(res, now)
else
  acct, tx = resolve_reservation(res, "RELEASED", 0, { type = "RELEASE", supply = 0 }, now)
end
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
