#pragma once
// PPP addresses handed out from an [lns]'s "ip range" / "local ip range"
// lists, the way xl2tpd's get_addr() does it: the first address of the
// list's allowing ranges, in file order, that the whole list admits (its
// last matching entry allows it: a "no ip range" carves holes) and that no
// live call on the box holds. One pool per daemon: an address is in use
// box-wide, whichever entry handed it out, as in xl2tpd.
//
// Invariant: addresses in host byte order.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_set>

#include "control/config.hpp"

namespace l2tp::control {

class AddressPool {
 public:
  // An address from list, marked in use; nullopt when the list has none
  // left (the call is refused rather than given a shared address).
  // Cost: the scan starts at the first range on every call, O(addresses
  // already taken from the list); fine for the thousands of sessions a
  // pppd-per-session box can carry.
  std::optional<uint32_t> allocate(std::span<const Ipv4Range> list);
  // Marks an address given by configuration ("local ip") as in use, so no
  // peer gets it; false when something already holds it.
  bool reserve(uint32_t addr) { return used_.insert(addr).second; }
  // Back into the pool; false (and nothing changes) when it was not in use.
  bool release(uint32_t addr) { return used_.erase(addr) > 0; }

  bool in_use(uint32_t addr) const { return used_.count(addr) > 0; }
  std::size_t used() const { return used_.size(); }

 private:
  std::unordered_set<uint32_t> used_;
};

}  // namespace l2tp::control
