#include "shared/hidden.hpp"

#include <algorithm>

#include "shared/bytes.hpp"
#include "shared/md5.hpp"

namespace l2tp::wire {

namespace {

// XORs data in place with the key stream. `encrypting` picks which side of
// the XOR feeds the chain: b(i+1) hashes the ciphertext block c(i) both ways.
void apply_key_stream(uint16_t attribute_type, std::span<const uint8_t> secret,
                      std::span<const uint8_t> random_vector, std::span<uint8_t> data,
                      bool encrypting) {
  uint8_t type_be[2];
  store_be16(type_be, attribute_type);
  Md5Digest b = md5({type_be, secret, random_vector});
  for (size_t pos = 0; pos < data.size(); pos += 16) {
    const size_t n = std::min<size_t>(16, data.size() - pos);
    uint8_t cipher[16];
    for (size_t i = 0; i < n; ++i) {
      if (!encrypting) cipher[i] = data[pos + i];
      data[pos + i] ^= b[i];
      if (encrypting) cipher[i] = data[pos + i];
    }
    if (pos + 16 < data.size()) b = md5({secret, std::span<const uint8_t>(cipher, 16)});
  }
}

}  // namespace

void hide_value(uint16_t attribute_type, std::span<const uint8_t> secret,
                std::span<const uint8_t> random_vector, std::span<const uint8_t> value,
                size_t pad_len, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  ByteWriter w(out);
  w.u16(static_cast<uint16_t>(value.size()));
  w.bytes(value);
  out.resize(out.size() + pad_len, 0);
  apply_key_stream(attribute_type, secret, random_vector,
                   std::span<uint8_t>(out.data() + start, out.size() - start), true);
}

Result<std::vector<uint8_t>> unhide_value(uint16_t attribute_type, std::span<const uint8_t> secret,
                                          std::span<const uint8_t> random_vector,
                                          std::span<const uint8_t> hidden) {
  if (hidden.size() < 2)
    return Error{Errc::kTruncated, "hidden Original Length", static_cast<uint32_t>(hidden.size()), 0,
                 attribute_type};
  std::vector<uint8_t> plain(hidden.begin(), hidden.end());
  apply_key_stream(attribute_type, secret, random_vector, plain, false);
  const uint16_t original_len = load_be16(plain.data());
  if (original_len > plain.size() - 2)
    return Error{Errc::kHiddenBadLength, "hidden Original Length", original_len, 0, attribute_type};
  plain.erase(plain.begin(), plain.begin() + 2);
  plain.resize(original_len);
  return plain;
}

}  // namespace l2tp::wire
