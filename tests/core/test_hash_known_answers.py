# core/hashes.py and the pure fallbacks of core/_purehash.py against published answers. On
# CPython hashes.* is hashlib and the pure functions are checked directly; on MicroPython
# hashes.* *is* the pure code (hashlib there has only sha256).
# Sources: FIPS 202 / NIST CSRC examples (SHA3-256 of "", "abc", 200 x 0xA3), FIPS 180-4
# (SHA-256 "abc"), RFC 7693 Appendices A and B (BLAKE2b/2s "abc"); the empty and 0..255 values
# were computed with CPython's hashlib (OpenSSL), an independent implementation.
import expect
from dusk_edge.core import _purehash, hashes


def unhex(text):
    return bytes(int(text[i:i + 2], 16) for i in range(0, len(text), 2))


BYTES_0_255 = bytes(range(256))

SHA3_256 = (
    (b"", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
    (b"abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
    (b"\xa3" * 200, "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787"),
    (BYTES_0_255, "9b04c091da96b997afb8f2585d608aebe9c4a904f7d52c8f28c7e4d2dd9fba5f"),
)
BLAKE2S_256 = (
    (b"", "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"),
    (b"abc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"),
    (BYTES_0_255, "5fdeb59f681d975f52c8e69c5502e02a12a3afcc5836ba58f42784c439228781"),
)
BLAKE2B_512 = (
    (b"", "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
          "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"),
    (b"abc", "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
             "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"),
    (BYTES_0_255, "1ecc896f34d3f9cac484c73f75f6a5fb58ee6784be41b35f46067b9c65c63a67"
                  "94d3d744112c653f73dd7deb6666204c5a9bfa5b46081fc10fdbe7884fa5cbf8"),
)


def check(function, cases, name):
    for data, digest in cases:
        expect.equal(function(data), unhex(digest), "%s of %d bytes" % (name, len(data)))


def test_sha3_256():
    check(hashes.sha3_256, SHA3_256, "hashes.sha3_256")
    check(_purehash.sha3_256, SHA3_256, "_purehash.sha3_256")


def test_blake2s_256():
    check(hashes.blake2s_256, BLAKE2S_256, "hashes.blake2s_256")
    check(_purehash.blake2s_256, BLAKE2S_256, "_purehash.blake2s_256")


def test_blake2b_512():
    check(hashes.blake2b_512, BLAKE2B_512, "hashes.blake2b_512")
    check(_purehash.blake2b_512, BLAKE2B_512, "_purehash.blake2b_512")


def test_sha256():
    expect.equal(hashes.sha256(b"abc"),
                 unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256")


def test_bytearray_and_memoryview_inputs():
    data = bytearray(b"abc")
    for function, cases in ((hashes.sha3_256, SHA3_256), (hashes.blake2s_256, BLAKE2S_256),
                            (hashes.blake2b_512, BLAKE2B_512)):
        expect.equal(function(data), unhex(cases[1][1]))
        expect.equal(function(memoryview(b"abc")), unhex(cases[1][1]))


def test_crc32c():
    expect.equal(hashes.crc32c(b"123456789"), 0xE3069283)
    expect.equal(hashes.crc32c(b"56789", hashes.crc32c(b"1234")), 0xE3069283)


def test_sources_name_the_backend():
    for name in ("sha3_256", "blake2s_256", "blake2b_512"):
        expect.true(hashes.SOURCES[name] in ("hashlib", "pure"), name)
    expect.equal(hashes.SOURCES["sha256"], "hashlib")
