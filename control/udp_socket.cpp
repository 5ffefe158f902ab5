#include "control/udp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace l2tp::control {

namespace {

// Room for our one control message (IP_PKTINFO), aligned for cmsghdr.
// Receive keeps spare room: a cmsg that does not fit sets MSG_CTRUNC and
// would cost us the pktinfo behind it.
union PktinfoControl {
  cmsghdr align;
  char bytes[CMSG_SPACE(sizeof(in_pktinfo))];
};
union RxControl {
  cmsghdr align;
  char bytes[CMSG_SPACE(sizeof(in_pktinfo)) + 64];
};

sockaddr_in to_sockaddr(Endpoint ep) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(ep.port);
  sa.sin_addr.s_addr = htonl(ep.addr);
  return sa;
}

Endpoint from_sockaddr(const sockaddr_in& sa) {
  return Endpoint{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
}

std::system_error socket_error(int err, Endpoint ep, const char* what) {
  return std::system_error(err, std::system_category(),
                           "udp socket " + ep.to_string() + ": " + what);
}

// Tries the root-only FORCE option first, which ignores net.core.*mem_max:
// the daemon runs as root, and a silently capped buffer is the usual cause
// of drops under load. Failures are not fatal: the kernel default still works.
void set_buffer(int fd, int force_opt, int opt, int bytes) {
  if (bytes <= 0) return;
  if (::setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  ::setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

int get_int_option(int fd, int level, int opt) {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, opt, &value, &len) < 0) return -1;
  return value;
}

}  // namespace

struct UdpSocket::Buffers {
  explicit Buffers(size_t max_datagram) : rx_data(kBatch * max_datagram) {}

  std::vector<uint8_t> rx_data;  // kBatch slots of max_datagram bytes
  std::array<mmsghdr, kBatch> rx_msgs{};
  std::array<iovec, kBatch> rx_iov{};
  std::array<sockaddr_in, kBatch> rx_names{};
  std::array<RxControl, kBatch> rx_control{};

  std::array<mmsghdr, kBatch> tx_msgs{};
  std::array<iovec, kBatch> tx_iov{};
  std::array<sockaddr_in, kBatch> tx_names{};
  std::array<PktinfoControl, kBatch> tx_control{};
};

