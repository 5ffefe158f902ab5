// l2tpdump: the project's own L2TPv2 dissector. Decodes every L2TP packet of
// a capture with the wire library and prints one line per packet. Exits 1
// and names the frame and field when something does not decode, 2 on usage
// or file errors.

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "shared/avp_table.hpp"
#include "shared/bytes.hpp"
#include "shared/challenge.hpp"
#include "shared/header.hpp"
#include "shared/message.hpp"
#include "shared/ppp.hpp"
#include "tools/pcap_frames.hpp"

namespace po = boost::program_options;
using namespace l2tp::wire;
using l2tp::tools::Datagram;

namespace {

struct Options {
  std::vector<std::string> files;
  std::string secret;
  bool have_secret = false;
  uint16_t port = kL2tpPort;
  bool verbose = false;
};

std::string endpoint(const std::array<uint8_t, 4>& ip, uint16_t port) {
  return l2tp::tools::format_ip(ip) + ":" + std::to_string(port);
}

class Dumper {
 public:
  Dumper(const Options& o, const std::string& file) : opt_(o), file_(file) {}

  // Returns false when the packet did not decode (already reported).
  bool packet(const Datagram& d) {
    char prefix[128];
    std::snprintf(prefix, sizeof prefix, "%u %.6f ", d.frame, d.time);
    line_ = prefix;
    if (!d.skipped.empty()) {
      if (opt_.verbose) std::printf("%sskipped: %s\n", prefix, d.skipped.c_str());
      // An IPv4 fragment may be part of an L2TP packet this tool cannot see whole.
      if (d.skipped == "IPv4 fragment") std::printf("%sskipped: IPv4 fragment (not reassembled)\n", prefix);
      return true;
    }
    if (d.src_port != opt_.port && d.dst_port != opt_.port) return true;
    const std::string src = endpoint(d.src_ip, d.src_port), dst = endpoint(d.dst_ip, d.dst_port);
    line_ += src + " > " + dst + " ";

    auto h = decode_header(d.payload);
    if (!h) {
      if (h.error().code == Errc::kBadVersion) {
        // RFC 2661 3.1: not ours to decode (L2TPv3 uses the same port).
        std::printf("%sL2TP version %u, not decoded\n", line_.c_str(), h.error().value);
        return true;
      }
      return fail(d, "header", h.error());
    }
    line_ += "tunnel " + std::to_string(h->tunnel_id) + " session " + std::to_string(h->session_id);
    if (h->has_sequence) line_ += " ns " + std::to_string(h->ns) + " nr " + std::to_string(h->nr);
    if (h->has_offset) line_ += " offset " + std::to_string(h->offset_size);
    if (h->priority) line_ += " priority";
    const std::span<const uint8_t> body(d.payload.data() + h->header_len,
                                        h->message_len - h->header_len);
    if (!h->control) return data(d, body, h->has_length);

    DecodeOptions dopt;
    if (opt_.have_secret) dopt.secret = as_bytes(opt_.secret);
    dopt.base_offset = h->header_len;
    auto m = decode_message(body, dopt);
    if (!m) return fail(d, "control message", m.error());
    if (m->zlb) {
      std::printf("%s ZLB\n", line_.c_str());
      return true;
    }
    const char* name = message_type_name(m->message_type);
    if (name) line_ += std::string(" ") + name;
    else line_ += " UNKNOWN-MESSAGE-TYPE(" + std::to_string(m->message_type) +
                  (m->message_type_mandatory ? ",M)" : ")");
    size_t vendor_i = 0, unrec_i = 0;
    bool ok = true;
    for (size_t i = 1; i < m->wire_order.size(); ++i) {  // [0] is the Message Type
      const AvpMeta& a = m->wire_order[i];
      line_ += " ";
      if (a.mandatory) line_ += "*";
      if (a.hidden) line_ += "?";
      if (a.kept == AvpKept::kVendor) {
        const OpaqueAvp& v = m->vendor_avps.at(vendor_i++);
        line_ += "VENDOR" + std::to_string(v.vendor_id) + ":" + std::to_string(v.type) + "=" + to_hex(v.value);
      } else if (a.kept == AvpKept::kUnrecognized) {
        const OpaqueAvp& u = m->unrecognized.at(unrec_i++);
        if (u.vendor_id != 0) line_ += "VENDOR" + std::to_string(u.vendor_id) + ":";
        line_ += "AVP-" + std::to_string(u.type) + (u.reserved ? "(reserved bits)" : "") + "=" + to_hex(u.value);
      } else {
        const AvpSpec* spec = avp_spec(a.type);
        line_ += spec->key;
        if (spec->kind != AvpKind::kEmpty) line_ += "=" + format_avp_value(*m, a.type);
        if (a.type == static_cast<uint16_t>(AvpType::kChallengeResponse)) ok &= check_response(d, *m);
      }
    }
    if (auto s = validate_message(*m); !s && s.error().code == Errc::kMissingAvp) {
      std::printf("%s\n", line_.c_str());
      return fail(d, "control message", s.error(), /*print_line=*/false);
    }
    if (const OpaqueAvp* u = m->unrecognized_mandatory())
      line_ += " [unrecognized mandatory AVP " + std::to_string(u->vendor_id) + ":" + std::to_string(u->type) +
               ": RFC 2661 4.2 tears down the " + (h->session_id ? "session]" : "tunnel]");
    if (m->challenge) challenges_[src] = *m->challenge;
    std::printf("%s\n", line_.c_str());
    return ok;
  }

