-- Delivers a credit another slot owes to an account of this one, once. KEYS: [1] the delivery
-- mark (the idempotency record of ARGV[2], the credit's id), [2-6] the account's group, [7] the
-- slot's account ids; then the tail. ARGV[7] the credit as the owing script wrote it. The
-- account is opened if it has none yet; the supply does not move (the chips were counted
-- where they left).
local replay = idempotent_replay()
if replay then return replay end
answer_ttl = 7 * IDEMPOTENCY_TTL_SECONDS
local now = now_ms()
local credit = cjson.decode(ARGV[7])
local mine = account_keys(2)
local acct = load_account(credit.to, mine) or create_account(credit.to, mine, KEYS[7], now)
local tx = record(acct, { type = credit.type, source = credit.source, delta = credit.amount,
  reserved_delta = 0, supply = 0, reservation_id = credit.reservation_id,
  reference = credit.reference, idempotency_key = credit.idempotency_key }, now)
return finish({ ok = true, account = view(acct), transaction = tx })
