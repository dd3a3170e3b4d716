-- KEYS: [1] idempotency record, [2-6] the account's group; then the tail.
-- ARGV[7] account, [8] amount, [9] source, [10] expected version ('' = any), [11] reference.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount = ARGV[7], tonumber(ARGV[8])
local acct = load_account(id, account_keys(2))
if not acct then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[10])
if conflict then return finish(conflict) end
if acct.balance - acct.reserved < amount then
  return finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
    .. " is less than " .. fmt(amount)))
end
local tx = record(acct, { type = "DEBIT", source = ARGV[9], delta = -amount, reserved_delta = 0,
  reference = ARGV[11] }, now)
return finish({ ok = true, account = view(acct), transaction = tx })
