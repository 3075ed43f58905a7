#include "suites/net/net_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/un.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <sstream>

#include "harness/errno_names.h"

namespace ringcheck {
namespace net {

std::vector<RingConfig> NetConfigs() {
  std::vector<RingConfig> out;
  for (const char* name : {"default", "sqpoll", "defer_taskrun_single_issuer",
                           "coop_taskrun_taskrun_flag", "cqe32", "cqe_mixed"}) {
    out.push_back(ConfigNamed(name));
  }
  return out;
}

const char* FamilyName(Family family) {
  switch (family) {
    case Family::kTcp4: return "tcp4";
    case Family::kTcp6: return "tcp6";
    case Family::kUdp4: return "udp4";
    case Family::kUdp6: return "udp6";
    case Family::kUnixStream: return "unix_stream";
    case Family::kUnixDgram: return "unix_dgram";
    case Family::kUnixSeqpacket: return "unix_seqpacket";
  }
  return "?";
}

bool IsTcp(Family f) { return f == Family::kTcp4 || f == Family::kTcp6; }
bool IsUdp(Family f) { return f == Family::kUdp4 || f == Family::kUdp6; }
bool IsUnix(Family f) { return !IsTcp(f) && !IsUdp(f); }
bool IsByteStream(Family f) { return IsTcp(f) || f == Family::kUnixStream; }

std::vector<Family> AllFamilies() {
  return {Family::kTcp4, Family::kTcp6, Family::kUdp4, Family::kUdp6,
          Family::kUnixStream, Family::kUnixDgram, Family::kUnixSeqpacket};
}

void LoopbackAddress(int domain, sockaddr_storage* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof *addr);
  if (domain == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    *len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof *in;
  }
}

namespace {

int BoundSocket(int domain, int type, sockaddr_storage* addr, socklen_t* len, UniqueFd* out) {
  UniqueFd fd(socket(domain, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return -errno;
  LoopbackAddress(domain, addr, len);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(addr), *len) != 0) return -errno;
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(addr), len) != 0) return -errno;
  *out = std::move(fd);
  return 0;
}

}  // namespace

int MakePair(Family family, SocketPair* out) {
  int domain = (family == Family::kTcp6 || family == Family::kUdp6) ? AF_INET6 : AF_INET;
  if (IsUnix(family)) {
    int type = family == Family::kUnixStream ? SOCK_STREAM
               : family == Family::kUnixDgram ? SOCK_DGRAM
                                              : SOCK_SEQPACKET;
    int sv[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) return -errno;
    out->a.reset(sv[0]);
    out->b.reset(sv[1]);
    return 0;
  }
  sockaddr_storage addr_a, addr_b;
  socklen_t len_a, len_b;
  if (IsUdp(family)) {
    int ret = BoundSocket(domain, SOCK_DGRAM, &addr_a, &len_a, &out->a);
    if (ret == 0) ret = BoundSocket(domain, SOCK_DGRAM, &addr_b, &len_b, &out->b);
    if (ret != 0) return ret;
    if (connect(out->a.get(), reinterpret_cast<sockaddr*>(&addr_b), len_b) != 0) return -errno;
    if (connect(out->b.get(), reinterpret_cast<sockaddr*>(&addr_a), len_a) != 0) return -errno;
    return 0;
  }
  UniqueFd listener;
  int ret = BoundSocket(domain, SOCK_STREAM, &addr_a, &len_a, &listener);
  if (ret != 0) return ret;
  if (listen(listener.get(), 4) != 0) return -errno;
  UniqueFd client(socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client.valid()) return -errno;
  if (connect(client.get(), reinterpret_cast<sockaddr*>(&addr_a), len_a) != 0) return -errno;
  UniqueFd server(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server.valid()) return -errno;
  out->a = std::move(client);
  out->b = std::move(server);
  return 0;
}

int ClosedTcpPort(sockaddr_storage* addr, socklen_t* len) {
  UniqueFd fd;
  return BoundSocket(AF_INET, SOCK_STREAM, addr, len, &fd);  // closed on return
}

