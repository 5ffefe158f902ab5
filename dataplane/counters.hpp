#pragma once
// Per-worker counters (DESIGN.md: every drop has a counter). One
// WorkerCounters per worker, cache-line aligned so that no two workers
// write the same line; only the owning worker writes it, readers sum them.

#include <array>
#include <cstddef>
#include <cstdint>

#include <rte_common.h>

namespace l2tp::dp {

// Why a packet was dropped. Keep drop_name() in step.
enum class Drop : uint8_t {
  kRunt,             // shorter than the headers it claims
  kNotIpv4,          // neither IPv4 nor ARP (outer, or on the core side)
  kIpv4Header,       // outer IPv4: version, IHL or total length wrong
  kIpv4Fragment,     // outer IPv4 fragment with reassembly off ([dataplane] reassembly = no)
  kNotL2tp,          // IPv4 but not UDP to or from port 1701
  kUdpLength,        // UDP length disagrees with the IPv4 total length
  kL2tpVersion,      // RFC 2661 3.1: version other than 2 is discarded silently
  kL2tpHeader,       // truncated header, Length field or offset beyond the datagram
  kUnknownSession,   // T=0 for a tunnel/session/peer we do not know
  kPppHeader,        // empty PPP frame or an invalid protocol field (RFC 1661 2)
  kInnerIpv4Header,  // the subscriber's IPv4 header is malformed
  kSpoofedSource,    // inner source is not the session's subscriber address
  kTtlExceeded,      // TTL would reach 0 (no ICMP from the fast path)
  kNoSubscriber,     // downstream destination is no fast-path subscriber
  kNotOwner,         // handed over, yet another worker owns the session (republished)
  kNoHeadroom,       // the mbuf cannot take the outer headers
  kTooBig,           // with the outer headers it would exceed 65535 octets
  kControlRingFull,  // the ring to the control thread is full
  kTxFull,           // the port did not take the packet
  kHandoffRingFull,  // the owner worker's handoff ring is full
  kFragmentationNeeded,  // downstream, DF set, longer than the session MTU (ICMP sent unless limited)
  kMtuExceeded,      // downstream, DF clear, longer than the session MTU, "fragment = no"
  kFragmentFailed,   // fragmentation failed: too many fragments, or no mbuf
  kReassembly,       // outer fragment given up: timed out, table full, overlapping, too many
  kReassembledTooBig,  // reassembled outer datagram larger than one mbuf
  kPolicedControl,   // punted L2TP control of a tunnel, LCP, ARP reply over its peer's rate
  kPolicedSccrq,     // punted tunnel-ID-0 control (SCCRQ) over its peer's rate
  kPolicedSccrqWorker,  // punted tunnel-ID-0 control over the worker's cap (all peers)
  kPolicedOther,     // other punted traffic over its peer's rate
  kPolicedControlWorker,  // punted control/LCP/ARP reply over the worker's cap (all peers)
  kPolicedOtherWorker,    // other punted traffic over the worker's cap (all peers)
  kSeqStale,         // RFC 2661 5.4: sequenced data behind the expected Ns (late or duplicated)
  kReorderFlushed,   // held for reordering, then its session was withdrawn or the worker stopped
  kPolicedStray,     // punted control for a tunnel not live or not its sender's, over its peer's rate
  kPolicedStrayWorker,  // ... over the worker's cap (all peers)
  kCount
};
inline constexpr size_t kDropCount = static_cast<size_t>(Drop::kCount);

const char* drop_name(Drop drop);

struct alignas(RTE_CACHE_LINE_SIZE) WorkerCounters {
  uint64_t rx_access = 0;     // packets received on the access port
  uint64_t rx_core = 0;       // packets received on the core port
  uint64_t decap = 0;         // subscriber IPv4 sent to the core port
  uint64_t encap = 0;         // subscriber IPv4 sent to the access port
  uint64_t to_control = 0;    // enqueued to the control thread
  uint64_t from_control = 0;  // dequeued from the control thread
  uint64_t tx_access = 0;     // accepted by the access port
  uint64_t tx_core = 0;       // accepted by the core port
  uint64_t idle_sleeps = 0;
  uint64_t handed_off = 0;    // packets of other workers' sessions, handed to the owner
  uint64_t handed_in = 0;     // packets other workers handed to this one
  uint64_t icmp_frag_needed = 0;   // ICMP "fragmentation needed" sent (dataplane/mtu.hpp)
  uint64_t icmp_rate_limited = 0;  // ... withheld by the rate limit
  uint64_t fragmented = 0;         // downstream packets fragmented to the session MTU
  uint64_t fragments = 0;          // the fragments they became (each also counts in encap)
  uint64_t mss_clamped = 0;        // TCP SYNs whose MSS was lowered, both ways
  uint64_t outer_fragments = 0;  // outer IPv4 fragments taken into reassembly
  uint64_t reassembled = 0;   // outer datagrams they completed
  uint64_t reordered = 0;           // sequenced data delivered after waiting for a predecessor
  uint64_t reorder_gaps = 0;        // sequence gaps given up (timeout, window overrun, no context)
  uint64_t reorder_no_context = 0;  // early packets delivered at once: the reorder pool was empty
  std::array<uint64_t, kDropCount> drops{};

  void count(Drop drop) { ++drops[static_cast<size_t>(drop)]; }
  uint64_t dropped(Drop drop) const { return drops[static_cast<size_t>(drop)]; }
  uint64_t dropped_total() const;
  WorkerCounters& operator+=(const WorkerCounters& other);
};

}  // namespace l2tp::dp
