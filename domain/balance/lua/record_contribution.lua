-- KEYS: [1] idempotency record, [2] the pot, [3] the open pots; from a reservation then [4] the
-- reservation and [5] the expiry index; then the groups of the accounts ARGV[6] names (the
-- contributor, and the reservation's holder as the caller read it if another); then the tail.
-- ARGV[7] table id, [8] hand id, [9] account, [10] amount, [11] reservation id ('' = from the
-- available balance). From a reservation, the contribution commits it and releases the rest.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount, reservation_id = ARGV[9], tonumber(ARGV[10]), ARGV[11]
local groups = carried_accounts(reservation_id ~= "" and 6 or 4)
local pot = load_pot(KEYS[2])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local reference = pot.table_id .. ":" .. pot.hand_id
local acct, tx
if reservation_id ~= "" then
  local res, place, moved = find_reservation(KEYS[4], KEYS[5], groups)
  if moved then return moved end
  local problem
  res, problem = usable_reservation(res, place, now)
  if problem then return finish(problem) end
  if res.account_id ~= id then
    return finish(failure("VALIDATION_FAILED", "the reservation belongs to another account"))
  end
  if amount > res.amount then
    return finish(failure("INSUFFICIENT_FUNDS", "the reservation holds only " .. fmt(res.amount)))
  end
  acct, tx = resolve_reservation(res, place, "COMMITTED", amount,
    { type = "POT_CONTRIBUTION", source = "BET", supply = 0, reference = reference }, now)
else
  acct = load_account(id, groups[id])
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
save_pot(pot, KEYS[2], KEYS[3])
local answer = { ok = true, account = view(acct), pot = pot, transaction = tx }
if reservation_id ~= "" then answer.reservation_status = "COMMITTED" end
return finish(answer)
