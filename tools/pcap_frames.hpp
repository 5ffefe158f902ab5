#pragma once
// Reads the IPv4/UDP datagrams of a capture file with libpcap, for l2tpdump
// and the capture tests. Link types: Ethernet (with 802.1Q/802.1ad tags),
// Linux cooked (SLL), raw IPv4.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace l2tp::tools {

struct Datagram {
  uint32_t frame = 0;          // 1-based, as tshark numbers frames
  double time = 0;             // seconds since the first frame
  std::array<uint8_t, 4> src_ip{}, dst_ip{};
  uint16_t src_port = 0, dst_port = 0;
  std::vector<uint8_t> payload;  // UDP payload
  // Frames that are not one whole IPv4/UDP datagram say why here (and have
  // no payload): "not IPv4", "IPv4 fragment", "truncated", ...
  std::string skipped;
};

struct Capture {
  std::vector<Datagram> frames;
  std::string error;  // empty on success
};

Capture read_capture(const std::string& path);

std::string format_ip(const std::array<uint8_t, 4>& ip);

}  // namespace l2tp::tools
