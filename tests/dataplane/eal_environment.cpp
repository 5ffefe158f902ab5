#include "eal_environment.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

namespace l2tp::dp::test {

namespace {

rte_mempool* g_pool = nullptr;

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // --no-huge takes its memory from anonymous mmap (-m MB); --in-memory
    // is refused with it in 22.11, --no-shconf keeps /var/run/dpdk clean
    // and lets several test binaries run at once.
    std::vector<std::string> args = {"dataplane_tests", "--no-huge", "-m", "256", "--no-shconf",
                                     "--no-pci", "--no-telemetry", "--log-level=lib.*:error",
                                     "--iova-mode=va"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      std::fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
      std::abort();
    }
    g_pool = rte_pktmbuf_pool_create("test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (g_pool == nullptr) {
      std::fprintf(stderr, "rte_pktmbuf_pool_create: %s\n", rte_strerror(rte_errno));
      std::abort();
    }
  }
  void TearDown() override {
    rte_mempool_free(g_pool);
    g_pool = nullptr;
    rte_eal_cleanup();
  }
};

[[maybe_unused]] ::testing::Environment* const g_env =
    ::testing::AddGlobalTestEnvironment(new EalEnvironment);

}  // namespace

rte_mempool* test_pool() { return g_pool; }

const char* unique_name(const char* prefix) {
  static int counter = 0;
  static std::string name;
  name = std::string(prefix) + "_" + std::to_string(++counter);
  return name.c_str();
}

}  // namespace l2tp::dp::test
