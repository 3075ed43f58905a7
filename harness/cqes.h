// Looking at completions: names for CQEs and their flags, reaping "all that
// come", and assertions over a set of CQEs. Shared by every suite.
#ifndef RINGCHECK_HARNESS_CQES_H_
#define RINGCHECK_HARNESS_CQES_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/ring.h"

namespace ringcheck {

// "MORE|NOTIF", "none"; bits no name is known for as hex; the upper 16
// bits (a buffer id, or a timestamp type) as " upper=N".
std::string CqeFlagsName(uint32_t flags);
// "{ud=7 res=-ECANCELED flags=BUFFER upper=3}" (and the extra words of a
// big CQE), and "[...]" for several.
std::string Describe(const Cqe& c);
std::string Describe(const std::vector<Cqe>& cqes);

// The `count` CQEs a test waits for (up to `deadline`), then whatever else
// arrives until none has come for `quiet`.
std::vector<Cqe> ReapAll(Ring& ring, size_t count,
                         std::chrono::milliseconds deadline = std::chrono::seconds(5),
                         std::chrono::milliseconds quiet = kNoMoreCqes);

std::vector<Cqe> WithUserData(const std::vector<Cqe>& cqes, uint64_t user_data);

struct Want {
  uint64_t user_data;
  int32_t res;
};
// `got` holds exactly the CQEs of `want`, one each (matched by user_data and
// res, in any order), and no other.
::testing::AssertionResult ExactlyThese(const std::vector<Cqe>& got, const std::vector<Want>& want);
// The CQEs of `user_datas` arrived in that order (others may be between).
::testing::AssertionResult ArrivedInOrder(const std::vector<Cqe>& got,
                                          const std::vector<uint64_t>& user_datas);

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_CQES_H_
