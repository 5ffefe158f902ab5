#include "dataplane/counters.hpp"

namespace l2tp::dp {

const char* drop_name(Drop drop) {
  switch (drop) {
    case Drop::kRunt: return "runt";
    case Drop::kNotIpv4: return "not_ipv4";
    case Drop::kIpv4Header: return "ipv4_header";
    case Drop::kIpv4Fragment: return "ipv4_fragment";
    case Drop::kNotL2tp: return "not_l2tp";
    case Drop::kUdpLength: return "udp_length";
    case Drop::kL2tpVersion: return "l2tp_version";
    case Drop::kL2tpHeader: return "l2tp_header";
    case Drop::kUnknownSession: return "unknown_session";
    case Drop::kPppHeader: return "ppp_header";
    case Drop::kInnerIpv4Header: return "inner_ipv4_header";
    case Drop::kSpoofedSource: return "spoofed_source";
    case Drop::kTtlExceeded: return "ttl_exceeded";
    case Drop::kNoSubscriber: return "no_subscriber";
    case Drop::kNotOwner: return "not_owner";
    case Drop::kNoHeadroom: return "no_headroom";
    case Drop::kTooBig: return "too_big";
    case Drop::kControlRingFull: return "control_ring_full";
    case Drop::kTxFull: return "tx_full";
    case Drop::kHandoffRingFull: return "handoff_ring_full";
    case Drop::kFragmentationNeeded: return "fragmentation_needed";
    case Drop::kMtuExceeded: return "mtu_exceeded";
    case Drop::kFragmentFailed: return "fragment_failed";
    case Drop::kReassembly: return "reassembly";
    case Drop::kReassembledTooBig: return "reassembled_too_big";
    case Drop::kPolicedControl: return "policed_control";
    case Drop::kPolicedSccrq: return "policed_sccrq";
    case Drop::kPolicedSccrqWorker: return "policed_sccrq_worker";
    case Drop::kPolicedOther: return "policed_other";
    case Drop::kPolicedControlWorker: return "policed_control_worker";
    case Drop::kPolicedOtherWorker: return "policed_other_worker";
    case Drop::kSeqStale: return "seq_stale";
    case Drop::kReorderFlushed: return "reorder_flushed";
    case Drop::kPolicedStray: return "policed_stray";
    case Drop::kPolicedStrayWorker: return "policed_stray_worker";
    case Drop::kCount: break;
  }
  return "?";
}

uint64_t WorkerCounters::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t d : drops) total += d;
  return total;
}

WorkerCounters& WorkerCounters::operator+=(const WorkerCounters& other) {
  rx_access += other.rx_access;
  rx_core += other.rx_core;
  decap += other.decap;
  encap += other.encap;
  to_control += other.to_control;
  from_control += other.from_control;
  tx_access += other.tx_access;
  tx_core += other.tx_core;
  idle_sleeps += other.idle_sleeps;
  handed_off += other.handed_off;
  handed_in += other.handed_in;
  icmp_frag_needed += other.icmp_frag_needed;
  icmp_rate_limited += other.icmp_rate_limited;
  fragmented += other.fragmented;
  fragments += other.fragments;
  mss_clamped += other.mss_clamped;
  outer_fragments += other.outer_fragments;
  reassembled += other.reassembled;
  reordered += other.reordered;
  reorder_gaps += other.reorder_gaps;
  reorder_no_context += other.reorder_no_context;
  for (size_t i = 0; i < kDropCount; ++i) drops[i] += other.drops[i];
  return *this;
}

}  // namespace l2tp::dp
