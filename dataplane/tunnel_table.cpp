#include "dataplane/tunnel_table.hpp"

namespace l2tp::dp {

// Value-initialised: every entry 0, no tunnel.
TunnelTable::TunnelTable() : peers_(new std::atomic<uint32_t>[kSize]()) {}

bool TunnelTable::publish(uint16_t id, uint32_t peer_be) {
  if (id == 0 || peer_be == 0) return false;
  const uint32_t old = peers_[id].exchange(peer_be, std::memory_order_release);
  if (old == 0) ++published_;
  return true;
}

void TunnelTable::withdraw(uint16_t id) {
  if (peers_[id].exchange(0, std::memory_order_release) != 0) --published_;
}

}  // namespace l2tp::dp