io_uring_sqe* Sqe(Ring& ring, uint64_t user_data) {
  io_uring_sqe* sqe = ring.NextSqe();
  io_uring_prep_nop(sqe);
  sqe->user_data = user_data;
  return sqe;
}

bool Submit(Ring& ring) {
  int ret = ring.Submit();
  EXPECT_GE(ret, 0) << "io_uring_submit: " << ResultName(ret);
  return ret >= 0;
}

Cqe SubmitOne(Ring& ring) {
  Cqe none;
  none.res = INT32_MIN;
  if (!Submit(ring)) return none;
  std::vector<Cqe> got = ring.Reap(1, kDeadline);
  EXPECT_EQ(got.size(), 1u) << "no CQE within " << kDeadline.count() << " s";
  return got.empty() ? none : got[0];
}

int Readable(int fd) {
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) != 0) return -errno;
  return n;
}

bool RecvExactly(int fd, void* buf, size_t len) {
  size_t done = 0;
  auto* p = static_cast<char*>(buf);
  while (done < len) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kDeadline).count())) != 1) {
      return false;
    }
    ssize_t n = recv(fd, p + done, len - done, MSG_DONTWAIT);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string Pattern(size_t len, char seed) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>(seed + (i * 7) % 23);
  return s;
}

std::string FamilyParamName(const ::testing::TestParamInfo<FamilyParam>& info) {
  return std::get<0>(info.param).name + "_" + FamilyName(std::get<1>(info.param));
}

void NetFamilyTest::SetUp() {
  std::string why;
  int ret = CreateRingForTest(std::get<0>(GetParam()), &ring_, &why);
  if (ret < 0) {
    if (!why.empty()) GTEST_SKIP() << why;
    FAIL() << "ring setup failed: " << ResultName(ret);
  }
}

void NetFamilyTest::MakePairOrSkip(SocketPair* pair) {
  int ret = MakePair(family(), pair);
  if ((family() == Family::kTcp6 || family() == Family::kUdp6) &&
      (ret == -EAFNOSUPPORT || ret == -EADDRNOTAVAIL)) {
    GTEST_SKIP() << "environment:ipv6 (no ::1 on this machine: " << ResultName(ret) << ")";
  }
  ASSERT_EQ(ret, 0) << "socket pair of " << FamilyName(family()) << ": " << ResultName(ret);
}

}  // namespace net
}  // namespace ringcheck

namespace ringcheck {
namespace net {

int ListeningSocket::Connect(UniqueFd* client) const {
  int domain = addr.ss_family;
  int type = family == Family::kUnixSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
  UniqueFd fd(socket(domain, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return -errno;
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) return -errno;
  *client = std::move(fd);
  return 0;
}

int ListenOn(Family family, ListeningSocket* out, int backlog) {
  out->family = family;
  if (IsUnix(family)) {
    static std::atomic<unsigned> counter{0};
    auto* un = reinterpret_cast<sockaddr_un*>(&out->addr);
    std::memset(&out->addr, 0, sizeof out->addr);
    un->sun_family = AF_UNIX;
    int n = snprintf(un->sun_path + 1, sizeof un->sun_path - 1, "ringcheck-net-%d-%u",
                     static_cast<int>(getpid()), counter++);
    out->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
    int type = family == Family::kUnixSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
    out->fd.reset(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  } else {
    int domain = family == Family::kTcp6 ? AF_INET6 : AF_INET;
    LoopbackAddress(domain, &out->addr, &out->len);
    out->fd.reset(socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  }
  if (!out->fd.valid()) return -errno;
  if (bind(out->fd.get(), reinterpret_cast<sockaddr*>(&out->addr), out->len) != 0) return -errno;
  if (!IsUnix(family) &&
      getsockname(out->fd.get(), reinterpret_cast<sockaddr*>(&out->addr), &out->len) != 0) {
    return -errno;
  }
  if (listen(out->fd.get(), backlog) != 0) return -errno;
  return 0;
}

}  // namespace net
}  // namespace ringcheck
