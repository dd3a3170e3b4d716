-- KEYS: [1] idempotency record, [2] the reservation, [3] the expiry index, [4] the account ids,
-- from [5] the groups of the accounts ARGV[6] names (the holder as the caller read it, and the
-- receiving account); then the tail. ARGV[7] reservation id, [8] amount to commit (0 = all),
-- [9] the account credited with the committed chips (absent or '' = none: they leave
-- circulation), [10] the source of that credit ('' = the reservation's). The rest is released.
-- An account of another slot (after the '|' of ARGV[6]) is owed the chips: the outbox entry
-- is written here, and the caller delivers it.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local groups = carried_accounts(5)
local res, place, moved = find_reservation(KEYS[2], KEYS[3], groups)
if moved then return moved end
local to_id = ARGV[9] or ""
local remote = remote_accounts()
if to_id ~= "" and not groups[to_id] and not remote[to_id] then return keys_moved(to_id) end
local problem
res, problem = usable_reservation(res, place, now)
if problem then return finish(problem) end
local amount = tonumber(ARGV[8])
if amount == 0 then amount = res.amount end
if amount > res.amount then
  return finish(failure("VALIDATION_FAILED", "cannot commit " .. fmt(amount) .. " of a reservation of "
    .. fmt(res.amount)))
end
if to_id == "" then
  local acct, tx = resolve_reservation(res, place, "COMMITTED", amount, { type = "COMMIT" }, now)
  return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
end
if to_id == res.account_id then
  return finish(failure("VALIDATION_FAILED", "a reservation cannot be committed to its own account"))
end
local source = ARGV[10]
if source == "" then source = res.source end
if remote[to_id] then
  local acct, tx = resolve_reservation(res, place, "COMMITTED", amount,
    { type = "COMMIT", supply = 0 }, now)
  owe({ kind = "credit", to = to_id, amount = amount, type = "TRANSFER_IN", source = source,
    reservation_id = res.reservation_id, reference = res.reference }, now)
  return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
end
local to = load_account(to_id, groups[to_id])
if to and to.balance + amount > MAX_BALANCE then
  return finish(failure("VALIDATION_FAILED", "the balance of " .. to_id .. " would exceed "
    .. fmt(MAX_BALANCE)))
end
-- The chips move from one account to another: the supply stays as it was.
local acct, tx = resolve_reservation(res, place, "COMMITTED", amount, { type = "COMMIT", supply = 0 },
  now)
to = to or create_account(to_id, groups[to_id], KEYS[4], now)
local credit = record(to, { type = "TRANSFER_IN", source = source, delta = amount,
  reserved_delta = 0, supply = 0, reservation_id = res.reservation_id, reference = res.reference },
  now)
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx,
  to_account = view(to), to_transaction = credit })
