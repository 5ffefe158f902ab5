#!/usr/bin/env python3
"""Hidden AVP vectors (RFC 2661 4.3) computed with Python's hashlib, apart
from the C++ code they check. Prints one vector a line:

  attribute_type secret_hex random_vector_hex value_hex pad_len hidden_hex

hidden_test.cpp reads hidden_vectors.txt (this script's output, committed);
tests/scripts/hidden_vectors_test.sh checks the file is what this script makes.
"""
import hashlib


def hide(attr_type, secret, rv, value, pad_len):
    # Subformat: original length (2 octets), value, padding (zeros here).
    plain = len(value).to_bytes(2, "big") + value + bytes(pad_len)
    out = bytearray()
    block_key = hashlib.md5(attr_type.to_bytes(2, "big") + secret + rv).digest()
    for i in range(0, len(plain), 16):
        chunk = plain[i:i + 16]
        cipher = bytes(p ^ k for p, k in zip(chunk, block_key))
        out += cipher
        # b(i+1) = MD5(secret + c(i)), c(i) the whole 16-octet ciphertext block
        block_key = hashlib.md5(secret + cipher).digest()
    return bytes(out)


VECTORS = [
    # type, secret, random vector, value, pad
    (9, b"s3cr3t-tunnel-key", bytes.fromhex("43e2677da54180a82ddbf86438414f87"), (5475).to_bytes(2, "big"), 0),
    (9, b"s3cr3t-tunnel-key", bytes.fromhex("43e2677da54180a82ddbf86438414f87"), (5475).to_bytes(2, "big"), 12),
    (14, b"x", bytes.fromhex("00"), (1).to_bytes(2, "big"), 0),
    (11, b"secret", bytes(range(16)), bytes(range(100, 132)), 0),  # 34-octet subformat: 3 blocks
    (11, b"secret", bytes(range(16)), bytes(range(100, 130)), 0),  # exactly 2 blocks
    (21, b"a much longer shared secret than usual, 64 octets long.........",
     bytes.fromhex("b248fed70985d851180047746542399b"), b"+4930123456789", 16),
    (30, b"k", bytes.fromhex("deadbeef"), b"alice@example.net", 5),
    (26, b"lcp", bytes.fromhex("30bb5d9984a75646c8ea1b6f06ffb30d"),
     bytes.fromhex("0104059c0506c9f8e32f07020802"), 0),
    (8, b"s", bytes.fromhex("21c50613a5ddd4b46cfdce498f9cc116"), b"", 0),  # empty value
    (3, b"secret", bytes.fromhex("a14a7ed434bef0da2e087afa08a3be64"), (3).to_bytes(4, "big"), 0),
]

if __name__ == "__main__":
    for t, s, rv, v, pad in VECTORS:
        print(t, s.hex(), rv.hex(), v.hex() or "-", pad, hide(t, s, rv, v, pad).hex())
