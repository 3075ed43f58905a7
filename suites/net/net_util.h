// Shared pieces of the network suite (spec/net.md, rules H): the ring
// configurations where a socket request can behave differently, socket pairs
// of every family on loopback, and submit/reap shorthands with deadlines.
#ifndef RINGCHECK_SUITES_NET_NET_UTIL_H_
#define RINGCHECK_SUITES_NET_NET_UTIL_H_

#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "harness/configs.h"
#include "harness/cqes.h"
#include "harness/fd.h"
#include "harness/features.h"
#include "harness/matchers.h"
#include "harness/net.h"
#include "harness/ring.h"
#include "harness/uapi.h"

namespace ringcheck {
namespace net {

// How long to look for a CQE that must NOT come (owed CQEs arrive in
// microseconds; this only bounds the look).
// Half the harness's quiet window: loopback sockets deliver at once, and the
// suite waits for absence in hundreds of cases.
constexpr auto kNoMore = kNoMoreCqes / 2;
// How long to wait for a CQE that must come, even on a loaded TCG guest.
constexpr auto kDeadline = std::chrono::seconds(5);

// default, sqpoll, defer_taskrun_single_issuer, coop_taskrun_taskrun_flag,
// cqe32, cqe_mixed: where completion delivery differs.
std::vector<RingConfig> NetConfigs();

enum class Family { kTcp4, kTcp6, kUdp4, kUdp6, kUnixStream, kUnixDgram, kUnixSeqpacket };
const char* FamilyName(Family family);
bool IsTcp(Family family);
bool IsUdp(Family family);
bool IsUnix(Family family);
// Byte streams (TCP, AF_UNIX stream): no message boundaries.
bool IsByteStream(Family family);
std::vector<Family> AllFamilies();

// Two connected sockets of `family` on loopback (TCP: connect + accept;
// UDP: two bound sockets connected to each other; AF_UNIX: socketpair).
// Returns 0 or -errno.
int MakePair(Family family, SocketPair* out);
// A loopback address of the family with port 0 (kernel's choice).
void LoopbackAddress(int domain, sockaddr_storage* addr, socklen_t* len);
// An unused loopback TCP port: bound then closed, so connecting is refused.
int ClosedTcpPort(sockaddr_storage* addr, socklen_t* len);

// CQE names and reaping come from the harness (harness/cqes.h).
using ::ringcheck::Describe;
using ::ringcheck::WithUserData;
inline bool HasFlag(const Cqe& c, uint32_t flag) { return (c.flags & flag) != 0; }
inline uint16_t BufferId(const Cqe& c) {
  return static_cast<uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT);
}

// Next SQE with user_data set.
io_uring_sqe* Sqe(Ring& ring, uint64_t user_data);
// Submits what is queued; false (with a gtest failure) if the kernel refused.
bool Submit(Ring& ring);
// Submits and waits for exactly one CQE; a missing one is a failure and
// gives a Cqe with res INT32_MIN.
Cqe SubmitOne(Ring& ring);
// Reaps `count` CQEs (deadline kDeadline), then whatever else arrives before
// the CQ stays quiet for kNoMore.
inline std::vector<Cqe> ReapQuiet(Ring& ring, size_t count) {
  return ReapAll(ring, count, kDeadline, kNoMore);
}

// Bytes readable on `fd` right now (FIONREAD), or -errno.
int Readable(int fd);
// Reads exactly `len` bytes with a deadline; true when all arrived.
bool RecvExactly(int fd, void* buf, size_t len);
std::string Pattern(size_t len, char seed = 'a');

// Fixture over NetConfigs().
class NetTest : public RingTest {};

// Fixture over NetConfigs() x families.
using FamilyParam = std::tuple<RingConfig, Family>;
std::string FamilyParamName(const ::testing::TestParamInfo<FamilyParam>& info);
class NetFamilyTest : public ::testing::TestWithParam<FamilyParam> {
 protected:
  void SetUp() override;
  Ring& ring() { return *ring_; }
  Family family() const { return std::get<1>(GetParam()); }
  // The pair of this test's family, or SKIP (environment:ipv6) / FAIL.
  void MakePairOrSkip(SocketPair* pair);
  std::unique_ptr<Ring> ring_;
};

}  // namespace net
}  // namespace ringcheck

#define RINGCHECK_INSTANTIATE_NET_RINGS(fixture)                                  \
  INSTANTIATE_TEST_SUITE_P(NetRings, fixture,                                    \
                           ::testing::ValuesIn(::ringcheck::net::NetConfigs()),  \
                           ::ringcheck::ConfigParamName)

// Every configuration with the given families.
#define RINGCHECK_INSTANTIATE_NET_FAMILIES(fixture, ...)                           \
  INSTANTIATE_TEST_SUITE_P(                                                       \
      NetRings, fixture,                                                          \
      ::testing::Combine(::testing::ValuesIn(::ringcheck::net::NetConfigs()),     \
                         ::testing::Values(__VA_ARGS__)),                         \
      ::ringcheck::net::FamilyParamName)


namespace ringcheck {
namespace net {

// A listening socket of a connection family (TCP v4/v6, AF_UNIX stream or
// seqpacket with an abstract name) and its address.
struct ListeningSocket {
  Family family = Family::kTcp4;
  UniqueFd fd;
  sockaddr_storage addr = {};
  socklen_t len = 0;
  // A new client connected to it (blocking connect); 0 or -errno.
  int Connect(UniqueFd* client) const;
};
int ListenOn(Family family, ListeningSocket* out, int backlog = 8);

}  // namespace net
}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_NET_NET_UTIL_H_