 private:
  bool data(const Datagram& d, std::span<const uint8_t> body, bool has_length) {
    (void)d;
    line_ += " DATA";
    if (has_length) line_ += " (L)";
    auto p = parse_ppp(body);
    if (!p) {
      line_ += " PPP undecodable: " + p.error().to_string();
    } else {
      const char* n = ppp_protocol_name(p->protocol);
      char proto[16];
      std::snprintf(proto, sizeof proto, "0x%04x", p->protocol);
      line_ += std::string(" ") + (n ? n : proto) + " " + std::to_string(p->information.size()) + " bytes";
    }
    std::printf("%s\n", line_.c_str());
    return true;  // a data payload is opaque to L2TP: not a decode failure
  }

  // 4.4.3: the response in an SCCRP or SCCCN answers the Challenge the other
  // side sent last.
  bool check_response(const Datagram& d, const ControlMessage& m) {
    if (!opt_.have_secret) return true;
    const std::string peer = endpoint(d.dst_ip, d.dst_port);
    auto it = challenges_.find(peer);
    if (it == challenges_.end()) {
      line_ += "(no challenge seen)";
      return true;
    }
    if (challenge_response_matches(m.type(), as_bytes(opt_.secret), it->second, *m.challenge_response)) {
      line_ += "(verified)";
      return true;
    }
    line_ += "(MISMATCH)";
    std::fprintf(stderr, "l2tpdump: %s: frame %u: Challenge Response does not match the secret\n",
                 file_.c_str(), d.frame);
    return false;
  }

  bool fail(const Datagram& d, const char* what, const Error& e, bool print_line = true) {
    if (print_line) std::printf("%s UNDECODABLE\n", line_.c_str());
    std::fprintf(stderr, "l2tpdump: %s: frame %u: %s: %s\n", file_.c_str(), d.frame, what,
                 e.to_string().c_str());
    return false;
  }

  const Options& opt_;
  std::string file_;
  std::string line_;
  std::map<std::string, Bytes> challenges_;  // last Challenge sent, by sender endpoint
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  po::options_description visible(
      "Usage: l2tpdump [options] FILE.pcap...\n"
      "Decodes every L2TPv2 packet (UDP port 1701) of a capture and prints one line per\n"
      "packet: frame, time, addresses, tunnel/session IDs, Ns/Nr, message type and AVPs\n"
      "(*: M bit set, ?: hidden), or DATA with the PPP protocol.\n"
      "Exit status: 0 all decoded, 1 a packet did not decode or a challenge response\n"
      "did not verify (the frame and field go to stderr), 2 usage or file error.\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("secret,s", po::value<std::string>(&opt.secret),
       "tunnel secret: reveals hidden AVPs and verifies challenge responses")
      ("port,p", po::value<uint16_t>(&opt.port)->default_value(kL2tpPort), "UDP port of L2TP")
      ("verbose,v", po::bool_switch(&opt.verbose), "also list frames that are not IPv4/UDP");
  po::options_description all;
  all.add(visible).add_options()("file", po::value<std::vector<std::string>>(&opt.files));
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "l2tpdump: %s (try --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << visible << "\n";
    return 0;
  }
  if (opt.files.empty()) {
    std::fprintf(stderr, "l2tpdump: no capture file given (try --help)\n");
    return 2;
  }
  opt.have_secret = vm.count("secret") > 0;
  int status = 0;
  for (const std::string& file : opt.files) {
    auto cap = l2tp::tools::read_capture(file);
    if (!cap.error.empty()) {
      std::fprintf(stderr, "l2tpdump: %s: %s\n", file.c_str(), cap.error.c_str());
      status = 2;
      continue;
    }
    if (opt.files.size() > 1) std::printf("# %s\n", file.c_str());
    Dumper dumper(opt, file);
    for (const Datagram& d : cap.frames)
      if (!dumper.packet(d) && status == 0) status = 1;
  }
  std::fflush(stdout);
  return status;
}
