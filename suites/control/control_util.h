// Shared pieces of the control suite (spec/control.md, rules I): the ring
// configurations where delivery changes, a reaper that checks every CQE for
// kernel-internal errnos (I120), SQE shorthands and CLOCK_MONOTONIC timing.
#ifndef RINGCHECK_SUITES_CONTROL_CONTROL_UTIL_H_
#define RINGCHECK_SUITES_CONTROL_CONTROL_UTIL_H_

#include <gtest/gtest.h>
#include <liburing.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <linux/futex.h>
#include <sys/types.h>

#include "harness/configs.h"
#include "harness/cqes.h"
#include "harness/fd.h"
#include "harness/ring.h"
#include "harness/uapi.h"


// futex2 flags (linux/futex.h 6.7+), for FUTEX_WAIT/WAKE/WAITV.
#ifndef FUTEX2_SIZE_U8
#define FUTEX2_SIZE_U8 0x00
#define FUTEX2_SIZE_U16 0x01
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_SIZE_U64 0x03
#define FUTEX2_NUMA 0x04
#endif
#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE 128
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU
#endif

namespace ringcheck {
namespace control {

// How long to look for a CQE that must not come. Owed completions arrive
// within microseconds; this only bounds the look.
constexpr auto kQuiet = std::chrono::milliseconds(25);
// The upper deadline for anything the kernel owes: holds on a loaded 2-core
// TCG guest.
constexpr auto kOwed = std::chrono::seconds(10);

// default, sqpoll, defer_taskrun_single_issuer, coop_taskrun: the ways a
// completion can reach the CQ (inline, kernel thread, deferred task work,
// cooperative task work).
std::vector<RingConfig> DeliveryConfigs();

// CLOCK_MONOTONIC now, in nanoseconds.
int64_t NowNs();
constexpr int64_t kMs = 1000 * 1000;

// True when `res` is one of the values that must never reach userspace:
// -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ENOIOCTLCMD (515),
// -ERESTART_RESTARTBLOCK (512-516) or -EIOCBQUEUED (529).
bool IsKernelInternalErrno(int32_t res);

// Adds a failure (rule I120) for every CQE carrying a kernel-internal errno.
void CheckNoInternalErrno(const std::vector<Cqe>& cqes);

// CQE names and matching come from the harness (harness/cqes.h); ReapAll
// here is the suite's own, built on Reap (the I120 check, no timeout SQE).
using ::ringcheck::ArrivedInOrder;
using ::ringcheck::Describe;
using ::ringcheck::ExactlyThese;
using ::ringcheck::Want;
using ::ringcheck::WithUserData;

// Waits until `count` CQEs arrived or `timeout` passed, without submitting
// anything (no liburing timeout SQE on kernels without EXT_ARG, which would
// count as a completion for count-based timeouts). Checks I120 on each.
std::vector<Cqe> Reap(Ring& ring, size_t count, std::chrono::milliseconds timeout = kOwed);
// Reap without the I120 check, for the one test that owns that check.
std::vector<Cqe> ReapUnchecked(Ring& ring, size_t count,
                               std::chrono::milliseconds timeout = kOwed);
// Reap(count), then whatever else arrives before the CQ is quiet for kQuiet
// (Reap's I120 check on all of them; harness ReapAll has none).
std::vector<Cqe> ReapAllChecked(Ring& ring, size_t count);

// On SQPOLL rings waits (bounded) until the kernel thread consumed every
// published SQE; returns at once elsewhere.
void WaitSqConsumed(Ring& ring);
// Submits what is queued and checks that `n` SQEs were consumed (on SQPOLL
// rings, at most n: liburing cannot count them there).
::testing::AssertionResult SubmitExpect(Ring& ring, int n);

// The next SQE, prepared as a NOP with user_data and IOSQE_* flags.
io_uring_sqe* Sqe(Ring& ring, uint64_t user_data, uint8_t flags = 0);
// A READ of a directory: accepted at submission on every kernel (a READ of
// fd -1 is refused at submission by 5.10, which looks files up in
// io_init_req), fails at issue with kFailRes.
io_uring_sqe* FailingRead(Ring& ring, uint64_t user_data, uint8_t flags = 0);
constexpr int32_t kFailRes = -EISDIR;

// The one CQE of user_data (a failure when there is not exactly one).
Cqe One(const std::vector<Cqe>& cqes, uint64_t user_data);


// A pipe, both ends owned.
struct Pipe {
  UniqueFd r, w;
  static Pipe Make();  // aborts the test on failure (ADD_FAILURE, invalid fds)
  void Put(const char* bytes = "x");
};

// A child process that exits with `code` when released (its pipe's write
// end closed), or at once when `exit_now`. The destructor kills and reaps it
// if the test did not.
class Kid {
 public:
  static Kid Spawn(int code, bool exit_now = false);
  Kid() = default;
  Kid(Kid&& o) noexcept : pid_(o.pid_), release_(std::move(o.release_)) { o.pid_ = -1; }
  ~Kid();
  pid_t pid() const { return pid_; }
  void Release() { release_.reset(); }
  // Waits (bounded) until the child has exited, without reaping it.
  bool WaitExitedNoReap();
  void Forget() { pid_ = -1; }  // reaped by the test (WAITID)

 private:
  pid_t pid_ = -1;
  UniqueFd release_;
};

// Forks; the child runs `body` (given kOwed) and _exits with its value.
// Returns that exit code, kChildScenarioHung when the scenario did not end
// within kOwed, or kChildHung when the child has not finished exiting
// kExited after its scenario ended (it is then left alone: a task stuck in
// exit cannot be killed or reaped). A healthy exit, ring teardown included,
// takes milliseconds.
constexpr int kChildHung = 1000, kChildScenarioHung = 1001;
constexpr auto kExited = std::chrono::seconds(3);
int RunChildScenario(const std::function<int()>& body);

// Fixture over DeliveryConfigs().
class ControlTest : public RingTest {
 protected:
  Ring& r() { return ring(); }
  std::vector<Cqe> ReapN(size_t n, std::chrono::milliseconds t = kOwed) { return Reap(ring(), n, t); }
  std::vector<Cqe> ReapAllN(size_t n) { return ReapAllChecked(ring(), n); }
  // Nothing arrives within kQuiet.
  ::testing::AssertionResult Quiet();
};

}  // namespace control
}  // namespace ringcheck

#define RINGCHECK_INSTANTIATE_DELIVERY_RINGS(fixture)                                     \
  INSTANTIATE_TEST_SUITE_P(Delivery, fixture,                                            \
                           ::testing::ValuesIn(::ringcheck::control::DeliveryConfigs()), \
                           ::ringcheck::ConfigParamName)

#endif  // RINGCHECK_SUITES_CONTROL_CONTROL_UTIL_H_
