#include "shared/bytes.hpp"

namespace l2tp::wire {

std::string to_hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 0xF]);
  }
  return s;
}

bool from_hex(std::string_view s, std::vector<uint8_t>& out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  int high = -1;
  for (char c : s) {
    if (c == ':' || c == ' ') continue;
    const int n = nibble(c);
    if (n < 0) return false;
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | n));
      high = -1;
    }
  }
  return high < 0;
}

}  // namespace l2tp::wire
