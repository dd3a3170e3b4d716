-- KEYS: [1] idempotency record, [2] the pot, [3] the open pots; from a reservation then [4] the
-- reservation and [5] the expiry index; then the group of the contributor ARGV[6] names; then
-- the tail. ARGV[7] table id, [8] hand id, [9] account, [10] amount, [11] reservation id ('' =
-- from the available balance). From a reservation, the contribution commits it and releases
-- the rest. The contributor lives in the pot's slot (contribute_out.lua serves the others).
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
local acct, tx = take_for_pot(id, amount, reservation_id, groups, KEYS[4], KEYS[5],
  pot.table_id .. ":" .. pot.hand_id, now)
if not acct then return tx end
add_to_pot(pot, id, amount, KEYS[2], KEYS[3])
local answer = { ok = true, account = view(acct), pot = pot, transaction = tx }
if reservation_id ~= "" then answer.reservation_status = "COMMITTED" end
return finish(answer)
