-- KEYS: [1] the reservation's locator. Run for a reservation whose holder the caller could not
-- find: if the locator exists now (the reservation was made since), the caller reads again;
-- otherwise the reservation does not exist. Writes nothing.
if redis.call("EXISTS", KEYS[1]) == 1 then return keys_moved("holding reservation " .. ARGV[7]) end
return { 0, cjson.encode(failure("NOT_FOUND", "reservation does not exist")) }
