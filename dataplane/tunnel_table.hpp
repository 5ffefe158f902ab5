#pragma once
// The live tunnels as the workers see them: for each of our local tunnel
// IDs, the IPv4 address of the peer it belongs to, or 0 for none. The
// control thread publishes an ID when it allocates it for a peer (LNS: the
// SCCRQ it answers; LAC: the SCCRQ it sends), before the first message
// that could draw the peer's answer leaves, and withdraws it when the
// tunnel is freed (control/fast_path.hpp tunnel_up/tunnel_down). The
// policer uses it to tell an established tunnel's control messages from
// spoofed ones for random tunnel IDs (dataplane/police.hpp kStray).
//
// Only the address is kept, not the UDP port: RFC 2661 8.1 lets the first
// reply to our SCCRQ come from another port of the peer, and whoever can
// spoof the peer's address can as well send from port 1701.
//
// Each entry is one atomic word, so a reader sees a whole old or a whole
// new value and needs no RCU: the control thread is the one writer
// (release), workers read lock-free (acquire). Invariant: addresses in
// network byte order, as in the outer IPv4 header; tunnel ID 0 (SCCRQ)
// is never published.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace l2tp::dp {

class TunnelTable {
 public:
  static constexpr size_t kSize = 65536;  // every 16-bit tunnel ID

  TunnelTable();  // all withdrawn; 256 KiB, allocated here (start-up)
  TunnelTable(const TunnelTable&) = delete;
  TunnelTable& operator=(const TunnelTable&) = delete;

  // Control thread. publish() replaces what the ID held; false for ID 0 or
  // address 0 (nothing published).
  bool publish(uint16_t local_tunnel_id, uint32_t peer_be);
  void withdraw(uint16_t local_tunnel_id);
  size_t published() const { return published_; }

  // Any thread: the peer's address (network order), 0 when none.
  uint32_t peer(uint16_t local_tunnel_id) const { return peers_[local_tunnel_id].load(std::memory_order_acquire); }
  // True if the tunnel is live and belongs to the peer at addr_be.
  bool matches(uint16_t local_tunnel_id, uint32_t addr_be) const {
    return addr_be != 0 && peer(local_tunnel_id) == addr_be;
  }

 private:
  std::unique_ptr<std::atomic<uint32_t>[]> peers_;
  size_t published_ = 0;  // control thread only
};

}  // namespace l2tp::dp
