#pragma once
// DatagramIo on a kernel UDP socket: the socket mode of the daemon (no
// DPDK), and the control plane's network in tests.
//
// One socket bound to INADDR_ANY serves every local address: IP_PKTINFO
// tells which address each datagram was sent to (DatagramMeta::local), and
// a send with that meta.local leaves from that address. Batched with
// recvmmsg/sendmmsg, 32 datagrams per syscall, never blocking: a full send
// buffer is a counted drop (IoCounters::tx_dropped).

#include <cstddef>
#include <cstdint>
#include <memory>

#include "control/event_loop.hpp"
#include "control/net.hpp"
#include "shared/header.hpp"

namespace l2tp::control {

struct UdpSocketConfig {
  // RFC 2661 8.1: L2TP listens on UDP 1701. Port 0 binds an ephemeral port
  // (tests): local_endpoint() says which.
  Endpoint bind{0, wire::kL2tpPort};
  // SO_RCVBUF / SO_SNDBUF: bursts of control messages and PPP frames from
  // many tunnels at once must not overflow the kernel's default (~200 KB).
  // 0 keeps the kernel default. A failure to set them is not fatal (the
  // kernel caps them at net.core.rmem_max/wmem_max unless we may force).
  int receive_buffer = 4 << 20;
  int send_buffer = 4 << 20;
  // A larger datagram is counted in rx_truncated and dropped. 9216 covers a
  // jumbo frame; a standard-MTU L2TP datagram is under 1500.
  size_t max_datagram = 9216;
};

class UdpSocket final : public DatagramIo {
 public:
  // Per recvmmsg/sendmmsg call.
  static constexpr size_t kBatch = 32;

  // Creates, configures and binds the socket. Throws std::system_error whose
  // message names the address ("bind 0.0.0.0:1701: Address already in
  // use"): start-up only.
  explicit UdpSocket(const UdpSocketConfig& config = {});
  ~UdpSocket() override;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  size_t send_batch(std::span<const TxDatagram> batch) override;
  size_t receive_batch(size_t max, const DatagramFn& on_datagram) override;
  int wait_fd() const override { return fd_.get(); }
  const IoCounters& counters() const override { return counters_; }

  // The bound address and port (the ephemeral port when bound to port 0).
  Endpoint local_endpoint() const { return local_; }
  // The buffer sizes the kernel actually granted (for the status report).
  int receive_buffer_size() const;
  int send_buffer_size() const;

 private:
  struct Buffers;  // mmsghdr arrays and cmsg space, reused by every call

  UniqueFd fd_;
  Endpoint local_;
  size_t max_datagram_;
  std::unique_ptr<Buffers> buffers_;
  IoCounters counters_;
};

}  // namespace l2tp::control
