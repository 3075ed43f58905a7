// The POLL_ADD fixture shared by poll_test and poll_multishot_test.
#ifndef RINGCHECK_SUITES_CONTROL_POLL_UTIL_H_
#define RINGCHECK_SUITES_CONTROL_POLL_UTIL_H_

#include <poll.h>
#include <unistd.h>

#include "harness/features.h"
#include "suites/control/control_util.h"

namespace ringcheck {

using control::Pipe;
using control::Sqe;

class Poll : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    REQUIRE_FEATURE("op_poll_add");
    p_ = Pipe::Make();
  }
  io_uring_sqe* QueuePoll(uint64_t ud, int fd, unsigned mask, bool multi = false) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    if (multi) {
      io_uring_prep_poll_multishot(sqe, fd, mask);
    } else {
      io_uring_prep_poll_add(sqe, fd, mask);
    }
    sqe->user_data = ud;
    return sqe;
  }
  io_uring_sqe* QueueRemove(uint64_t ud, uint64_t target) {
    io_uring_sqe* sqe = Sqe(r(), ud);
    io_uring_prep_poll_remove(sqe, target);
    sqe->user_data = ud;
    return sqe;
  }
  void ReadAll() {
    char buf[64];
    while (true) {
      pollfd pf = {p_.r.get(), POLLIN, 0};
      if (poll(&pf, 1, 0) != 1) return;
      if (read(p_.r.get(), buf, sizeof buf) <= 0) return;
    }
  }
  Pipe p_;
};

}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_CONTROL_POLL_UTIL_H_
