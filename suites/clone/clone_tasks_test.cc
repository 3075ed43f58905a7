// Who may clone from whom: SINGLE_ISSUER ownership on either side (C2, C11)
// and the shared accounting context (C12; kernel rsrc.c io_clone_buffers:
// "Accounting state is shared between the two rings; that only works if both
// rings are accounted towards the same counters" — ctx->user, set unless the
// creator had CAP_IPC_LOCK, and ctx->mm_account, the creator's mm).
#include <gtest/gtest.h>

#include <cerrno>

#include "harness/configs.h"
#include "harness/features.h"
#include "harness/in_child.h"
#include "harness/matchers.h"
#include "harness/task.h"
#include "suites/clone/clone_util.h"

namespace ringcheck {
namespace {

class CloneBuffersTasks : public CloneFixture {};

// A forked child makes a ring of its own and clones into it from `src_fd`
// (inherited from the parent): the result in slot 0.
ChildRun CloneInChild(int src_fd) {
  return InChild([src_fd](ChildChannel& child) {
    io_uring ring;
    ASSERT_RESULT(io_uring_queue_init(4, &ring, 0), 0, "a ring in the child");
    child.Put(0, CloneRaw(ring.ring_fd, CloneArg(static_cast<uint32_t>(src_fd))));
  });
}

// C2: a SINGLE_ISSUER destination refuses every register call, this one
// included, from a task other than its submitter: -EEXIST. Its owner may.
TEST_F(CloneBuffersTasks, DestinationOwnedByAnotherTaskIsExist) {
  RINGCHECK_RULE("C2");
  REQUIRE_FEATURE("setup_single_issuer");
  InFreshThread([&] {
    auto owned = NewRing("single_issuer");
    if (owned == nullptr) return;
    InFreshThread([&] {
      EXPECT_RESULT(CloneRaw(owned->fd(), CloneArg(SrcFd())), -EEXIST, "C2: not the owner");
    });
    EXPECT_RESULT(CloneRaw(owned->fd(), CloneArg(SrcFd())), 0, "C2: the owner");
  });
}

// C11: a SINGLE_ISSUER source owned by another task is -EEXIST, although the
// destination is the caller's; its owner may clone from it.
TEST_F(CloneBuffersTasks, SourceOwnedByAnotherTaskIsExist) {
  RINGCHECK_RULE("C11");
  REQUIRE_FEATURE("setup_single_issuer");
  auto second_dst = NewRing();
  if (second_dst == nullptr) return;
  std::unique_ptr<Ring> owned;
  InFreshThread([&] {
    owned = NewRing("single_issuer");
    if (owned == nullptr) return;
    ASSERT_EQ(dst_bufs_.RegisterWith(owned->get()), 0);
    EXPECT_RESULT(CloneRaw(second_dst->fd(), CloneArg(static_cast<uint32_t>(owned->fd()))), 0,
                  "C11: the owner clones from its ring");
  });
  if (owned == nullptr) return;
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(owned->fd()))), -EEXIST,
                "C11: another task's SINGLE_ISSUER source");
}

// C12: threads share their process's mm and user, so a ring made by another
// thread is a fine source.
TEST_F(CloneBuffersTasks, RingOfAnotherThreadCanBeSource) {
  RINGCHECK_RULE("C12");
  std::unique_ptr<Ring> theirs;
  InFreshThread([&] {
    theirs = NewRing();
    if (theirs == nullptr) return;
    ASSERT_EQ(dst_bufs_.RegisterWith(theirs->get()), 0);
  });
  if (theirs == nullptr) return;
  EXPECT_RESULT(CloneRaw(dst_->fd(), CloneArg(static_cast<uint32_t>(theirs->fd()))), 0, "C12");
  EXPECT_TRUE(SlotMapsBuffer(*dst_, 1, dst_bufs_, 1, file_.get())) << "rule C12";
}

// C12: a forked child's rings account to the child's mm: cloning from the
// parent's ring (its fd inherited) is -EINVAL.
TEST_F(CloneBuffersTasks, ForkedChildCannotCloneFromParent) {
  RINGCHECK_RULE("C12");
  const int src_fd = src_->fd();
  ChildRun run = CloneInChild(src_fd);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EINVAL, "C12: parent's mm");
}

