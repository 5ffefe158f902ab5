#pragma once
// Hidden AVPs (RFC 2661 4.3). The hidden value is the "subformat"
//
//   | Original Length (2) | Original Attribute Value ... | Padding ... |
//
// XORed with a key stream of 16-octet MD5 blocks:
//   b(1) = MD5(Attribute Type (2 octets) + shared secret + Random Vector)
//   b(i) = MD5(shared secret + c(i-1))     c(i) = p(i) XOR b(i)
// where the Random Vector is the value of the Random Vector AVP that stands
// closest before the hidden AVP in the same message. A last partial block is
// XORed with the start of its b(i).

#include <cstdint>
#include <span>
#include <vector>

#include "shared/result.hpp"

namespace l2tp::wire {

// Appends the hidden form of `value` to out: the subformat with `pad_len`
// zero padding octets, encrypted.
void hide_value(uint16_t attribute_type, std::span<const uint8_t> secret,
                std::span<const uint8_t> random_vector, std::span<const uint8_t> value,
                size_t pad_len, std::vector<uint8_t>& out);

// Decrypts a hidden value and returns the original attribute value (padding
// dropped). kHiddenBadLength when the original length field claims more than
// the subformat holds, kTruncated when there is no room for it at all.
Result<std::vector<uint8_t>> unhide_value(uint16_t attribute_type, std::span<const uint8_t> secret,
                                          std::span<const uint8_t> random_vector,
                                          std::span<const uint8_t> hidden);

}  // namespace l2tp::wire
