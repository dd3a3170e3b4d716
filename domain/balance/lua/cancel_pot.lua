-- ARGV[5] table id, [6] hand id. Every contribution goes back to its contributor.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local pot = load_pot(ARGV[5], ARGV[6])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local reference = pot.table_id .. ":" .. pot.hand_id
local changed, refunds = {}, {}
for _, id in ipairs(sorted_keys(pot.contributions)) do
  local amount = pot.contributions[id]
  if amount > 0 then
    local acct = load_account(id)
    record(acct, { type = "POT_REFUND", source = "REFUND", delta = amount, reserved_delta = 0,
      supply = 0, reference = reference }, now)
    changed[#changed + 1] = view(acct)
    refunds[id] = amount
  end
end
pot.status = "CANCELLED"
pot.resolved_at_ms = now
save_pot(pot)
return finish({ ok = true, pot = pot, accounts = changed, payouts = refunds, rake = 0 })