// C12, C15: the accounting check comes first: even an empty source of
// another mm is -EINVAL, not -ENXIO.
TEST_F(CloneBuffersTasks, AccountingCheckPrecedesEmptySource) {
  RINGCHECK_RULE("C12 C15");
  auto empty = NewRing();
  if (empty == nullptr) return;
  const int src_fd = empty->fd();
  ChildRun run = CloneInChild(src_fd);
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EINVAL, "C12 before C15");
}

// C12: same mm, different accounting user: a ring created with CAP_IPC_LOCK
// (ctx->user NULL, nothing accounted) and one created after dropping it
// (ctx->user = the uid's user_struct) cannot share; two rings created
// without the capability can.
TEST_F(CloneBuffersTasks, RingsWithDifferentAccountingUserCannotShare) {
  RINGCHECK_RULE("C12");
  ChildRun run = InChild([](ChildChannel& child) {
    if (!RingsAreExemptFromMemlock()) {
      child.Skip("privilege:cap_ipc_lock (rings here are charged to the user already; "
                 "needs CAP_IPC_LOCK in the initial user namespace)");
      return;
    }
    Buffers bufs(1);
    io_uring exempt, charged, charged_src;
    ASSERT_RESULT(io_uring_queue_init(4, &exempt, 0), 0, "the exempt ring");
    ASSERT_RESULT(bufs.RegisterWith(&exempt), 0, "the exempt ring's buffer");
    ASSERT_TRUE(DropIpcLock()) << "cannot drop CAP_IPC_LOCK";
    ASSERT_RESULT(io_uring_queue_init(4, &charged, 0), 0, "the charged ring");
    ASSERT_RESULT(io_uring_queue_init(4, &charged_src, 0), 0, "the charged source ring");
    ASSERT_RESULT(bufs.RegisterWith(&charged_src), 0, "the charged source's buffer");
    child.Put(0, CloneRaw(charged.ring_fd, CloneArg(static_cast<uint32_t>(exempt.ring_fd))));
    child.Put(1, CloneRaw(charged.ring_fd, CloneArg(static_cast<uint32_t>(charged_src.ring_fd))));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EINVAL, "C12: exempt source, charged destination");
  EXPECT_RESULT(run.Value(1), 0, "C12: both charged to the same user");
}

// C12: rings charged to different uids cannot share. The child makes one
// ring as root without CAP_IPC_LOCK (charged to uid 0), then switches to a
// uid of its own and makes two more (charged to that uid): cloning across
// the uids is -EINVAL, within the new uid it works.
TEST_F(CloneBuffersTasks, RingsOfDifferentUidsCannotShare) {
  RINGCHECK_RULE("C12");
  ChildRun run = InChild([](ChildChannel& child) {
    ASSERT_TRUE(DropIpcLock()) << "cannot drop CAP_IPC_LOCK";
    Buffers bufs(1);
    io_uring first_uid, second_uid, second_uid_src;
    ASSERT_RESULT(io_uring_queue_init(4, &first_uid, 0), 0, "the first uid's ring");
    ASSERT_RESULT(bufs.RegisterWith(&first_uid), 0, "the first uid's buffer");
    if (!BecomeUnusedUid()) {
      child.Skip("privilege:setuid (needs CAP_SETUID for a second uid)");
      return;
    }
    ASSERT_RESULT(io_uring_queue_init(4, &second_uid, 0), 0, "the second uid's ring");
    ASSERT_RESULT(io_uring_queue_init(4, &second_uid_src, 0), 0, "the second uid's source");
    ASSERT_RESULT(bufs.RegisterWith(&second_uid_src), 0, "the second uid's buffer");
    child.Put(0, CloneRaw(second_uid.ring_fd, CloneArg(static_cast<uint32_t>(first_uid.ring_fd))));
    child.Put(1, CloneRaw(second_uid.ring_fd,
                          CloneArg(static_cast<uint32_t>(second_uid_src.ring_fd))));
  });
  ASSERT_CHILD_RAN(run);
  EXPECT_RESULT(run.Value(0), -EINVAL, "C12: source charged to another uid");
  EXPECT_RESULT(run.Value(1), 0, "C12: both charged to the same uid");
}

}  // namespace
}  // namespace ringcheck
