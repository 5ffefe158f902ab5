#pragma once
// What ppp-peer negotiates: LCP (RFC 1661 6) and IPCP (RFC 1332 3), as
// policies for the automaton in ppp_cp.hpp. Small on purpose: MRU and
// Magic-Number for LCP, IP-Address for IPCP, no authentication.

#include <cstdint>
#include <functional>

#include "ppp_cp.hpp"

namespace l2tp::peer {

namespace lcp {
// RFC 1661 6: Configuration Option types.
inline constexpr uint8_t kMru = 1;
inline constexpr uint8_t kAccm = 2;  // RFC 1662 7.1
inline constexpr uint8_t kAuthProtocol = 3;
inline constexpr uint8_t kQualityProtocol = 4;
inline constexpr uint8_t kMagicNumber = 5;
inline constexpr uint8_t kPfc = 7;
inline constexpr uint8_t kAcfc = 8;
// RFC 1661 6.1: 1500 unless negotiated. We do not accept a peer MRU below
// pppd's floor (128): IPv4 needs 68 and the tests want real pings.
inline constexpr uint16_t kDefaultMru = 1500;
inline constexpr uint16_t kMinMru = 128;
}  // namespace lcp

namespace ipcp {
// RFC 1332 3: IP-Compression-Protocol (2) and IP-Address (3); type 1
// (IP-Addresses) is deprecated by RFC 1332 3.1.
inline constexpr uint8_t kIpCompression = 2;
inline constexpr uint8_t kIpAddress = 3;
}  // namespace ipcp

class LcpPolicy final : public OptionPolicy {
 public:
  // `random` gives Magic-Numbers (RFC 1661 6.4: as random as possible);
  // tests inject a sequence.
  LcpPolicy(uint16_t mru, std::function<uint32_t()> random);

  void reset() override;
  Bytes build_request() override;
  void on_nak(std::span<const CpOption> options) override;
  void on_reject(std::span<const CpOption> options) override;
  void on_ack(std::span<const CpOption> options) override;
  OptionVerdict check_option(const CpOption& option) override;
  void on_request_acked(std::span<const CpOption> options) override;

  uint16_t our_mru() const { return mru_; }
  uint16_t peer_mru() const { return peer_mru_; }  // largest frame we may send
  uint32_t our_magic() const { return send_magic_ ? magic_ : 0; }
  uint32_t peer_magic() const { return peer_magic_; }

 private:
  uint32_t new_magic();

  uint16_t configured_mru_;
  std::function<uint32_t()> random_;
  uint16_t mru_ = lcp::kDefaultMru;
  uint32_t magic_ = 0;
  bool send_mru_ = true;
  bool send_magic_ = true;
  uint16_t peer_mru_ = lcp::kDefaultMru;
  uint32_t peer_magic_ = 0;
};

class IpcpPolicy final : public OptionPolicy {
 public:
  // Host-order addresses; 0 means "not configured": for `local`, ask the
  // peer for one (request 0.0.0.0, RFC 1332 3.3); for `remote`, accept the
  // address the peer asks for.
  IpcpPolicy(uint32_t local, uint32_t remote) : configured_local_(local), configured_remote_(remote) {
    reset();
  }

  void reset() override;
  Bytes build_request() override;
  void on_nak(std::span<const CpOption> options) override;
  void on_reject(std::span<const CpOption> options) override;
  void on_ack(std::span<const CpOption> options) override;
  OptionVerdict check_option(const CpOption& option) override;
  void on_request_acked(std::span<const CpOption> options) override;

  uint32_t local() const { return local_; }
  uint32_t remote() const { return remote_; }

 private:
  uint32_t configured_local_;
  uint32_t configured_remote_;
  uint32_t local_ = 0;
  uint32_t remote_ = 0;
  bool send_address_ = true;
};

}  // namespace l2tp::peer
