// POLL_REMOVE's update forms, IORING_POLL_UPDATE_EVENTS and
// IORING_POLL_UPDATE_USER_DATA (io_uring_prep_poll_update(3);
// io_uring/poll.c io_poll_remove_prep, io_poll_remove). Spec rules I64-I66
// and I130. Each scenario runs in a child process with its own ring, and the
// child must exit within a deadline: on Debian 5.10 a task that used a poll
// update never finishes exiting, which would otherwise stop the whole run.
#include <poll.h>
#include <unistd.h>

#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

class PollUpdate : public ::testing::TestWithParam<RingConfig> {
 protected:
  void SetUp() override {
    REQUIRE_FEATURE("op_poll_add");
    REQUIRE_FEATURE("op_poll_remove");
    std::string why = UnsupportedReason(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
  }
  // Runs `scenario` in a child on a fresh ring of this configuration; it
  // returns 0 when the kernel did what the rule says, else a code naming
  // the difference. The child must have exited within kExited of its
  // scenario's end (I130).
  void Run(const char* rule, const std::function<int(Ring&, Pipe&)>& scenario,
           const char* codes) {
    const RingConfig config = GetParam();
    int code = control::RunChildScenario([&]() -> int {
      std::unique_ptr<Ring> ring;
      if (Ring::Create(config, &ring) != 0) return 90;
      Pipe p = Pipe::Make();
      return scenario(*ring, p);
    });
    EXPECT_NE(code, control::kChildHung)
        << "the child did not finish exiting within " << control::kExited.count()
        << " s after its scenario (rule I130)";
    EXPECT_NE(code, control::kChildScenarioHung)
        << "the scenario did not end within " << control::kOwed.count() << " s (rule " << rule << ")";
    if (code != control::kChildHung && code != control::kChildScenarioHung) {
      EXPECT_EQ(code, 0) << "rule " << rule << ": " << codes;
    }
  }
};

// Waits for the CQE of `ud` (bounded); its res, or 1 << 30. Every CQE these
// scenarios wait for is due at once (an update's own, or a poll on events
// the pipe already has), so 2 s per CQE is only a bound.
int32_t ResOf(Ring& ring, uint64_t ud, std::vector<Cqe>* seen) {
  for (int i = 0; i < 8; ++i) {
    for (const Cqe& c : *seen) {
      if (c.user_data == ud) return c.res;
    }
    auto more = control::Reap(ring, 1, std::chrono::seconds(2));
    if (more.empty()) break;
    seen->insert(seen->end(), more.begin(), more.end());
  }
  return 1 << 30;
}

// I64: IORING_POLL_UPDATE_EVENTS replaces the mask of a pending poll: a
// POLLIN poll on the write end (never ready) updated to POLLOUT fires.
TEST_P(PollUpdate, UpdateEventsReplacesTheMask) {
  RINGCHECK_RULE("I64 I130");
  Run("I64 I130", [](Ring& r, Pipe& p) {
    io_uring_sqe* sqe = Sqe(r, 1);
    io_uring_prep_poll_add(sqe, p.w.get(), POLLIN);
    sqe->user_data = 1;
    if (!SubmitExpect(r, 1)) return 1;
    io_uring_sqe* up = Sqe(r, 2);
    io_uring_prep_poll_update(up, 1, 0, POLLOUT, IORING_POLL_UPDATE_EVENTS);
    up->user_data = 2;
    if (!SubmitExpect(r, 1)) return 2;
    std::vector<Cqe> seen;
    if (ResOf(r, 2, &seen) != 0) return 3;
    if (!(ResOf(r, 1, &seen) & POLLOUT)) return 4;
    return 0;
  }, "1/2 submit, 3 the update did not post 0, 4 the poll did not fire with POLLOUT");
}

// I65: IORING_POLL_UPDATE_USER_DATA gives a pending poll a new user_data,
// which its CQE carries.
TEST_P(PollUpdate, UpdateUserData) {
  RINGCHECK_RULE("I65 I130");
  Run("I65 I130", [](Ring& r, Pipe& p) {
    io_uring_sqe* sqe = Sqe(r, 1);
    io_uring_prep_poll_add(sqe, p.r.get(), POLLIN);
    sqe->user_data = 1;
    if (!SubmitExpect(r, 1)) return 1;
    io_uring_sqe* up = Sqe(r, 2);
    io_uring_prep_poll_update(up, 1, 77, 0, IORING_POLL_UPDATE_USER_DATA);
    up->user_data = 2;
    if (!SubmitExpect(r, 1)) return 2;
    std::vector<Cqe> seen;
    if (ResOf(r, 2, &seen) != 0) return 3;
    p.Put("a");
    if (!(ResOf(r, 77, &seen) & POLLIN)) return 4;
    for (const Cqe& c : seen) {
      if (c.user_data == 1) return 5;
    }
    return 0;
  }, "3 the update did not post 0, 4 no POLLIN CQE under the new user_data, 5 a CQE under the old one");
}

// I64 I65: both at once: new mask and new user_data.
TEST_P(PollUpdate, UpdateEventsAndUserData) {
  RINGCHECK_RULE("I64 I65 I130");
  Run("I64 I65 I130", [](Ring& r, Pipe& p) {
    io_uring_sqe* sqe = Sqe(r, 1);
    io_uring_prep_poll_add(sqe, p.w.get(), POLLIN);
    sqe->user_data = 1;
    if (!SubmitExpect(r, 1)) return 1;
    io_uring_sqe* up = Sqe(r, 2);
    io_uring_prep_poll_update(up, 1, 88, POLLOUT,
                              IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
    up->user_data = 2;
    if (!SubmitExpect(r, 1)) return 2;
    std::vector<Cqe> seen;
    if (ResOf(r, 2, &seen) != 0) return 3;
    if (!(ResOf(r, 88, &seen) & POLLOUT)) return 4;
    return 0;
  }, "3 the update did not post 0, 4 no POLLOUT CQE under the new user_data");
}

// I66: updating a poll that does not exist is -ENOENT.
TEST_P(PollUpdate, UpdateUnknownEnoent) {
  RINGCHECK_RULE("I66 I130");
  Run("I66 I130", [](Ring& r, Pipe&) {
    io_uring_sqe* up = Sqe(r, 2);
    io_uring_prep_poll_update(up, 0x4343, 0, POLLIN, IORING_POLL_UPDATE_EVENTS);
    up->user_data = 2;
    if (!SubmitExpect(r, 1)) return 1;
    std::vector<Cqe> seen;
    return ResOf(r, 2, &seen) == -ENOENT ? 0 : 3;
  }, "3 not -ENOENT");
}

INSTANTIATE_TEST_SUITE_P(Delivery, PollUpdate,
                         ::testing::ValuesIn(control::DeliveryConfigs()), ConfigParamName);

}  // namespace
}  // namespace ringcheck
