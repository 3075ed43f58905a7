// A child of fork() and the ring it inherits without io_uring_ring_dontfork:
// the fd, the shared ring memory, and what the kernel lets the child do with
// them (io_uring(7), io_uring_ring_dontfork(3); rules A22-A29 of
// spec/fork.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <liburing.h>

#include <cstring>
#include <vector>

#include "harness/configs.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/pages.h"

namespace ringcheck {
namespace {

// Waits (in a child) for the CQE at the head without consuming it, so the
// parent still finds it; its res, or ChildRun::kUnset when none came.
long PeekCqeInChild(io_uring* r) {
  __kernel_timespec ts = {5, 0};
  io_uring_cqe* cqe = nullptr;
  if (io_uring_wait_cqe_timeout(r, &cqe, &ts) != 0 || cqe == nullptr) return ChildRun::kUnset;
  return cqe->res;
}

bool HoldsPattern(const char* buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (static_cast<unsigned char>(buf[i]) != PatternByte(i)) return false;
  }
  return true;
}

bool AllZero(const char* buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (buf[i] != 0) return false;
  }
  return true;
}

// A22: io_uring_setup creates the fd O_CLOEXEC; fork keeps it (and its flag).
TEST(RingInChild, FdIsInheritedWithCloexec) {
  RINGCHECK_RULE("A22");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ASSERT_EQ(fcntl(ring->fd(), F_GETFD), FD_CLOEXEC) << "in the parent (rule A22)";
  ChildRun run =
      InChild([&](ChildChannel& child) { child.Put(0, SysResult(fcntl(ring->fd(), F_GETFD))); });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), FD_CLOEXEC, "A22");
}

