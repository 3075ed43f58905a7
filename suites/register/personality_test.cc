// IORING_REGISTER_PERSONALITY and UNREGISTER_PERSONALITY: requests run with
// the credentials registered (io_uring_register(2), io_uring_enter(2)
// "personality"; kernel register.c io_register_personality,
// io_unregister_personality, io_uring.c io_init_req).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "harness/child.h"
#include "harness/child_probe.h"
#include "harness/in_child.h"
#include "harness/configs.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "suites/register/register_util.h"

namespace ringcheck {
namespace {

int OpenWithPersonality(Ring& ring, const char* path, int personality) {
  SubmitOne(ring, [&](io_uring_sqe* sqe) {
    io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    sqe->personality = static_cast<uint16_t>(personality);
    sqe->user_data = 3;
  });
  Cqe c = ReapOne(ring);
  if (c.res >= 0) close(c.res);
  return c.res;
}

class Personality : public RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("register_personality");
  }
};

// J39: no argument allowed; ids start at 1 and differ.
TEST_P(Personality, RegisterReturnsDistinctPositiveIds) {
  RINGCHECK_RULE("J39");
  int dummy = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, &dummy, 0), -EINVAL,
                "J39: arg");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, nullptr, 1), -EINVAL,
                "J39: nr_args");
  long a = RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
  long b = RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
  EXPECT_GE(a, 1) << "J39: " << ResultName(a);
  EXPECT_GE(b, 1) << "J39: " << ResultName(b);
  EXPECT_NE(a, b) << "J39";
}

// J41: an SQE naming an unknown personality fails with -EINVAL.
TEST_P(Personality, UnknownIdInSqeIsInvalid) {
  RINGCHECK_RULE("J41");
  EXPECT_RESULT(OpenWithPersonality(ring(), "/dev/null", 4242), -EINVAL, "J41");
}

// J40: a known personality lets the request run (as the registering root).
TEST_P(Personality, RegisteredIdIsUsable) {
  RINGCHECK_RULE("J40");
  long id = RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
  ASSERT_GE(id, 1);
  EXPECT_SUCCESS(OpenWithPersonality(ring(), "/dev/null", static_cast<int>(id)), "J40");
}

// J42: unregistering an unknown id is -EINVAL, an argument is -EINVAL, and
// an unregistered id is unknown to later SQEs.
TEST_P(Personality, UnregisterForgetsTheId) {
  RINGCHECK_RULE("J42");
  long id = RegisterRaw(ring().fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
  ASSERT_GE(id, 1);
  int dummy = 0;
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_PERSONALITY, &dummy,
                            static_cast<unsigned>(id)),
                -EINVAL, "J42: arg");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_PERSONALITY, nullptr, 4242), -EINVAL,
                "J42: unknown id");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_PERSONALITY, nullptr,
                            static_cast<unsigned>(id)),
                0, "J42");
  EXPECT_RESULT(OpenWithPersonality(ring(), "/dev/null", static_cast<int>(id)), -EINVAL, "J42");
  EXPECT_RESULT(RegisterRaw(ring().fd(), IORING_UNREGISTER_PERSONALITY, nullptr,
                            static_cast<unsigned>(id)),
                -EINVAL, "J42: twice");
}

INSTANTIATE_TEST_SUITE_P(Rings, Personality,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll"),
                                           ConfigNamed("defer_taskrun_single_issuer")),
                         ConfigParamName);

// J40: the credentials of the personality decide, not the submitter's: a
// root-only file (mode 0600) opens for a submitter running as uid 65534
// with root's personality, and fails with -EACCES for root with uid 65534's
// personality. The child keeps root as its saved uid to switch back.
class PersonalityCreds : public ::testing::TestWithParam<RingConfig> {};

TEST_P(PersonalityCreds, RequestsRunWithTheRegisteredCredentials) {
  RINGCHECK_RULE("J40");
  REQUIRE_FEATURE("register_personality");
  REQUIRE_FEATURE("op_openat");
  TempDir dir("/tmp");
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);
  std::string secret = dir.File("secret");
  { std::ofstream(secret) << "root only"; }
  ASSERT_EQ(chmod(secret.c_str(), 0600), 0);
  RingConfig config = GetParam();
  ChildRun run = InChild([&](ChildChannel& child) {
    std::unique_ptr<Ring> ring;
    std::string why;
    int created = CreateRingForTest(config, &ring, &why);
    if (created != 0 && !why.empty()) return child.Skip(why);
    ASSERT_EQ(created, 0) << "ring setup failed for " << config.name;
    long root_id = RegisterRaw(ring->fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
    if (BecomeUser(kNobody, /*keep_saved_root=*/true) != 0) {
      return child.Skip("privilege:setuid (cannot become uid 65534)");
    }
    long nobody_id = RegisterRaw(ring->fd(), IORING_REGISTER_PERSONALITY, nullptr, 0);
    child.Put(0, OpenWithPersonality(*ring, secret.c_str(), 0));
    child.Put(1, OpenWithPersonality(*ring, secret.c_str(), static_cast<int>(root_id)));
    ASSERT_EQ(syscall(SYS_setresuid, -1, 0, -1), 0) << "back to uid 0";
    child.Put(2, OpenWithPersonality(*ring, secret.c_str(), 0));
    child.Put(3, OpenWithPersonality(*ring, secret.c_str(), static_cast<int>(nobody_id)));
  });
  ASSERT_CHILD_RAN(run);
  long v[4] = {run.Value(0), run.Value(1), run.Value(2), run.Value(3)};
  if (config.flags & IORING_SETUP_SQPOLL) {
    // J116: the SQ thread works with the credentials of the ring's creator
    // (root here), whoever submits.
    RINGCHECK_RULE("J116");
    EXPECT_SUCCESS(v[0], "J116: uid 65534 without a personality, on root's SQPOLL ring");
  } else {
    EXPECT_RESULT(v[0], -EACCES, "J40: uid 65534 without a personality");
  }
  EXPECT_SUCCESS(v[1], "J40: uid 65534 with root's personality");
  EXPECT_SUCCESS(v[2], "J40: root without a personality");
  EXPECT_RESULT(v[3], -EACCES, "J40: root with uid 65534's personality");
}

INSTANTIATE_TEST_SUITE_P(Rings, PersonalityCreds,
                         ::testing::Values(ConfigNamed("default"), ConfigNamed("sqpoll")),
                         ConfigParamName);

}  // namespace
}  // namespace ringcheck
