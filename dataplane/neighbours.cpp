#include "dataplane/neighbours.hpp"

namespace l2tp::dp {

bool Neighbours::learn(uint16_t port, uint32_t ip, const rte_ether_addr& mac) {
  if (ip == 0 || rte_is_zero_ether_addr(&mac) || !rte_is_unicast_ether_addr(&mac)) return false;
  auto [it, fresh] = table_.try_emplace(key(port, ip), mac);
  if (fresh) {
    ++counters_.learned;
    last_request_.erase(key(port, ip));
    return true;
  }
  if (rte_is_same_ether_addr(&it->second, &mac)) return false;
  it->second = mac;
  ++counters_.changed;
  return true;
}

std::optional<rte_ether_addr> Neighbours::lookup(uint16_t port, uint32_t ip) const {
  auto it = table_.find(key(port, ip));
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

bool Neighbours::may_request(uint16_t port, uint32_t ip, uint64_t now_s) {
  auto [it, fresh] = last_request_.try_emplace(key(port, ip), now_s);
  if (!fresh && it->second == now_s) return false;
  it->second = now_s;
  ++counters_.requests;
  return true;
}

}  // namespace l2tp::dp
