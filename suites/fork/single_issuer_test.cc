// Rings bound to one task (IORING_SETUP_SINGLE_ISSUER, DEFER_TASKRUN) and
// task-private state (the registered ring table) seen from a forked child
// (io_uring_setup(2), io_uring_register(2), io_uring_enter(2); rules A31-A37
// of spec/fork.md).
#include <gtest/gtest.h>
#include <liburing.h>

#include <vector>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/in_child.h"
#include "harness/matchers.h"

namespace ringcheck {
namespace {

// Submits one NOP from the calling task and reaps it: on 6.0, where the
// submitter was the first task to submit, this makes the parent the
// submitter too.
void SubmitNopAndReap(Ring& ring, uint64_t user_data) {
  io_uring_sqe* sqe = ring.NextSqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  ASSERT_RESULT(ring.Submit(), 1, "the parent's own submit");
  ASSERT_EQ(ring.Reap(1).size(), 1u) << "the parent's own NOP did not complete";
}

// io_uring_enter / IORING_REGISTER_PROBE from a forked child: the result in
// slot 0 of the run.
ChildRun ChildEnter(Ring& ring, unsigned to_submit, unsigned flags) {
  return InChild([&](ChildChannel& child) {
    child.Put(0, io_uring_enter(ring.fd(), to_submit, 0, flags, nullptr));
  });
}

long RegisterProbe(Ring& ring) {
  char buf[sizeof(io_uring_probe) + 8 * sizeof(io_uring_probe_op)] = {};
  return io_uring_register_probe(ring.get(), reinterpret_cast<io_uring_probe*>(buf), 8);
}

ChildRun ChildRegisterProbe(Ring& ring) {
  return InChild([&](ChildChannel& child) { child.Put(0, RegisterProbe(ring)); });
}

// Both SINGLE_ISSUER configurations of the matrix.
class SingleIssuer : public RingTest {
 protected:
  void SetUp() override {
    RINGCHECK_RULE("A31 A32");
    RingTest::SetUp();
  }
  void SetUpRing() override { SubmitNopAndReap(ring(), 1); }
};

// A31: another task (here a forked child) submitting gets -EEXIST, and its
// NOP does not run.
TEST_P(SingleIssuer, ChildSubmitIsEexist) {
  RINGCHECK_RULE("A31");
  ChildRun run = InChild([&](ChildChannel& child) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring().get());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_nop(sqe);
    sqe->user_data = 0xbad;
    child.Put(0, io_uring_submit(ring().get()));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EEXIST, "A31");
  EXPECT_TRUE(ring().Reap(1, kNoMoreCqes).empty()) << "the child's NOP completed (rule A31)";
}

// A32: any io_uring_register call from another task gets -EEXIST.
TEST_P(SingleIssuer, ChildRegisterIsEexist) {
  RINGCHECK_RULE("A32");
  ChildRun run = ChildRegisterProbe(ring());
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EEXIST, "A32");
}

INSTANTIATE_TEST_SUITE_P(Rings, SingleIssuer,
                         ::testing::Values(ConfigNamed("single_issuer"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// A33: without DEFER_TASKRUN, another task may still wait for completions.
TEST(SingleIssuerOnly, ChildWaitIsAllowed) {
  RINGCHECK_RULE("A33");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("single_issuer"));
  SubmitNopAndReap(*ring, 1);
  ChildRun run = ChildEnter(*ring, 0, IORING_ENTER_GETEVENTS);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 0, "A33");
}

// A34: with DEFER_TASKRUN only the submitter may run task work, so another
// task's GETEVENTS is refused.
TEST(DeferTaskrun, ChildWaitIsEexist) {
  RINGCHECK_RULE("A34");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("defer_taskrun_single_issuer"));
  SubmitNopAndReap(*ring, 1);
  ChildRun run = ChildEnter(*ring, 0, IORING_ENTER_GETEVENTS);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EEXIST, "A34");
}

RingConfig SqpollSingleIssuer() {
  RingConfig c = ConfigNamed("sqpoll");
  c.name = "sqpoll_single_issuer";
  c.flags |= IORING_SETUP_SINGLE_ISSUER;
  return c;
}

// A35: on an SQPOLL ring io_uring_enter returns to_submit before any
// submitter check, so a child is never refused there ...
TEST(SqpollSingleIssuer, ChildEnterReturnsToSubmit) {
  RINGCHECK_RULE("A35");
  CREATE_RING_OR_SKIP(ring, SqpollSingleIssuer());
  ChildRun run = ChildEnter(*ring, 2, 0);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 2, "A35");
}

// ... but registration still checks the submitter task.
TEST(SqpollSingleIssuer, ChildRegisterIsEexist) {
  RINGCHECK_RULE("A35");
  CREATE_RING_OR_SKIP(ring, SqpollSingleIssuer());
  ChildRun run = ChildRegisterProbe(*ring);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EEXIST, "A35");
}

// A36: a SINGLE_ISSUER ring created R_DISABLED has no submitter until
// IORING_REGISTER_ENABLE_RINGS; the task that enables it becomes the
// submitter, even a child, and the creator is then the outsider.
TEST(RDisabledSingleIssuer, EnablingChildBecomesTheSubmitter) {
  RINGCHECK_RULE("A36");
  REQUIRE_FEATURE("setup_r_disabled");
  REQUIRE_FEATURE("setup_single_issuer");
  RingConfig config = ConfigNamed("r_disabled");
  config.flags |= IORING_SETUP_SINGLE_ISSUER;
  std::unique_ptr<Ring> ring;
  ASSERT_RESULT(Ring::Create(config, &ring, /*keep_disabled=*/true), 0, "A36: ring setup");
  ChildRun run = InChild([&](ChildChannel& child) {
    child.Put(0, io_uring_enable_rings(ring->get()));
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_nop(sqe);
    sqe->user_data = 0xe7ab1e;
    child.Put(1, io_uring_submit(ring->get()));
  });
  ASSERT_CHILD_RAN(run);
  ASSERT_RESULT(run.Value(0), 0, "A36: the child enables the ring");
  EXPECT_RESULT(run.Value(1), 1, "A36: the enabling child submits");
  EXPECT_RESULT(RegisterProbe(*ring), -EEXIST, "A36: the creator is no longer the submitter");
}

// A37: the registered ring table is per task and fork does not copy it: the
// parent's index means nothing in the child.
TEST(RegisteredRingIndex, ChildCannotUseParentsIndex) {
  RINGCHECK_RULE("A37");
  REQUIRE_FEATURE("register_ring_fds");
  REQUIRE_FEATURE("enter_registered_ring");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ASSERT_RESULT(io_uring_register_ring_fd(ring->get()), 1, "A37: register the ring fd");
  const unsigned index = ring->get()->enter_ring_fd;
  const unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_REGISTERED_RING;
  ASSERT_RESULT(io_uring_enter(index, 0, 0, flags, nullptr), 0, "A37: the index in the parent");
  ChildRun run = InChild(
      [&](ChildChannel& child) { child.Put(0, io_uring_enter(index, 0, 0, flags, nullptr)); });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EINVAL, "A37");
}

}  // namespace
}  // namespace ringcheck
