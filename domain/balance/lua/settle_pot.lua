-- ARGV[5] table id, [6] hand id, [7] payouts as JSON {account: chips}, [8] rake, [9] house account.
-- All or nothing: every check runs before the first chip moves.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local pot = load_pot(ARGV[5], ARGV[6])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local payouts, rake, house_id = cjson.decode(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
local winners = sorted_keys(payouts)
local paid = rake
for _, id in ipairs(winners) do
  if not pot.contributions[id] then
    return finish(failure("VALIDATION_FAILED", "winner " .. id .. " did not contribute to the pot"))
  end
  paid = paid + payouts[id]
end
if paid ~= pot.total then
  return finish(failure("VALIDATION_FAILED", "payouts and rake come to " .. fmt(paid)
    .. " but the pot holds " .. fmt(pot.total)))
end
local reference = pot.table_id .. ":" .. pot.hand_id
local changed = {}
for _, id in ipairs(winners) do
  if payouts[id] > 0 then
    local acct = load_account(id)
    record(acct, { type = "POT_PAYOUT", source = "WINNINGS", delta = payouts[id], reserved_delta = 0,
      supply = 0, reference = reference }, now)
    changed[#changed + 1] = view(acct)
  end
end
if rake > 0 then
  local house = load_account(house_id) or create_account(house_id, now)
  record(house, { type = "RAKE", source = "RAKE", delta = rake, reserved_delta = 0, supply = 0,
    reference = reference }, now)
  changed[#changed + 1] = view(house)
end
pot.status = "SETTLED"
pot.payouts = payouts
pot.rake = rake
pot.resolved_at_ms = now
save_pot(pot)
return finish({ ok = true, pot = pot, accounts = changed, payouts = payouts, rake = rake })
