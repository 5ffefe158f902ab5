#include "ppp_options.hpp"

#include <utility>

namespace l2tp::peer {

namespace {

Bytes u32_bytes(uint32_t v) {
  Bytes b(4);
  wire::store_be32(b.data(), v);
  return b;
}

Bytes u16_bytes(uint16_t v) {
  Bytes b(2);
  wire::store_be16(b.data(), v);
  return b;
}

using Verdict = OptionPolicy::Verdict;

}  // namespace

// ---------------------------------------------------------------- LCP

LcpPolicy::LcpPolicy(uint16_t mru, std::function<uint32_t()> random)
    : configured_mru_(mru), random_(std::move(random)) {
  reset();
}

uint32_t LcpPolicy::new_magic() {
  // RFC 1661 6.4: zero is not a valid Magic-Number.
  uint32_t m = 0;
  while (m == 0) m = random_();
  return m;
}

void LcpPolicy::reset() {
  mru_ = configured_mru_;
  magic_ = new_magic();
  send_mru_ = true;
  send_magic_ = true;
  peer_mru_ = lcp::kDefaultMru;
  peer_magic_ = 0;
}

Bytes LcpPolicy::build_request() {
  Bytes out;
  if (send_mru_) append_option_u16(out, lcp::kMru, mru_);
  if (send_magic_) append_option_u32(out, lcp::kMagicNumber, magic_);
  return out;
}

void LcpPolicy::on_nak(std::span<const CpOption> options) {
  for (const CpOption& o : options) {
    if (o.type == lcp::kMru && o.value.size() == 2 && send_mru_) {
      // RFC 1661 6.1: take a smaller MRU the peer proposes (we can receive
      // anything up to our buffer size); refuse to go below the floor.
      const uint16_t v = get_u16(o.value);
      if (v >= lcp::kMinMru && v <= configured_mru_) mru_ = v;
    } else if (o.type == lcp::kMagicNumber && send_magic_) {
      // RFC 1661 6.4: a Nak of our Magic-Number may mean a looped-back
      // link; choose a different random number.
      magic_ = new_magic();
    }
    // Options we did not send that the peer suggests (an Auth-Protocol,
    // say) are not taken: we never authenticate (RFC 1661 5.3 allows that).
  }
}

void LcpPolicy::on_reject(std::span<const CpOption> options) {
  for (const CpOption& o : options) {
    if (o.type == lcp::kMru) {
      send_mru_ = false;
      mru_ = lcp::kDefaultMru;
    } else if (o.type == lcp::kMagicNumber) {
      send_magic_ = false;
    }
  }
}

void LcpPolicy::on_ack(std::span<const CpOption>) {}

OptionPolicy::OptionVerdict LcpPolicy::check_option(const CpOption& o) {
  switch (o.type) {
    case lcp::kMru:
      if (o.value.size() != 2) return {Verdict::kReject, {}};
      if (get_u16(o.value) < lcp::kMinMru) return {Verdict::kNak, u16_bytes(lcp::kMinMru)};
      return {Verdict::kAck, {}};
    case lcp::kAccm:
      // RFC 1662 7.1: we always escape every control character, which any
      // ACCM the peer asks for allows.
      return {o.value.size() == 4 ? Verdict::kAck : Verdict::kReject, {}};
    case lcp::kMagicNumber: {
      if (o.value.size() != 4) return {Verdict::kReject, {}};
      const uint32_t v = get_u32(o.value);
      // RFC 1661 6.4: zero is invalid, and our own number coming back may
      // be a loop; Nak with a fresh random number either way.
      if (v == 0 || (send_magic_ && v == magic_)) return {Verdict::kNak, u32_bytes(new_magic())};
      return {Verdict::kAck, {}};
    }
    case lcp::kPfc:
    case lcp::kAcfc:
      // RFC 1661 6.5, 6.6: the peer can receive compressed fields; we still
      // send them in full, which is always allowed. We accept compressed
      // fields from the peer regardless.
      return {o.value.empty() ? Verdict::kAck : Verdict::kReject, {}};
    case lcp::kAuthProtocol:
      // The peer wants us to authenticate: we have no secrets and run with
      // "noauth" semantics, so refuse outright (RFC 1661 5.4).
    case lcp::kQualityProtocol:
    default: return {Verdict::kReject, {}};
  }
}

void LcpPolicy::on_request_acked(std::span<const CpOption> options) {
  peer_mru_ = lcp::kDefaultMru;
  peer_magic_ = 0;
  for (const CpOption& o : options) {
    if (o.type == lcp::kMru) peer_mru_ = get_u16(o.value);
    if (o.type == lcp::kMagicNumber) peer_magic_ = get_u32(o.value);
  }
}

// ---------------------------------------------------------------- IPCP

void IpcpPolicy::reset() {
  local_ = configured_local_;
  remote_ = configured_remote_;
  send_address_ = true;
}

Bytes IpcpPolicy::build_request() {
  Bytes out;
  // RFC 1332 3.3: 0.0.0.0 asks the peer to Nak with an address for us.
  if (send_address_) append_option_u32(out, ipcp::kIpAddress, local_);
  return out;
}

void IpcpPolicy::on_nak(std::span<const CpOption> options) {
  for (const CpOption& o : options) {
    // Like pppd without ipcp-accept-local: a configured address is ours to
    // keep; without one, the peer's suggestion is the address we get.
    if (o.type == ipcp::kIpAddress && o.value.size() == 4 && configured_local_ == 0)
      local_ = get_u32(o.value);
  }
}

void IpcpPolicy::on_reject(std::span<const CpOption> options) {
  for (const CpOption& o : options)
    if (o.type == ipcp::kIpAddress) send_address_ = false;
}

void IpcpPolicy::on_ack(std::span<const CpOption>) {}

OptionPolicy::OptionVerdict IpcpPolicy::check_option(const CpOption& o) {
  if (o.type != ipcp::kIpAddress || o.value.size() != 4) return {Verdict::kReject, {}};
  const uint32_t v = get_u32(o.value);
  if (configured_remote_ != 0) {
    // RFC 1332 3.3: 0.0.0.0 (or an address other than the one we give)
    // gets a Nak with the address the peer is to use.
    if (v != configured_remote_) return {Verdict::kNak, u32_bytes(configured_remote_)};
    return {Verdict::kAck, {}};
  }
  // Nothing to give: a peer without an address cannot be helped.
  if (v == 0) return {Verdict::kReject, {}};
  return {Verdict::kAck, {}};
}

void IpcpPolicy::on_request_acked(std::span<const CpOption> options) {
  for (const CpOption& o : options)
    if (o.type == ipcp::kIpAddress) remote_ = get_u32(o.value);
}

}  // namespace l2tp::peer
