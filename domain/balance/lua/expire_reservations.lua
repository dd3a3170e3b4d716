-- KEYS: [1] the slot's expiry index, [2 .. n+1] the n reservations whose members ARGV[7..] name
-- (`holder/id`, due when the caller read the index, soonest first), then the groups of their
-- holders ARGV[6] names; then the tail. Resolves those still PENDING; one resolved by other means is only dropped from the
-- index.
local now = now_ms()
local due = {}
for n = 7, #ARGV do due[#due + 1] = ARGV[n] end
local holders = carried_accounts(2 + #due)
local expired, accounts = {}, {}
for n, member in ipairs(due) do
  local reservation_id = string.match(member, "/(.*)$") or member
  local res = load_reservation(KEYS[1 + n])
  if res and res.status == "PENDING" then
    local holder = holders[res.account_id]
    -- A holder the caller did not read (it cannot change hands, so never expected): left to
    -- the next sweep rather than touching keys the call does not carry.
    if holder then
      local acct = expire_reservation(res, { key = KEYS[1 + n], expiry = KEYS[1], holder = holder },
        now)
      expired[#expired + 1] = reservation_id
      accounts[acct.id] = view(acct)
    end
  else
    redis.call("ZREM", KEYS[1], member)
  end
end
local changed = {}
for _, id in ipairs(sorted_keys(accounts)) do changed[#changed + 1] = accounts[id] end
return { 0, cjson.encode({ ok = true, expired = expired, accounts = changed,
  remaining = redis.call("ZCOUNT", KEYS[1], "-inf", fmt(now)) }) }
