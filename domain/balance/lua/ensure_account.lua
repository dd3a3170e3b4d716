-- KEYS: [1-5] the account's group, [6] the account ids. ARGV[7] = account id. Creates the
-- account with zero balances unless it exists.
local now = now_ms()
local mine = account_keys(1)
local acct = load_account(ARGV[7], mine)
local created = false
if not acct then
  acct = create_account(ARGV[7], mine, KEYS[6], now)
  created = true
end
return { 0, cjson.encode({ ok = true, account = view(acct), created = created }) }
