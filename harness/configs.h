// The configuration matrix: named setup-flag combinations that "for all
// rings" tests run under, as GoogleTest value parameters.
//
//   class Nop : public ringcheck::RingTest {};
//   TEST_P(Nop, OneCqePerSqe) { ... ring() ... }
//   RINGCHECK_INSTANTIATE_ALL_RINGS(Nop);
//
// A configuration the kernel refuses SKIPs with "unsupported:setup_<flag>"
// when the probe shows the kernel lacks that flag; if every flag is known to
// the kernel but the combination still fails, the test FAILs.
#ifndef RINGCHECK_HARNESS_CONFIGS_H_
#define RINGCHECK_HARNESS_CONFIGS_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness/errno_names.h"
#include "harness/ring.h"

namespace ringcheck {

// The SQPOLL thread's idle time (sq_thread_idle) of every SQPOLL
// configuration: short, so an idle thread sleeps soon and does not spin a
// core through a test's quiet windows (liburing wakes it on the next
// submit, IORING_SQ_NEED_WAKEUP), and the wake-up path is exercised often.
constexpr unsigned kSqThreadIdleMs = 10;

const std::vector<RingConfig>& AllRingConfigs();
const RingConfig& ConfigNamed(const std::string& name);  // aborts if unknown

std::string ConfigParamName(const ::testing::TestParamInfo<RingConfig>& info);

// "unsupported:setup_<flag>" (first missing flag) when the kernel lacks a flag
// the configuration needs; "" when it has them all.
std::string UnsupportedReason(const RingConfig& config);

// Creates the ring; on failure fills *why_skip with a SKIP reason when the
// kernel lacks a flag, and returns the -errno.
int CreateRingForTest(const RingConfig& config, std::unique_ptr<Ring>* out,
                      std::string* why_skip);

// Fixture for tests over the whole matrix. A fixture that needs more than
// the ring overrides SetUpRing(), which runs only once the ring exists (not
// after a SKIP or a failed setup), instead of repeating that check in SetUp.
class RingTest : public ::testing::TestWithParam<RingConfig> {
 protected:
  void SetUp() override;
  virtual void SetUpRing() {}
  Ring& ring() { return *ring_; }
  std::unique_ptr<Ring> ring_;
};

}  // namespace ringcheck

// In a test body: creates `var` (std::unique_ptr<Ring>) or SKIPs/FAILs.
#define CREATE_RING_OR_SKIP(var, config)                                              \
  std::unique_ptr<::ringcheck::Ring> var;                                             \
  do {                                                                                \
    std::string ringcheck_why_;                                                       \
    int ringcheck_ret_ = ::ringcheck::CreateRingForTest((config), &var, &ringcheck_why_); \
    if (ringcheck_ret_ < 0) {                                                         \
      if (!ringcheck_why_.empty()) GTEST_SKIP() << ringcheck_why_;                    \
      FAIL() << "ring setup failed: " << ::ringcheck::ResultName(ringcheck_ret_)     \
             << " for configuration " << (config).name;                               \
    }                                                                                 \
  } while (0)

#define RINGCHECK_INSTANTIATE_ALL_RINGS(fixture)                                   \
  INSTANTIATE_TEST_SUITE_P(AllRings, fixture,                                     \
                           ::testing::ValuesIn(::ringcheck::AllRingConfigs()),    \
                           ::ringcheck::ConfigParamName)

#endif  // RINGCHECK_HARNESS_CONFIGS_H_
