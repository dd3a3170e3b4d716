-- ARGV[5] = account id. Creates the account with zero balances unless it exists.
local now = now_ms()
local acct = load_account(ARGV[5])
local created = false
if not acct then
  acct = create_account(ARGV[5], now)
  created = true
end
return { 0, cjson.encode({ ok = true, account = view(acct), created = created }) }
