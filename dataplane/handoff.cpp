#include "dataplane/handoff.hpp"

#include <stdexcept>
#include <string>

#include <rte_errno.h>
#include <rte_ring.h>

namespace l2tp::dp {

namespace {

using Request = NsRequestMark::Request;

rte_ring* make_ring(const std::string& name, unsigned size, int socket_id) {
  // Multi-producer enqueue (the default), single-consumer dequeue.
  return rte_ring_create(name.c_str(), size, socket_id, RING_F_SC_DEQ);
}

}  // namespace

HandoffRings create_handoff_rings(uint16_t worker, unsigned size, int socket_id) {
  HandoffRings r;
  r.upstream = make_ring("l2tp_hand_up_" + std::to_string(worker), size, socket_id);
  r.downstream = make_ring("l2tp_hand_dn_" + std::to_string(worker), size, socket_id);
  if (r.upstream == nullptr || r.downstream == nullptr) {
    std::string why = rte_strerror(rte_errno);
    free_handoff_rings(r);
    throw std::runtime_error("worker " + std::to_string(worker) + ": handoff rte_ring_create: " + why);
  }
  return r;
}

void free_handoff_rings(HandoffRings& rings) {
  for (rte_ring* r : {rings.upstream, rings.downstream}) {
    if (r == nullptr) continue;
    rte_mbuf* m;
    while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(r);
  }
  rings = HandoffRings{};
}

void NsRequestMark::set(rte_mbuf* m, uint16_t session, uint16_t ns_offset) const {
  *RTE_MBUF_DYNFIELD(m, offset, Request*) = Request{session, ns_offset};
  m->ol_flags |= flag;
}

NsRequestMark::Request NsRequestMark::take(rte_mbuf* m) const {
  m->ol_flags &= ~flag;
  return *RTE_MBUF_DYNFIELD(m, offset, const Request*);
}

NsRequestMark ns_request_mark() {
  static const rte_mbuf_dynfield field = {"l2tp_dp_ns_request", sizeof(Request), alignof(Request), 0};
  static const rte_mbuf_dynflag bit = {"l2tp_dp_ns_request", 0};
  NsRequestMark mark;
  mark.offset = rte_mbuf_dynfield_register(&field);
  const int bitnum = rte_mbuf_dynflag_register(&bit);
  if (mark.offset < 0 || bitnum < 0)
    throw std::runtime_error(std::string("mbuf dynamic field for data Ns: ") + rte_strerror(rte_errno));
  mark.flag = uint64_t{1} << bitnum;
  return mark;
}

}  // namespace l2tp::dp
