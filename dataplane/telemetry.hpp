#pragma once
// The data plane's counters through DPDK telemetry, so Debian's
// dpdk-telemetry.py (and anything speaking its socket protocol) reads them:
//
//   /l2tp/summary              totals: workers, sessions, forwarded, punted, dropped
//   /l2tp/drops                every drop reason, summed over the workers
//   /l2tp/worker,N             one worker lcore's counters and drops
//   /l2tp/ports                RX/TX packets, bytes, misses, errors per port
//   /l2tp/sessions[,PAGE]      local session IDs in the fast path, 256 a page
//   /l2tp/session,ID           one session: IDs, peer, subscriber, packets/bytes each way
//
// Telemetry callbacks run on DPDK's telemetry thread, beside the control
// thread and the workers: they read the workers' counters (each written by
// one worker: a racy but untorn read of 64-bit values, fine for a report)
// and the DataPlane's snapshot of published sessions under its lock, never
// the tables the workers use or anything of the control plane's. A reply
// holds at most 16 KB, 256 dict and 512 array entries: hence the pages and
// the per-session command.

namespace l2tp::dp {

class DataPlane;

// Registers the commands for this data plane (once per process; the
// commands answer "no data plane" once it is gone). Call detach_telemetry()
// before the DataPlane is destroyed.
void attach_telemetry(const DataPlane* dp);
void detach_telemetry();

}  // namespace l2tp::dp
