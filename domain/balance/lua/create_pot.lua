-- ARGV[5] table id, [6] hand id. Opens an empty pot unless one exists for the hand.
local now = now_ms()
local pot = load_pot(ARGV[5], ARGV[6])
if pot then return { 0, cjson.encode({ ok = true, pot = pot, created = false }) } end
pot = { table_id = ARGV[5], hand_id = ARGV[6], status = "OPEN", total = 0, contributions = {},
  created_at_ms = now }
save_pot(pot)
-- cjson writes an empty table as {}, which is what an empty contributions map should be.
return { 0, cjson.encode({ ok = true, pot = pot, created = true }) }