// A23: without dontfork the ring memory is MAP_SHARED between parent and
// child: each sees what the other writes into an SQE slot.
TEST(RingInChild, SharesRingMemoryWithParent) {
  RINGCHECK_RULE("A23");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  io_uring_sqe* sqes = ring->get()->sq.sqes;
  sqes[0].user_data = 0x1111;
  ChildRun run = InChild([&](ChildChannel& child) {
    child.Put(0, static_cast<long>(sqes[0].user_data));
    sqes[1].user_data = 0x2222;
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_EQ(run.Value(0), 0x1111) << "the child did not see the parent's write (rule A23)";
  EXPECT_EQ(sqes[1].user_data, 0x2222u) << "the parent did not see the child's write (rule A23)";
}

// A23, A25: a NOP the child queues and submits through the inherited fd
// completes into the CQ ring the parent reads.
TEST(RingInChild, ChildSubmitCompletesInParentsCq) {
  RINGCHECK_RULE("A23 A25");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ChildRun run = InChild([&](ChildChannel& child) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_nop(sqe);
    sqe->user_data = 0xc41d;
    child.Put(0, io_uring_submit(ring->get()));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 1, "A25");
  std::vector<Cqe> cqes = ring->Reap(1);
  ASSERT_EQ(cqes.size(), 1u) << "the child's NOP never completed in the parent's CQ (rule A25)";
  EXPECT_EQ(cqes[0].user_data, 0xc41du) << "rule A23";
}

// A26: a child may wait for completions (GETEVENTS) on an ordinary ring.
TEST(RingInChild, ChildMayWaitForEvents) {
  RINGCHECK_RULE("A26");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ChildRun run = InChild([&](ChildChannel& child) {
    child.Put(0, io_uring_enter(ring->fd(), 0, 0, IORING_ENTER_GETEVENTS, nullptr));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 0, "A26");
}

// A27: a child may call io_uring_register on a ring without SINGLE_ISSUER.
TEST(RingInChild, ChildMayRegister) {
  RINGCHECK_RULE("A27");
  REQUIRE_FEATURE("register_probe");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  ChildRun run = InChild([&](ChildChannel& child) {
    char buf[sizeof(io_uring_probe) + 8 * sizeof(io_uring_probe_op)] = {};
    child.Put(0, io_uring_register_probe(ring->get(), reinterpret_cast<io_uring_probe*>(buf), 8));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 0, "A27: IORING_REGISTER_PROBE from the child");
}

// A28: nothing rejects a submitter with a different mm, and the request runs
// in the submitter's: a READ the child submits fills the child's copy of a
// private buffer, not the parent's.
TEST(RingInChild, ChildReadLandsInChildsMemory) {
  RINGCHECK_RULE("A28");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  UniqueFd file = ScratchFile(PageSize());
  ASSERT_TRUE(file.valid());
  Pages buf(1, 0);
  ASSERT_TRUE(buf.ok());
  ChildRun run = InChild([&](ChildChannel& child) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_read(sqe, file.get(), buf.page(0), PageSize(), 0);
    child.Put(0, io_uring_submit(ring->get()));
    child.Put(1, PeekCqeInChild(ring->get()));
    child.Put(2, HoldsPattern(buf.page(0), PageSize()));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 1, "A28: the child's submit");
  EXPECT_RESULT(run.Value(1), static_cast<long>(PageSize()),
                "A28: the READ's CQE seen by the child");
  EXPECT_EQ(run.Value(2), 1) << "the data did not reach the child's buffer (rule A28)";
  EXPECT_TRUE(AllZero(buf.page(0), PageSize())) << "the child's READ wrote the parent's memory "
                                                   "(rule A28)";
}

RingConfig Sqpoll() { return ConfigNamed("sqpoll"); }

// A29: a child entering an SQPOLL ring gets to_submit back; the kernel does
// not look at the SQ ring in that call.
TEST(RingInChild, SqpollChildEnterReturnsToSubmit) {
  RINGCHECK_RULE("A29");
  REQUIRE_FEATURE("setup_sqpoll");
  CREATE_RING_OR_SKIP(ring, Sqpoll());
  ChildRun run = InChild(
      [&](ChildChannel& child) { child.Put(0, io_uring_enter(ring->fd(), 3, 0, 0, nullptr)); });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 3, "A29: nothing queued, still to_submit");
  // The SQPOLL thread, not this call, would post such a CQE, on its own
  // schedule: look for twice the usual window.
  EXPECT_TRUE(ring->Reap(1, 2 * kNoMoreCqes).empty())
      << "a CQE appeared for nothing queued (rule A29)";
}

// A29: the SQPOLL thread belongs to the ring's creator, so a READ the child
// queues runs in the creator's (parent's) memory, not the child's.
TEST(RingInChild, SqpollRunsChildsReadInCreatorsMemory) {
  RINGCHECK_RULE("A29");
  REQUIRE_FEATURE("setup_sqpoll");
  REQUIRE_FEATURE("feat_sqpoll_nonfixed");  // before 5.11 SQPOLL took only fixed files
  CREATE_RING_OR_SKIP(ring, Sqpoll());
  UniqueFd file = ScratchFile(PageSize());
  ASSERT_TRUE(file.valid());
  Pages buf(1, 0);
  ASSERT_TRUE(buf.ok());
  ChildRun run = InChild([&](ChildChannel& child) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    ASSERT_NE(sqe, nullptr) << "no free SQE in the child";
    io_uring_prep_read(sqe, file.get(), buf.page(0), PageSize(), 0);
    child.Put(0, io_uring_submit(ring->get()));
    child.Put(1, PeekCqeInChild(ring->get()));
    child.Put(2, AllZero(buf.page(0), PageSize()));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), 1, "A29: the child's submit");
  std::vector<Cqe> cqes = ring->Reap(1);
  ASSERT_EQ(cqes.size(), 1u) << "the child's READ never completed (rule A29)";
  EXPECT_RESULT(cqes[0].res, static_cast<long>(PageSize()), "A29");
  EXPECT_TRUE(HoldsPattern(buf.page(0), PageSize()))
      << "the parent's buffer lacks the data (rule A29: creator's mm)";
  EXPECT_EQ(run.Value(2), 1) << "the child's own buffer was written (rule A29)";
}

}  // namespace
}  // namespace ringcheck
