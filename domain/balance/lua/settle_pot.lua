-- KEYS: [1] idempotency record, [2] the pot, [3] the open pots, [4] the account ids, from [5]
-- the groups of the accounts ARGV[6] names (the winners paid, then the house if it takes a
-- rake); then the tail. ARGV[7] table id, [8] hand id, [9] payouts as JSON {account: chips},
-- [10] rake, [11] house account. All or nothing: every check runs before the first chip moves.
-- Accounts of other slots (after the '|' of ARGV[6]) are owed their chips through the outbox.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local pot = load_pot(KEYS[2])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local payouts, rake, house_id = cjson.decode(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
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
local groups, remote = carried_accounts(5), remote_accounts()
for _, id in ipairs(winners) do
  if payouts[id] > 0 and not groups[id] and not remote[id] then return keys_moved(id) end
end
if rake > 0 and not groups[house_id] and not remote[house_id] then return keys_moved(house_id) end
local reference = pot.table_id .. ":" .. pot.hand_id
local changed = {}
for _, id in ipairs(winners) do
  if payouts[id] > 0 and not groups[id] then
    owe({ kind = "credit", to = id, amount = payouts[id], type = "POT_PAYOUT", source = "WINNINGS",
      reference = reference }, now)
  elseif payouts[id] > 0 then
    local acct = load_account(id, groups[id])
    record(acct, { type = "POT_PAYOUT", source = "WINNINGS", delta = payouts[id], reserved_delta = 0,
      supply = 0, reference = reference }, now)
    changed[#changed + 1] = view(acct)
  end
end
if rake > 0 and not groups[house_id] then
  owe({ kind = "credit", to = house_id, amount = rake, type = "RAKE", source = "RAKE",
    reference = reference }, now)
elseif rake > 0 then
  local house = load_account(house_id, groups[house_id])
    or create_account(house_id, groups[house_id], KEYS[4], now)
  record(house, { type = "RAKE", source = "RAKE", delta = rake, reserved_delta = 0, supply = 0,
    reference = reference }, now)
  changed[#changed + 1] = view(house)
end
pot.status = "SETTLED"
pot.payouts = payouts
pot.rake = rake
pot.resolved_at_ms = now
save_pot(pot, KEYS[2], KEYS[3])
return finish({ ok = true, pot = pot, accounts = changed, payouts = payouts, rake = rake })
