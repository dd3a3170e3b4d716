-- ARGV[5] reservation id, [6] amount to commit (0 = all). The rest is released.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local res, problem = usable_reservation(load_reservation(ARGV[5]), now)
if problem then return finish(problem) end
local amount = tonumber(ARGV[6])
if amount == 0 then amount = res.amount end
if amount > res.amount then
  return finish(failure("VALIDATION_FAILED", "cannot commit " .. fmt(amount) .. " of a reservation of "
    .. fmt(res.amount)))
end
local acct, tx = resolve_reservation(res, "COMMITTED", amount, { type = "COMMIT" }, now)
return finish({ ok = true, account = view(acct), reservation = res, transaction = tx })
