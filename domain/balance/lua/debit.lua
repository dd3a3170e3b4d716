-- ARGV[5] account, [6] amount, [7] source, [8] expected version ('' = any), [9] reference.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount = ARGV[5], tonumber(ARGV[6])
local acct = load_account(id)
if not acct then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[8])
if conflict then return finish(conflict) end
if acct.balance - acct.reserved < amount then
  return finish(failure("INSUFFICIENT_FUNDS", "available " .. fmt(acct.balance - acct.reserved)
    .. " is less than " .. fmt(amount)))
end
local tx = record(acct, { type = "DEBIT", source = ARGV[7], delta = -amount, reserved_delta = 0,
  reference = ARGV[9] }, now)
return finish({ ok = true, account = view(acct), transaction = tx })
