-- A contribution to the pot of another slot. KEYS: [1] idempotency record; from a reservation
-- then [2] the reservation and [3] the expiry index; then the group of the contributor ARGV[6]
-- names; then the tail. ARGV as record_contribution.lua's. The chips leave the account here
-- and are owed to the pot (deliver_contribution.lua adds them, or sends them back if the pot
-- closed meanwhile); the caller checked the pot was open just before.
local replay = idempotent_replay()
if replay then return replay end
local now = now_ms()
local table_id, hand_id = ARGV[7], ARGV[8]
local id, amount, reservation_id = ARGV[9], tonumber(ARGV[10]), ARGV[11]
local groups = carried_accounts(reservation_id ~= "" and 4 or 2)
local acct, tx = take_for_pot(id, amount, reservation_id, groups, KEYS[2], KEYS[3],
  table_id .. ":" .. hand_id, now)
if not acct then return tx end
owe({ kind = "contribution", table_id = table_id, hand_id = hand_id, from = id,
  amount = amount, reference = table_id .. ":" .. hand_id }, now)
local answer = { ok = true, account = view(acct), transaction = tx }
if reservation_id ~= "" then answer.reservation_status = "COMMITTED" end
return finish(answer)
