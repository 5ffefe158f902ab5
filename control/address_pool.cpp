#include "control/address_pool.hpp"

namespace l2tp::control {

std::optional<uint32_t> AddressPool::allocate(std::span<const Ipv4Range> list) {
  for (const Ipv4Range& r : list) {
    if (r.exclude) continue;
    // uint64_t: a range may end at 255.255.255.255.
    for (uint64_t a = r.first; a <= r.last; ++a) {
      const auto addr = static_cast<uint32_t>(a);
      // 0.0.0.0 and 255.255.255.255 are never a peer's address.
      if (addr == 0 || addr == 0xFFFFFFFF || used_.count(addr)) continue;
      if (!ip_list_permits(list, addr)) continue;
      used_.insert(addr);
      return addr;
    }
  }
  return std::nullopt;
}

}  // namespace l2tp::control
