#include "tools/pcap_frames.hpp"

#include <pcap/pcap.h>

#include <memory>

namespace l2tp::tools {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88A8;
constexpr uint8_t kIpProtoUdp = 17;

// Fills d from one captured frame starting at its IPv4 header.
void parse_ipv4(const uint8_t* p, size_t len, Datagram& d) {
  if (len < 20 || (p[0] >> 4) != 4) { d.skipped = "not IPv4"; return; }
  const size_t ihl = size_t{p[0] & 0x0Fu} * 4;
  const size_t total = be16(p + 2);
  if (ihl < 20 || total < ihl || total > len) { d.skipped = "truncated IPv4"; return; }
  if ((be16(p + 6) & 0x3FFF) != 0) { d.skipped = "IPv4 fragment"; return; }
  if (p[9] != kIpProtoUdp) { d.skipped = "not UDP"; return; }
  std::copy(p + 12, p + 16, d.src_ip.begin());
  std::copy(p + 16, p + 20, d.dst_ip.begin());
  const uint8_t* u = p + ihl;
  const size_t ulen_avail = total - ihl;
  if (ulen_avail < 8) { d.skipped = "truncated UDP"; return; }
  const size_t ulen = be16(u + 4);
  if (ulen < 8 || ulen > ulen_avail) { d.skipped = "bad UDP length"; return; }
  d.src_port = be16(u);
  d.dst_port = be16(u + 2);
  d.payload.assign(u + 8, u + ulen);
}

}  // namespace

std::string format_ip(const std::array<uint8_t, 4>& ip) {
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]);
}

Capture read_capture(const std::string& path) {
  Capture c;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> pc(pcap_open_offline(path.c_str(), errbuf), pcap_close);
  if (!pc) {
    c.error = errbuf;
    return c;
  }
  const int link = pcap_datalink(pc.get());
  if (link != DLT_EN10MB && link != DLT_LINUX_SLL && link != DLT_RAW) {
    c.error = std::string("unsupported link type ") + std::to_string(link);
    return c;
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  double t0 = -1;
  uint32_t n = 0;
  int rc;
  while ((rc = pcap_next_ex(pc.get(), &hdr, &data)) == 1) {
    Datagram d;
    d.frame = ++n;
    const double t = static_cast<double>(hdr->ts.tv_sec) + hdr->ts.tv_usec / 1e6;
    if (t0 < 0) t0 = t;
    d.time = t - t0;
    size_t len = hdr->caplen;
    const uint8_t* p = data;
    uint16_t ethertype = 0;
    if (link == DLT_EN10MB) {
      if (len < 14) { d.skipped = "truncated Ethernet"; c.frames.push_back(std::move(d)); continue; }
      ethertype = be16(p + 12);
      p += 14;
      len -= 14;
      while ((ethertype == kEtherVlan || ethertype == kEtherQinQ) && len >= 4) {
        ethertype = be16(p + 2);
        p += 4;
        len -= 4;
      }
    } else if (link == DLT_LINUX_SLL) {
      if (len < 16) { d.skipped = "truncated SLL"; c.frames.push_back(std::move(d)); continue; }
      ethertype = be16(p + 14);
      p += 16;
      len -= 16;
    } else {
      ethertype = kEtherIpv4;
    }
    if (ethertype == kEtherIpv4) parse_ipv4(p, len, d);
    else d.skipped = "not IPv4";
    c.frames.push_back(std::move(d));
  }
  if (rc == -1) c.error = pcap_geterr(pc.get());
  return c;
}

}  // namespace l2tp::tools