UdpSocket::UdpSocket(const UdpSocketConfig& config)
    : local_(config.bind), max_datagram_(std::max<size_t>(config.max_datagram, 1)) {
  fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) throw socket_error(errno, config.bind, "socket");
  int on = 1;
  // A restarted daemon rebinds 1701 at once. Note that for UDP it also lets
  // a second process bind the same address and port: the pid file, not the
  // bind, is what keeps two daemons apart.
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
    throw socket_error(errno, config.bind, "SO_REUSEADDR");
  // The destination address of each datagram (meta.local).
  if (::setsockopt(fd_.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) < 0)
    throw socket_error(errno, config.bind, "IP_PKTINFO");
  set_buffer(fd_.get(), SO_RCVBUFFORCE, SO_RCVBUF, config.receive_buffer);
  set_buffer(fd_.get(), SO_SNDBUFFORCE, SO_SNDBUF, config.send_buffer);

  sockaddr_in sa = to_sockaddr(config.bind);
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
    throw socket_error(errno, config.bind, "bind");
  socklen_t len = sizeof sa;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) < 0)
    throw socket_error(errno, config.bind, "getsockname");
  local_ = from_sockaddr(sa);

  buffers_ = std::make_unique<Buffers>(max_datagram_);
  for (size_t i = 0; i < kBatch; ++i) {
    buffers_->rx_iov[i] = iovec{buffers_->rx_data.data() + i * max_datagram_, max_datagram_};
    buffers_->tx_msgs[i].msg_hdr.msg_iov = &buffers_->tx_iov[i];
    buffers_->tx_msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

UdpSocket::~UdpSocket() = default;

int UdpSocket::receive_buffer_size() const { return get_int_option(fd_.get(), SOL_SOCKET, SO_RCVBUF); }
int UdpSocket::send_buffer_size() const { return get_int_option(fd_.get(), SOL_SOCKET, SO_SNDBUF); }

size_t UdpSocket::receive_batch(size_t max, const DatagramFn& on_datagram) {
  Buffers& b = *buffers_;
  size_t delivered = 0;
  size_t handled = 0;  // truncated ones too: a flood of them is bounded by max
  while (handled < max) {
    const size_t want = std::min(kBatch, max - handled);
    for (size_t i = 0; i < want; ++i) {
      // recvmmsg rewrites the lengths and flags: reset them every time.
      msghdr& h = b.rx_msgs[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &b.rx_names[i];
      h.msg_namelen = sizeof b.rx_names[i];
      h.msg_iov = &b.rx_iov[i];
      h.msg_iovlen = 1;
      h.msg_control = b.rx_control[i].bytes;
      h.msg_controllen = sizeof b.rx_control[i].bytes;
    }
    int n = ::recvmmsg(fd_.get(), b.rx_msgs.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++counters_.rx_errors;
      break;
    }
    for (int i = 0; i < n; ++i) {
      ++handled;
      msghdr& h = b.rx_msgs[i].msg_hdr;
      // UDP sets MSG_TRUNC when the datagram did not fit: a partial L2TP
      // message must not reach the parser.
      if (h.msg_flags & MSG_TRUNC) {
        ++counters_.rx_truncated;
        continue;
      }
      DatagramMeta meta;
      meta.local = local_;
      if (h.msg_namelen >= sizeof(sockaddr_in) && b.rx_names[i].sin_family == AF_INET)
        meta.peer = from_sockaddr(b.rx_names[i]);
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO) continue;
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        // ipi_addr: the header's destination address, the one the peer
        // used (ipi_spec_dst would be the routing's choice of local address).
        meta.local.addr = ntohl(info.ipi_addr.s_addr);
      }
      const size_t len = b.rx_msgs[i].msg_len;
      ++counters_.rx_datagrams;
      counters_.rx_bytes += len;
      ++delivered;
      on_datagram(meta, std::span<const uint8_t>(static_cast<const uint8_t*>(b.rx_iov[i].iov_base), len));
    }
    if (static_cast<size_t>(n) < want) break;  // the socket is (most likely) empty
  }
  return delivered;
}

size_t UdpSocket::send_batch(std::span<const TxDatagram> batch) {
  Buffers& b = *buffers_;
  size_t sent = 0;
  for (size_t base = 0; base < batch.size(); base += kBatch) {
    const size_t n = std::min(kBatch, batch.size() - base);
    for (size_t i = 0; i < n; ++i) {
      const TxDatagram& d = batch[base + i];
      msghdr& h = b.tx_msgs[i].msg_hdr;
      b.tx_names[i] = to_sockaddr(d.meta.peer);
      h.msg_name = &b.tx_names[i];
      h.msg_namelen = sizeof b.tx_names[i];
      b.tx_iov[i] = iovec{const_cast<uint8_t*>(d.data.data()), d.data.size()};
      h.msg_flags = 0;
      if (d.meta.local.addr == 0) {
        h.msg_control = nullptr;
        h.msg_controllen = 0;
        continue;
      }
      // Source address = the address the peer reached us on, whatever the
      // routing table would pick (a multi-homed LNS).
      h.msg_control = b.tx_control[i].bytes;
      h.msg_controllen = sizeof b.tx_control[i].bytes;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst.s_addr = htonl(d.meta.local.addr);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }

    size_t done = 0;
    while (done < n) {
      int r = ::sendmmsg(fd_.get(), b.tx_msgs.data() + done, static_cast<unsigned>(n - done), MSG_DONTWAIT);
      if (r > 0) {
        for (size_t i = done; i < done + static_cast<size_t>(r); ++i) {
          ++counters_.tx_datagrams;
          counters_.tx_bytes += b.tx_iov[i].iov_len;
        }
        done += static_cast<size_t>(r);
        sent += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        // No room now: the rest of the whole batch is a counted drop (the
        // control thread never waits for the socket).
        counters_.tx_dropped += batch.size() - (base + done);
        return sent;
      }
      // This one datagram was refused (no route, source not local, too
      // big...): count it and send the rest.
      ++counters_.tx_errors;
      ++done;
    }
  }
  return sent;
}

}  // namespace l2tp::control
