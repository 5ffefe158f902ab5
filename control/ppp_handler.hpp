#pragma once
// The PPP handler seam (DESIGN.md "Control plane"): a session hands its PPP
// frames to a handler and gets frames, events and an end back. The first
// handler is the classic one, pppd on a pty (control/pppd_handler.hpp); a
// built-in PPP stack for carrier scale goes behind the same interface.
//
// Frames cross the seam as L2TP carries them (RFC 2661 5.2): bare PPP, no
// flags, no FCS, no transparency, FF 03 present or not as the PPP peer sent
// it. A handler never rewrites a frame it only forwards.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "control/ppp_watch.hpp"

namespace l2tp::control {

// What a handler tells its session. Every member may be empty (not wanted).
// Callbacks run on the control thread, from the event loop.
struct PppEvents {
  // A PPP frame for the L2TP peer (the session sends it as a data message).
  // The span is valid only during the call. Must not destroy the handler.
  std::function<void(std::span<const uint8_t> ppp)> frame_to_peer;
  // The PPP side is gone for good (pppd exited, or the built-in stack closed
  // the link): the session ends with CDN. Called exactly once, as the
  // handler's last act: the callee may destroy the handler.
  std::function<void(const std::string& why)> ended;
  // LCP up/down (with the MRUs), the authenticated name, IPCP/IPV6CP up and
  // down (addresses, interface IDs): what the fast-path handoff acts on.
  // Must not destroy the handler.
  std::function<void(PppEvent, const PppLinkState&)> link;
};

// One per session.
class PppHandler {
 public:
  virtual ~PppHandler() = default;

  // A PPP frame from the L2TP peer (HDLC-less, FF 03 as the peer sent it).
  // Never blocks: a handler that cannot take it now drops and counts it.
  virtual void frame_from_peer(std::span<const uint8_t> ppp) = 0;

  // The session is going away (CDN, StopCCN, hang-up): stop the PPP side.
  // Idempotent. PppEvents::ended follows once the PPP side is really gone.
  virtual void terminate() = 0;

  // What is known of the link now (control/ppp_watch.hpp).
  virtual const PppLinkState& link_state() const = 0;
  virtual const PppWatchCounters& link_counters() const = 0;
};

}  // namespace l2tp::control
