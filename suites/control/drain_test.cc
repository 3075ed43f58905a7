// IOSQE_IO_DRAIN, IOSQE_ASYNC and personalities (io_uring_enter(2)
// IOSQE_IO_DRAIN, IOSQE_ASYNC, the personality field; io_uring_register(2)
// IORING_REGISTER_PERSONALITY; io_uring/io_uring.c io_drain_req,
// io_init_req). Spec rules I12-I22.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/child.h"
#include "harness/features.h"
#include "harness/fd.h"
#include "harness/matchers.h"
#include "suites/control/control_util.h"

namespace ringcheck {
namespace {

using control::ArrivedInOrder;
using control::ExactlyThese;
using control::FailingRead;
using control::Pipe;
using control::Sqe;
using control::SubmitExpect;

class Drain : public control::ControlTest {
 protected:
  void QueueRead(uint64_t ud, int fd, uint8_t flags = 0) {
    io_uring_sqe* sqe = Sqe(r(), ud, flags);
    io_uring_prep_read(sqe, fd, buf_, sizeof buf_, 0);
    sqe->user_data = ud;
    sqe->flags = flags;
  }
  char buf_[16];
};

// I12: a drained request does not start before every request submitted
// before it has completed.
TEST_P(Drain, DrainedRequestWaitsForEarlierOnes) {
  RINGCHECK_RULE("I12");
  Pipe p = Pipe::Make();
  QueueRead(1, p.r.get());
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2, IOSQE_IO_DRAIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet()) << "the drained NOP completed while the read was pending (rule I12)";
  p.Put("z");
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, 1}, {2, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2}));
}

// I13: requests submitted after a drained one wait for it too.
TEST_P(Drain, LaterRequestsWaitForTheDrain) {
  RINGCHECK_RULE("I13");
  Pipe p = Pipe::Make();
  QueueRead(1, p.r.get());
  Sqe(r(), 2, IOSQE_IO_DRAIN);
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 3));
  EXPECT_TRUE(Quiet()) << "rule I13";
  p.Put("z");
  auto got = ReapAllN(3);
  EXPECT_TRUE(ExactlyThese(got, {{1, 1}, {2, 0}, {3, 0}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2, 3}));
}

// I12: with nothing in flight a drained request runs at once.
TEST_P(Drain, DrainOnIdleRingRunsAtOnce) {
  RINGCHECK_RULE("I12");
  Sqe(r(), 1, IOSQE_IO_DRAIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, 0}}));
}

// I12: a drained request waits for earlier failures as for successes, and
// a drained failing request still posts its error.
TEST_P(Drain, DrainedFailureReportsItsError) {
  RINGCHECK_RULE("I12");
  Sqe(r(), 1);
  FailingRead(r(), 2, IOSQE_IO_DRAIN);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  auto got = ReapAllN(2);
  EXPECT_TRUE(ExactlyThese(got, {{1, 0}, {2, control::kFailRes}}));
  EXPECT_TRUE(ArrivedInOrder(got, {1, 2}));
}

// I14: a drain waits for an earlier multishot request to terminate, not for
// its first CQE: a multishot TIMEOUT with three shots, then a drained NOP,
// which comes after the final shot (no F_MORE).
TEST_P(Drain, DrainWaitsForMultishotToTerminate) {
  RINGCHECK_RULE("I14");
  REQUIRE_FEATURE("timeout_multishot");
  static __kernel_timespec ts = {0, 20 * control::kMs};
  io_uring_sqe* t = Sqe(r(), 1);
  io_uring_prep_timeout(t, &ts, 3, IORING_TIMEOUT_MULTISHOT);
  t->user_data = 1;
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2, IOSQE_IO_DRAIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  auto got = ReapAllN(4);
  ASSERT_EQ(got.size(), 4u) << control::Describe(got);
  EXPECT_EQ(got[3].user_data, 2u) << "the drained NOP overtook the multishot timeout (rule I14): "
                                  << control::Describe(got);
  EXPECT_EQ(got[2].flags & IORING_CQE_F_MORE, 0u) << control::Describe(got);
}

