#pragma once
// What a tunnel needs from whoever owns it (the Engine), and what the
// control plane tells the rest of the daemon: the PPP handler seam of
// DESIGN.md (frames both ways, session events) and tunnel events.

#include <cstdint>
#include <optional>
#include <span>

#include "control/transport.hpp"
#include "shared/message.hpp"

namespace l2tp::control {

class Tunnel;
class Session;

// Events of the control plane. Callbacks run on the control thread; they
// may call back into the Engine (hang up a session...) but must not free a
// Tunnel or Session themselves.
class ControlObserver {
 public:
  virtual ~ControlObserver() = default;
  virtual void tunnel_up(const Tunnel&) {}
  virtual void tunnel_down(const Tunnel&, const wire::ResultCode&) {}
  virtual void session_up(const Session&) {}
  virtual void session_down(const Session&, const wire::ResultCode&) {}
  // A PPP frame from the peer for an established session (socket mode, and
  // control frames the data plane hands up).
  virtual void ppp_frame(const Session&, std::span<const uint8_t>) {}
};

class TunnelContext {
 public:
  virtual ~TunnelContext() = default;
  // Box-wide session IDs (unique across tunnels, quarantined when freed).
  virtual std::optional<uint16_t> allocate_session_id(TimePoint now) = 0;
  virtual void release_session_id(uint16_t id, TimePoint now) = 0;
  // The box-wide session limit (max sessions) is checked here too.
  virtual bool session_slot_available() const = 0;
  virtual void random_bytes(std::span<uint8_t> out) = 0;
  // Sends one datagram to the tunnel's peer, from the local address the
  // tunnel was reached on.
  virtual void send_datagram(const Tunnel& tunnel, std::span<const uint8_t> datagram) = 0;
  virtual ControlObserver& observer() = 0;
};

}  // namespace l2tp::control
