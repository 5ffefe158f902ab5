#pragma once
// MD5 through OpenSSL's libcrypto (EVP interface: the one-shot MD5() calls are
// deprecated in OpenSSL 3). RFC 2661 uses MD5 in two places: the tunnel
// authentication response (4.4.3, via CHAP) and hidden AVPs (4.3).

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace l2tp::wire {

using Md5Digest = std::array<uint8_t, 16>;

// MD5 over the concatenation of parts.
Md5Digest md5(std::initializer_list<std::span<const uint8_t>> parts);

}  // namespace l2tp::wire
