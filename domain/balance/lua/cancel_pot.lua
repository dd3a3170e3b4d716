-- KEYS: [1] idempotency record, [2] the pot, [3] the open pots, from [4] the groups of the
-- contributors ARGV[6] names (as the caller read the pot); then the tail. ARGV[7] table id,
-- [8] hand id. Every contribution goes back to its contributor; one of another slot (after the
-- '|' of ARGV[6]) is owed it through the outbox.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local pot = load_pot(KEYS[2])
if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
if pot.status ~= "OPEN" then
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
local contributors = sorted_keys(pot.contributions)
local groups, remote = carried_accounts(4), remote_accounts()
for _, id in ipairs(contributors) do
  if pot.contributions[id] > 0 and not groups[id] and not remote[id] then return keys_moved(id) end
end
local reference = pot.table_id .. ":" .. pot.hand_id
local changed, refunds = {}, {}
for _, id in ipairs(contributors) do
  local amount = pot.contributions[id]
  if amount > 0 and not groups[id] then
    owe({ kind = "credit", to = id, amount = amount, type = "POT_REFUND", source = "REFUND",
      reference = reference }, now)
    refunds[id] = amount
  elseif amount > 0 then
    local acct = load_account(id, groups[id])
    record(acct, { type = "POT_REFUND", source = "REFUND", delta = amount, reserved_delta = 0,
      supply = 0, reference = reference }, now)
    changed[#changed + 1] = view(acct)
    refunds[id] = amount
  end
end
pot.status = "CANCELLED"
pot.resolved_at_ms = now
save_pot(pot, KEYS[2], KEYS[3])
return finish({ ok = true, pot = pot, accounts = changed, payouts = refunds, rake = 0 })
