-- ARGV[5] account, [6] amount, [7] source, [8] expected version ('' = any), [9] reference,
-- [10] '1' to open the account on its first credit.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount = ARGV[5], tonumber(ARGV[6])
local acct = load_account(id)
if not acct and ARGV[10] ~= "1" then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[8])
if conflict then return finish(conflict) end
if acct and acct.balance + amount > MAX_BALANCE then
  return finish(failure("VALIDATION_FAILED", "the balance would exceed " .. fmt(MAX_BALANCE)))
end
acct = acct or create_account(id, now)
local tx = record(acct, { type = "CREDIT", source = ARGV[7], delta = amount, reserved_delta = 0,
  reference = ARGV[9] }, now)
return finish({ ok = true, account = view(acct), transaction = tx })
