-- KEYS: [1] idempotency record, [2-6] the account's group, [7] the account ids; then the tail.
-- ARGV[7] account, [8] amount, [9] source, [10] expected version ('' = any), [11] reference,
-- [12] '1' to open the account on its first credit.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local id, amount = ARGV[7], tonumber(ARGV[8])
local mine = account_keys(2)
local acct = load_account(id, mine)
if not acct and ARGV[12] ~= "1" then return finish(failure("NOT_FOUND", "account " .. id .. " does not exist")) end
local conflict = version_conflict(acct, ARGV[10])
if conflict then return finish(conflict) end
if acct and acct.balance + amount > MAX_BALANCE then
  return finish(failure("VALIDATION_FAILED", "the balance would exceed " .. fmt(MAX_BALANCE)))
end
acct = acct or create_account(id, mine, KEYS[7], now)
local tx = record(acct, { type = "CREDIT", source = ARGV[9], delta = amount, reserved_delta = 0,
  reference = ARGV[11] }, now)
return finish({ ok = true, account = view(acct), transaction = tx })
