#include "control/ppp_watch.hpp"

#include "shared/bytes.hpp"
#include "shared/ppp.hpp"

namespace l2tp::control {

namespace {

// RFC 1661 5: the codes every control protocol shares.
constexpr uint8_t kConfigureRequest = 1;
constexpr uint8_t kConfigureAck = 2;
constexpr uint8_t kTerminateRequest = 5;
constexpr uint8_t kTerminateAck = 6;
// LCP option 1 (6.1), IPCP option 3 (RFC 1332 3.3), IPV6CP option 1 (RFC 5072 4.1).
constexpr uint8_t kLcpMru = 1;
constexpr uint8_t kIpcpAddress = 3;
constexpr uint8_t kIpv6cpInterfaceId = 1;
// PAP (RFC 1334 2.2) and CHAP (RFC 1994 4) codes.
constexpr uint8_t kPapRequest = 1;
constexpr uint8_t kPapAck = 2;
constexpr uint8_t kChapResponse = 2;
constexpr uint8_t kChapSuccess = 3;

constexpr size_t kCpHeader = 4;  // code, identifier, length

// The packet cut to its Length field (RFC 1661 5: octets past it are
// padding), or empty when the header does not hold together.
std::span<const uint8_t> cp_packet(std::span<const uint8_t> info) {
  if (info.size() < kCpHeader) return {};
  const uint16_t len = wire::load_be16(info.data() + 2);
  if (len < kCpHeader || len > info.size()) return {};
  return info.first(len);
}

// Calls f(type, value) for each option; false when an option length is bad.
template <class F>
bool for_each_option(std::span<const uint8_t> options, F&& f) {
  while (!options.empty()) {
    if (options.size() < 2 || options[1] < 2 || options[1] > options.size()) return false;
    f(options[0], options.subspan(2, options[1] - 2u));
    options = options.subspan(options[1]);
  }
  return true;
}

size_t index(PppDirection d) { return d == PppDirection::kFromPeer ? 0 : 1; }

}  // namespace

const char* ppp_event_name(PppEvent e) {
  switch (e) {
    case PppEvent::kLcpUp: return "LCP up";
    case PppEvent::kLcpDown: return "LCP down";
    case PppEvent::kAuthenticated: return "authenticated";
    case PppEvent::kIpcpUp: return "IPCP up";
    case PppEvent::kIpcpDown: return "IPCP down";
    case PppEvent::kIpv6cpUp: return "IPV6CP up";
    case PppEvent::kIpv6cpDown: return "IPV6CP down";
  }
  return "?";
}

PppWatch::Negotiation& PppWatch::negotiation(Cp cp) {
  return cp == Cp::kLcp ? lcp_ : cp == Cp::kIpcp ? ipcp_ : ipv6cp_;
}

void PppWatch::observe(PppDirection from, std::span<const uint8_t> frame) {
  ++counters_.frames;
  auto f = wire::parse_ppp(frame);
  if (!f) {
    ++counters_.unparsable;
    return;
  }
  if (!wire::ppp_is_control(f->protocol)) ++counters_.data_frames;
  switch (f->protocol) {
    case wire::ppp::kLcp: return on_control(Cp::kLcp, from, f->information);
    case wire::ppp::kIpcp: return on_control(Cp::kIpcp, from, f->information);
    case wire::ppp::kIpv6cp: return on_control(Cp::kIpv6cp, from, f->information);
    case wire::ppp::kPap: return on_pap(from, f->information);
    case wire::ppp::kChap: return on_chap(from, f->information);
    default: return;  // data, and protocols that change nothing we report
  }
}

void PppWatch::down(Cp cp) {
  Negotiation& n = negotiation(cp);
  const bool was_up = n.up;
  n = Negotiation{};
  if (cp == Cp::kLcp) {
    // RFC 1661 3.7: the link is down, so is everything above it; a new LCP
    // negotiation means new authentication too.
    down(Cp::kIpcp);
    down(Cp::kIpv6cp);
    pending_name_[0].reset();
    pending_name_[1].reset();
    if (was_up) {
      state_.lcp_up = false;
      emit(PppEvent::kLcpDown);
    }
    state_.peer_auth_name.clear();
    state_.local_auth_name.clear();
  } else if (cp == Cp::kIpcp && was_up) {
    state_.ipcp_up = false;
    emit(PppEvent::kIpcpDown);
  } else if (cp == Cp::kIpv6cp && was_up) {
    state_.ipv6cp_up = false;
    emit(PppEvent::kIpv6cpDown);
  }
}

void PppWatch::on_control(Cp cp, PppDirection from, std::span<const uint8_t> info) {
  const auto packet = cp_packet(info);
  if (packet.empty()) {
    ++counters_.unparsable;
    return;
  }
  Negotiation& n = negotiation(cp);
  const uint8_t code = packet[0];
  const bool from_peer = from == PppDirection::kFromPeer;
  if (code == kTerminateRequest || code == kTerminateAck) {
    down(cp);
    return;
  }
  if (code == kConfigureRequest) {
    // A new request from an opened protocol is a renegotiation: it is down
    // until both sides have acknowledged again (RFC 1661 4.3, event RCR+ in
    // Opened goes to Ack-Sent via This-Layer-Down).
    if (n.up) down(cp);
    (from_peer ? n.peer_acked : n.local_acked) = false;
    return;
  }
  if (code != kConfigureAck) return;
  // The Ack's options are the acknowledged request's: the receiver of
  // this Ack is the side they describe.
  const bool about_local = from_peer;
  bool ok = for_each_option(packet.subspan(kCpHeader), [&](uint8_t type, std::span<const uint8_t> v) {
    if (cp == Cp::kLcp && type == kLcpMru && v.size() == 2) {
      (about_local ? state_.local_mru : state_.peer_mru) = wire::load_be16(v.data());
    } else if (cp == Cp::kIpcp && type == kIpcpAddress && v.size() == 4) {
      (about_local ? state_.local_ipv4 : state_.peer_ipv4) = wire::load_be32(v.data());
    } else if (cp == Cp::kIpv6cp && type == kIpv6cpInterfaceId && v.size() == 8) {
      (about_local ? state_.local_interface_id : state_.peer_interface_id) = wire::load_be64(v.data());
    }
  });
  if (!ok) {
    ++counters_.unparsable;
    return;
  }
  // An Ack from the peer acknowledges local's request, and the other way.
  (from_peer ? n.local_acked : n.peer_acked) = true;
  if (n.up || !n.peer_acked || !n.local_acked) return;
  n.up = true;
  switch (cp) {
    case Cp::kLcp:
      state_.lcp_up = true;
      emit(PppEvent::kLcpUp);
      break;
    case Cp::kIpcp:
      state_.ipcp_up = true;
      emit(PppEvent::kIpcpUp);
      break;
    case Cp::kIpv6cp:
      state_.ipv6cp_up = true;
      emit(PppEvent::kIpv6cpUp);
      break;
  }
}

void PppWatch::authenticated(PppDirection verdict_from) {
  // The verdict is on the other side's request.
  const size_t asker = verdict_from == PppDirection::kFromPeer ? 1 : 0;
  if (!pending_name_[asker]) return;
  (asker == 0 ? state_.peer_auth_name : state_.local_auth_name) = std::move(*pending_name_[asker]);
  pending_name_[asker].reset();
  emit(PppEvent::kAuthenticated);
}

void PppWatch::on_pap(PppDirection from, std::span<const uint8_t> info) {
  const auto packet = cp_packet(info);
  if (packet.empty()) {
    ++counters_.unparsable;
    return;
  }
  if (packet[0] == kPapRequest) {
    // RFC 1334 2.2.1: Peer-ID Length, Peer-ID, Passwd-Length, Password.
    const auto body = packet.subspan(kCpHeader);
    if (body.empty() || body[0] + 1u > body.size()) {
      ++counters_.unparsable;
      return;
    }
    pending_name_[index(from)] = std::string(reinterpret_cast<const char*>(body.data() + 1), body[0]);
  } else if (packet[0] == kPapAck) {
    authenticated(from);
  }
}

void PppWatch::on_chap(PppDirection from, std::span<const uint8_t> info) {
  const auto packet = cp_packet(info);
  if (packet.empty()) {
    ++counters_.unparsable;
    return;
  }
  if (packet[0] == kChapResponse) {
    // RFC 1994 4.1: Value-Size, Value, then the Name to the end.
    const auto body = packet.subspan(kCpHeader);
    if (body.empty() || body[0] + 1u > body.size()) {
      ++counters_.unparsable;
      return;
    }
    const auto name = body.subspan(1u + body[0]);
    pending_name_[index(from)] = std::string(reinterpret_cast<const char*>(name.data()), name.size());
  } else if (packet[0] == kChapSuccess) {
    authenticated(from);
  }
}

}  // namespace l2tp::control
