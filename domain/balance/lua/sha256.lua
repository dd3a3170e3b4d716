-- SHA-256 in pure Lua 5.1 with the `bit` library (Valkey's Lua has sha1hex but no SHA-256).
-- Computing it here keeps every ledger append atomic: no client round trip, no retry loop.
-- Valkey's Lua is an interpreter where each `bit` call is a C call, the main cost, so the
-- rounds use as few as the algebra allows: Ch as g ^ (e & (f ^ g)); Maj as b ^ ((a ^ b) &
-- (b ^ c)), where b ^ c is the previous round's a ^ b; and sums are brought back to 32 bits
-- with `%` (a VM instruction, not a call). The bit functions read such sums correctly.
local band, bxor = bit.band, bit.bxor
local rshift, lshift, ror, bor, tohex = bit.rshift, bit.lshift, bit.ror, bit.bor, bit.tohex
local sbyte, schar, srep = string.byte, string.char, string.rep
local TWO32 = 4294967296

local SHA256_K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256_hex(msg)
  local bits = #msg * 8
  msg = msg .. "\128" .. srep("\0", (55 - #msg) % 64)
    .. schar(0, 0, 0, 0, band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
      band(rshift(bits, 8), 255), band(bits, 255))
  local h1, h2, h3, h4 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
  local h5, h6, h7, h8 = 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  local w, k = {}, SHA256_K
  for chunk = 1, #msg, 64 do
    for i = 1, 16 do
      local b1, b2, b3, b4 = sbyte(msg, chunk + i * 4 - 4, chunk + i * 4 - 1)
      w[i] = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    end
    for i = 17, 64 do
      local w15, w2 = w[i - 15], w[i - 2]
      w[i] = (w[i - 16] + w[i - 7] + bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
        + bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))) % TWO32
    end
    local a, b, c, d, e, f, g, h = h1, h2, h3, h4, h5, h6, h7, h8
    local bc = bxor(b, c)
    for i = 1, 64 do
      local t1 = h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(g, band(e, bxor(f, g)))
        + k[i] + w[i]
      local ab = bxor(a, b)
      h, g, f = g, f, e
      e = (d + t1) % TWO32
      d, c = c, b
      a, b = (t1 + bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(b, band(ab, bc))) % TWO32, a
      bc = ab
    end
    h1, h2, h3, h4 = (h1 + a) % TWO32, (h2 + b) % TWO32, (h3 + c) % TWO32, (h4 + d) % TWO32
    h5, h6, h7, h8 = (h5 + e) % TWO32, (h6 + f) % TWO32, (h7 + g) % TWO32, (h8 + h) % TWO32
  end
  return tohex(h1) .. tohex(h2) .. tohex(h3) .. tohex(h4)
    .. tohex(h5) .. tohex(h6) .. tohex(h7) .. tohex(h8)
end
