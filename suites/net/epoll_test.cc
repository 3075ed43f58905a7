// EPOLL_CTL and EPOLL_WAIT (spec/net.md H86-H92; io_uring_prep_epoll_ctl(3);
// kernel epoll.c io_epoll_ctl, io_epoll_wait; fs/eventpoll.c do_epoll_ctl).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites/net/net_util.h"

#ifndef IORING_OP_EPOLL_WAIT
#define IORING_OP_EPOLL_WAIT 59  // 6.15; liburing 2.9 predates it
#endif

namespace ringcheck {
namespace net {
namespace {

class Epoll : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_epoll_ctl");
    epfd_.reset(epoll_create1(EPOLL_CLOEXEC));
    ASSERT_TRUE(epfd_.valid());
    ASSERT_EQ(MakePair(Family::kUnixStream, &pair_), 0);
  }
  Cqe Ctl(int op, int fd, uint32_t events, uint64_t data) {
    ev_ = {};
    ev_.events = events;
    ev_.data.u64 = data;
    io_uring_prep_epoll_ctl(Sqe(ring(), 1), epfd_.get(), fd, op, &ev_);
    return SubmitOne(ring());
  }
  // What epoll_wait(2) reports now (no waiting): count, first event.
  int Ready(epoll_event* first) { return epoll_wait(epfd_.get(), first, 1, 0); }
  UniqueFd epfd_;
  SocketPair pair_;
  epoll_event ev_ = {};
};

// H86: EPOLL_CTL_ADD registers the descriptor: 0, and epoll_wait(2) then
// reports its events with the data given.
TEST_P(Epoll, AddRegisters) {
  RINGCHECK_RULE("H86");
  ASSERT_RESULT(Ctl(EPOLL_CTL_ADD, pair_.a.get(), EPOLLOUT, 0xabc).res, 0, "H86");
  epoll_event got = {};
  ASSERT_EQ(Ready(&got), 1) << "H86: a writable socket is ready";
  EXPECT_EQ(got.data.u64, 0xabcu) << "H86";
  EXPECT_TRUE(got.events & EPOLLOUT) << "H86";
}

// H87: EPOLL_CTL_MOD replaces the events and data; EPOLL_CTL_DEL removes.
TEST_P(Epoll, ModChangesAndDelRemoves) {
  RINGCHECK_RULE("H87");
  ASSERT_RESULT(Ctl(EPOLL_CTL_ADD, pair_.a.get(), EPOLLOUT, 1).res, 0, "H86");
  ASSERT_RESULT(Ctl(EPOLL_CTL_MOD, pair_.a.get(), EPOLLIN, 2).res, 0, "H87: MOD");
  epoll_event got = {};
  EXPECT_EQ(Ready(&got), 0) << "H87: nothing to read yet";
  ASSERT_EQ(send(pair_.b.get(), "x", 1, 0), 1);
  ASSERT_EQ(Ready(&got), 1) << "H87";
  EXPECT_EQ(got.data.u64, 2u) << "H87: the new data";
  ASSERT_RESULT(Ctl(EPOLL_CTL_DEL, pair_.a.get(), 0, 0).res, 0, "H87: DEL");
  EXPECT_EQ(Ready(&got), 0) << "H87: removed";
}

// H88: ADD of a descriptor already registered is -EEXIST; MOD or DEL of
// one that is not is -ENOENT.
TEST_P(Epoll, AddTwiceIsEexist) {
  RINGCHECK_RULE("H88");
  ASSERT_RESULT(Ctl(EPOLL_CTL_ADD, pair_.a.get(), EPOLLIN, 0).res, 0, "H86");
  EXPECT_RESULT(Ctl(EPOLL_CTL_ADD, pair_.a.get(), EPOLLIN, 0).res, -EEXIST, "H88");
}

TEST_P(Epoll, ModOrDelOfAbsentIsEnoent) {
  RINGCHECK_RULE("H88");
  EXPECT_RESULT(Ctl(EPOLL_CTL_MOD, pair_.a.get(), EPOLLIN, 0).res, -ENOENT, "H88: MOD");
  EXPECT_RESULT(Ctl(EPOLL_CTL_DEL, pair_.a.get(), 0, 0).res, -ENOENT, "H88: DEL");
}

// H89: a descriptor that is not open is -EBADF; the epoll descriptor itself,
// or an epfd that is not an epoll instance, is -EINVAL; an unknown op is
// -EINVAL.
TEST_P(Epoll, ClosedFdIsEbadf) {
  RINGCHECK_RULE("H89");
  EXPECT_RESULT(Ctl(EPOLL_CTL_ADD, 1 << 20, EPOLLIN, 0).res, -EBADF, "H89");
}

TEST_P(Epoll, SelfOrNonEpollIsEinval) {
  RINGCHECK_RULE("H89");
  EXPECT_RESULT(Ctl(EPOLL_CTL_ADD, epfd_.get(), EPOLLIN, 0).res, -EINVAL, "H89: epfd == fd");
  ev_ = {};
  io_uring_prep_epoll_ctl(Sqe(ring(), 2), pair_.b.get(), pair_.a.get(), EPOLL_CTL_ADD, &ev_);
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H89: epfd is a socket");
  EXPECT_RESULT(Ctl(77, pair_.a.get(), EPOLLIN, 0).res, -EINVAL, "H89: unknown op");
}

// H90: EPOLL_WAIT completes with the number of ready events and fills the
// array, as epoll_wait(2).
TEST_P(Epoll, WaitReturnsReadyEvents) {
  RINGCHECK_RULE("H90");
  REQUIRE_FEATURE("op_epoll_wait");
  ASSERT_EQ(epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, pair_.a.get(), &(ev_ = {EPOLLOUT, {}})), 0);
  epoll_event events[4] = {};
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_rw(IORING_OP_EPOLL_WAIT, sqe, epfd_.get(), events, 4, 0);
  sqe->user_data = 1;
  EXPECT_RESULT(SubmitOne(ring()).res, 1, "H90");
  EXPECT_TRUE(events[0].events & EPOLLOUT) << "H90";
}