// I15: once a request with IOSQE_CQE_SKIP_SUCCESS was submitted, a later
// IOSQE_IO_DRAIN request fails with -EOPNOTSUPP (D9) at submission, in a
// later submission too, while requests without the flag still run.
TEST_P(Drain, SkipSuccessDisablesDrainForLaterSubmissions) {
  REQUIRE_FEATURE("feat_cqe_skip");
  RINGCHECK_RULE("I15 D9");
  Sqe(r(), 1, IOSQE_CQE_SKIP_SUCCESS);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 2, IOSQE_IO_DRAIN);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  Sqe(r(), 3);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{2, -EOPNOTSUPP}, {3, 0}}));
}

// I16: IOSQE_ASYNC gives the results inline execution gives: a NOP.
TEST_P(Drain, AsyncNopLikeInline) {
  RINGCHECK_RULE("I16");
  Sqe(r(), 1, IOSQE_ASYNC);
  Sqe(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 0}, {2, 0}}));
}

// I16: a READ of a file, forced async and inline, returns the same bytes.
TEST_P(Drain, AsyncFileReadLikeInline) {
  RINGCHECK_RULE("I16");
  UniqueFd f = ScratchFile(64);
  ASSERT_TRUE(f.valid());
  char a[32] = {}, b[32] = {};
  io_uring_sqe* s1 = Sqe(r(), 1, IOSQE_ASYNC);
  io_uring_prep_read(s1, f.get(), a, sizeof a, 8);
  s1->user_data = 1;
  s1->flags = IOSQE_ASYNC;
  io_uring_sqe* s2 = Sqe(r(), 2);
  io_uring_prep_read(s2, f.get(), b, sizeof b, 8);
  s2->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 32}, {2, 32}}));
  EXPECT_EQ(std::memcmp(a, b, sizeof a), 0);
  EXPECT_EQ(static_cast<unsigned char>(a[0]), PatternByte(8));
}

// I16: errors are the same: a READ of a directory fails -EISDIR forced async too.
TEST_P(Drain, AsyncFailureLikeInline) {
  RINGCHECK_RULE("I16");
  FailingRead(r(), 1, IOSQE_ASYNC);
  FailingRead(r(), 2);
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, control::kFailRes}, {2, control::kFailRes}}));
}

// I17: a forced-async READ of an empty pipe waits for data (it neither
// fails with -EAGAIN nor completes early).
TEST_P(Drain, AsyncPipeReadWaitsForData) {
  RINGCHECK_RULE("I17");
  Pipe p = Pipe::Make();
  QueueRead(1, p.r.get(), IOSQE_ASYNC);
  ASSERT_TRUE(SubmitExpect(r(), 1));
  EXPECT_TRUE(Quiet()) << "rule I17";
  p.Put("abc");
  EXPECT_TRUE(ExactlyThese(ReapAllN(1), {{1, 3}}));
  EXPECT_EQ(std::memcmp(buf_, "abc", 3), 0);
}

// I16: a forced-async WRITE to a pipe writes what an inline one writes.
TEST_P(Drain, AsyncPipeWriteLikeInline) {
  RINGCHECK_RULE("I16");
  Pipe p = Pipe::Make();
  io_uring_sqe* w = Sqe(r(), 1, IOSQE_ASYNC | IOSQE_IO_LINK);
  io_uring_prep_write(w, p.w.get(), "ab", 2, 0);
  w->user_data = 1;
  w->flags = IOSQE_ASYNC | IOSQE_IO_LINK;
  io_uring_sqe* w2 = Sqe(r(), 2);
  io_uring_prep_write(w2, p.w.get(), "cd", 2, 0);
  w2->user_data = 2;
  ASSERT_TRUE(SubmitExpect(r(), 2));
  EXPECT_TRUE(ExactlyThese(ReapAllN(2), {{1, 2}, {2, 2}}));
  char got[4];
  ASSERT_EQ(read(p.r.get(), got, 4), 4);
  EXPECT_EQ(std::memcmp(got, "abcd", 4), 0);
}

RINGCHECK_INSTANTIATE_DELIVERY_RINGS(Drain);

