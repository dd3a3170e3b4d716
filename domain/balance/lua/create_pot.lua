-- KEYS: [1] the pot, [2] the open pots. ARGV[7] table id, [8] hand id. Opens an empty pot
-- unless one exists for the hand.
local now = now_ms()
local pot = load_pot(KEYS[1])
if pot then return { 0, cjson.encode({ ok = true, pot = pot, created = false }) } end
pot = { table_id = ARGV[7], hand_id = ARGV[8], status = "OPEN", total = 0, contributions = {},
  created_at_ms = now }
save_pot(pot, KEYS[1], KEYS[2])
-- cjson writes an empty table as {}, which is what an empty contributions map should be.
return { 0, cjson.encode({ ok = true, pot = pot, created = true }) }
