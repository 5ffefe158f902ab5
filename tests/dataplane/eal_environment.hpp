#pragma once
// EAL is initialised once per test binary (CONVENTIONS.md "Tests"), without
// hugepages, shared files or PCI: the tests run as any user on any machine.

#include <rte_mempool.h>

namespace l2tp::dp::test {

// The mbuf pool every test allocates from (created by the environment).
rte_mempool* test_pool();

// A name unique within this process, for DPDK objects (hashes, rings).
const char* unique_name(const char* prefix);

}  // namespace l2tp::dp::test