// I18: IORING_REGISTER_PERSONALITY returns a new id above zero.
TEST(Personality, RegisterReturnsPositiveId) {
  RINGCHECK_RULE("I18");
  REQUIRE_FEATURE("register_personality");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  int id = io_uring_register_personality(ring->get());
  EXPECT_GT(id, 0) << "rule I18: " << ResultName(id);
  int id2 = io_uring_register_personality(ring->get());
  EXPECT_GT(id2, 0);
  EXPECT_NE(id, id2) << "rule I18";
}

// I19: an SQE naming an id that is not registered fails with -EINVAL.
TEST(Personality, UnknownIdFailsEinval) {
  RINGCHECK_RULE("I19");
  REQUIRE_FEATURE("register_personality");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  io_uring_sqe* sqe = Sqe(*ring, 1);
  sqe->personality = 0x7ff0;
  ASSERT_TRUE(SubmitExpect(*ring, 1));
  EXPECT_TRUE(ExactlyThese(control::ReapAllChecked(*ring, 1), {{1, -EINVAL}}));
}

// I19: an unregistered id is unknown again; unregistering it twice fails
// with -EINVAL.
TEST(Personality, UnregisteredIdIsUnknown) {
  RINGCHECK_RULE("I19");
  REQUIRE_FEATURE("register_personality");
  CREATE_RING_OR_SKIP(ring, ConfigNamed("default"));
  int id = io_uring_register_personality(ring->get());
  ASSERT_GT(id, 0);
  EXPECT_RESULT(io_uring_unregister_personality(ring->get(), id), 0, "I19");
  EXPECT_RESULT(io_uring_unregister_personality(ring->get(), id), -EINVAL, "I19");
  io_uring_sqe* sqe = Sqe(*ring, 1);
  sqe->personality = static_cast<uint16_t>(id);
  ASSERT_TRUE(SubmitExpect(*ring, 1));
  EXPECT_TRUE(ExactlyThese(control::ReapAllChecked(*ring, 1), {{1, -EINVAL}}));
}

// I20: a request carrying a personality runs with the credentials that were
// current at registration: after the task drops to another uid, an OPENAT of
// a root-only file fails with -EACCES without it and succeeds with it, inline
// and forced async alike. Runs in a child: it changes the task's uid.
TEST(Personality, RequestRunsWithRegisteredCredentials) {
  RINGCHECK_RULE("I20");
  REQUIRE_FEATURE("register_personality");
  REQUIRE_FEATURE("op_openat");
  if (geteuid() != 0) GTEST_SKIP() << "privilege:root (needs to drop to another uid)";
  std::string dir = ScratchDir() + "/ctlpersXXXXXX";
  ASSERT_NE(mkdtemp(&dir[0]), nullptr);
  ASSERT_EQ(chmod(dir.c_str(), 0711), 0);
  std::string file = dir + "/secret";
  { UniqueFd f(open(file.c_str(), O_CREAT | O_WRONLY, 0600)); ASSERT_TRUE(f.valid()); }
  ChildOutcome out = RunInChild([&]() -> int {
    io_uring ring;
    if (io_uring_queue_init(8, &ring, 0) != 0) return 10;
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd < 0) return 11;
    int id = io_uring_register_personality(&ring);
    if (id <= 0) return 12;
    if (seteuid(65534) != 0) return 13;
    int results[3];
    for (int i = 0; i < 3; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_openat(sqe, dfd, "secret", O_RDONLY, 0);
      if (i > 0) sqe->personality = static_cast<uint16_t>(id);
      if (i == 2) sqe->flags |= IOSQE_ASYNC;
      if (io_uring_submit(&ring) != 1) return 14;
      io_uring_cqe* cqe;
      if (io_uring_wait_cqe(&ring, &cqe) != 0) return 15;
      results[i] = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
    }
    if (results[0] != -EACCES) return 20;
    if (results[1] < 0) return 21;
    if (results[2] < 0) return 22;
    return 0;
  });
  unlink(file.c_str());
  rmdir(dir.c_str());
  EXPECT_TRUE(out.ExitedWith(0)) << "rule I20: " << out.Describe()
                                 << " (20: no -EACCES without the personality; 21/22: the "
                                    "personality did not lend its credentials inline/async)";
}

}  // namespace
}  // namespace ringcheck
