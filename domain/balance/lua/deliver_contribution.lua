-- Delivers a contribution another slot owes to a pot of this one, once. KEYS: [1] the delivery
-- mark (the idempotency record of ARGV[2], the credit's id), [2] the pot, [3] the slot's open
-- pots; then the tail. ARGV[7] the credit. A pot that is no longer OPEN (settled or cancelled
-- between the caller's check and the chips' arrival) takes nothing: the chips are owed back
-- to the contributor, and the answer is the refusal the contribution would have had.
local replay = idempotent_replay()
if replay then return replay end
answer_ttl = 7 * IDEMPOTENCY_TTL_SECONDS
local now = now_ms()
local credit = cjson.decode(ARGV[7])
local pot = load_pot(KEYS[2])
if not pot or pot.status ~= "OPEN" then
  owe({ kind = "credit", to = credit.from, amount = credit.amount, type = "POT_REFUND",
    source = "REFUND", reference = credit.reference }, now)
  if not pot then return finish(failure("NOT_FOUND", "no pot for this table and hand")) end
  return finish(failure("POT_ALREADY_SETTLED", "the pot is already " .. pot.status))
end
add_to_pot(pot, credit.from, credit.amount, KEYS[2], KEYS[3])
return finish({ ok = true, pot = pot })
