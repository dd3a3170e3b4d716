-- ARGV[5] table id, [6] hand id, [7] account, [8] amount, [9] reservation id ('' = from the
-- available balance). From a reservation, the contribution commits it and releases the rest.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount = ARGV[7], tonumber(ARGV[8])
local pot = load_pot(ARGV[5], ARGV[6])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local reference = pot.table_id .. ":" .. pot.hand_id
local acct, tx
if ARGV[9] ~= "" then
  local res, problem = usable_reservation(load_reservation(ARGV[9]), now)
  if problem then return finish(problem) end
  if res.account_id ~= id then
    return finish(failure("VALIDATION_FAILED", "the reservation belongs to another account"))
  end
  if amount > res.amount then
    return finish(failure("INSUFFICIENT_FUNDS", "the reservation holds only " .. fmt(res.amount)))
  end
  acct, tx = resolve_reservation(res, "COMMITTED", amount,
    { type = "POT_CONTRIBUTION", source = "BET", supply = 0, reference = reference }, now)
else
  acct = load_account(id)
  if not acct then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
  if acct.balance - acct.reserved < amount then
    return finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
      .. " is less than " .. fmt(amount)))
  end
  tx = record(acct, { type = "POT_CONTRIBUTION", source = "BET", delta = -amount, reserved_delta = 0,
    supply = 0, reference = reference }, now)
end
pot.contributions[id] = (pot.contributions[id] or 0) + amount
pot.total = pot.total + amount
save_pot(pot)
return finish({ ok = true, account = view(acct), pot = pot, transaction = tx })
