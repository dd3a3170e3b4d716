-- ARGV[5] most reservations to expire in this call. Resolves PENDING reservations whose expiry
-- has passed; a reservation resolved by other means is only dropped from the expiry index.
local now = now_ms()
local due = redis.call("ZRANGEBYSCORE", "balance:reservations:expiry", "-inf", fmt(now),
  "LIMIT", 0, tonumber(ARGV[5]))
local expired, accounts = {}, {}
for _, reservation_id in ipairs(due) do
  local res = load_reservation(reservation_id)
  if res and res.status == "PENDING" then
    local acct = expire_reservation(res, now)
    expired[#expired + 1] = reservation_id
    accounts[acct.id] = view(acct)
  else
    redis.call("ZREM", "balance:reservations:expiry", reservation_id)
  end
end
local changed = {}
for _, id in ipairs(sorted_keys(accounts)) do changed[#changed + 1] = accounts[id] end
return { 0, cjson.encode({ ok = true, expired = expired, accounts = changed,
  remaining = redis.call("ZCOUNT", "balance:reservations:expiry", "-inf", fmt(now)) }) }