// H91: with nothing ready EPOLL_WAIT waits, and completes when an event
// comes.
TEST_P(Epoll, WaitWaitsForEvent) {
  RINGCHECK_RULE("H91");
  REQUIRE_FEATURE("op_epoll_wait");
  ev_ = {};
  ev_.events = EPOLLIN;
  ev_.data.u64 = 9;
  ASSERT_EQ(epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, pair_.a.get(), &ev_), 0);
  epoll_event events[4] = {};
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_rw(IORING_OP_EPOLL_WAIT, sqe, epfd_.get(), events, 4, 0);
  sqe->user_data = 1;
  ASSERT_TRUE(Submit(ring()));
  EXPECT_TRUE(ring().Reap(1, kNoMore).empty()) << "H91: nothing ready";
  ASSERT_EQ(send(pair_.b.get(), "x", 1, 0), 1);
  std::vector<Cqe> got = ring().Reap(1, kDeadline);
  ASSERT_EQ(got.size(), 1u) << "H91";
  EXPECT_RESULT(got[0].res, 1, "H91");
  EXPECT_EQ(events[0].data.u64, 9u) << "H91";
}

// H92: EPOLL_WAIT on a descriptor that is not an epoll instance is -EINVAL.
TEST_P(Epoll, WaitOnNonEpollIsEinval) {
  RINGCHECK_RULE("H92");
  REQUIRE_FEATURE("op_epoll_wait");
  epoll_event events[1];
  io_uring_sqe* sqe = Sqe(ring(), 1);
  io_uring_prep_rw(IORING_OP_EPOLL_WAIT, sqe, pair_.a.get(), events, 1, 0);
  sqe->user_data = 1;
  EXPECT_RESULT(SubmitOne(ring()).res, -EINVAL, "H92");
}

RINGCHECK_INSTANTIATE_NET_RINGS(Epoll);

}  // namespace
}  // namespace net
}  // namespace ringcheck
