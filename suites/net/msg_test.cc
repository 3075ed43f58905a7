// SENDMSG and RECVMSG: scatter/gather, SCM_RIGHTS, msg_name, truncation
// flags (spec/net.md H59-H63; io_uring_prep_sendmsg(3),
// io_uring_prep_recvmsg(3); kernel net.c io_sendmsg, io_recvmsg).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "suites/net/net_util.h"

namespace ringcheck {
namespace net {
namespace {

class Msg : public NetFamilyTest {
 protected:
  void SetUp() override {
    NetFamilyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    MakePairOrSkip(&pair_);
  }
  Cqe SendmsgOne(const msghdr& msg) {
    io_uring_prep_sendmsg(Sqe(ring(), 1), pair_.a.get(), &msg, 0);
    return SubmitOne(ring());
  }
  Cqe RecvmsgOne(msghdr* msg) {
    io_uring_prep_recvmsg(Sqe(ring(), 2), pair_.b.get(), msg, 0);
    return SubmitOne(ring());
  }
  SocketPair pair_;
};

// H59: SENDMSG gathers its iovecs in order and RECVMSG scatters the bytes
// over its own, filling each before the next.
TEST_P(Msg, IovecsGatherAndScatter) {
  RINGCHECK_RULE("H59");
  std::string part1 = Pattern(30, 'a'), part2 = Pattern(50, 'K');
  iovec out[2] = {{part1.data(), part1.size()}, {part2.data(), part2.size()}};
  msghdr smsg = {};
  smsg.msg_iov = out;
  smsg.msg_iovlen = 2;
  ASSERT_RESULT(SendmsgOne(smsg).res, 80, "H59: sendmsg");
  ASSERT_TRUE(WaitForReadable(pair_.b.get(), 80, kDeadline));
  char in1[45], in2[100];
  std::memset(in2, 0xEE, sizeof in2);
  iovec in[2] = {{in1, sizeof in1}, {in2, sizeof in2}};
  msghdr rmsg = {};
  rmsg.msg_iov = in;
  rmsg.msg_iovlen = 2;
  ASSERT_RESULT(RecvmsgOne(&rmsg).res, 80, "H59: recvmsg");
  std::string joined = part1 + part2;
  EXPECT_EQ(std::memcmp(in1, joined.data(), 45), 0) << "H59: first iovec";
  EXPECT_EQ(std::memcmp(in2, joined.data() + 45, 35), 0) << "H59: second iovec";
  EXPECT_EQ(static_cast<unsigned char>(in2[35]), 0xEE) << "H59: written past the data";
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(Msg, Family::kTcp4, Family::kTcp6, Family::kUdp4, Family::kUdp6,
                                   Family::kUnixStream, Family::kUnixDgram, Family::kUnixSeqpacket);

class UnixMsg : public Msg {
 protected:
  // A SENDMSG of one byte carrying `fd` as SCM_RIGHTS.
  Cqe SendFd(int fd) {
    byte_ = 'F';
    iov_ = {&byte_, 1};
    std::memset(control_, 0, sizeof control_);
    msghdr msg = {};
    msg.msg_iov = &iov_;
    msg.msg_iovlen = 1;
    msg.msg_control = control_;
    msg.msg_controllen = CMSG_SPACE(sizeof(int));
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    return SendmsgOne(msg);
  }
  char byte_ = 0;
  iovec iov_ = {};
  alignas(cmsghdr) char control_[CMSG_SPACE(sizeof(int))];
};

// H60: SCM_RIGHTS passes a descriptor through SENDMSG and RECVMSG: the
// receiver gets a new descriptor for the same open file.
TEST_P(UnixMsg, ScmRightsPassesDescriptor) {
  RINGCHECK_RULE("H60");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  ASSERT_RESULT(SendFd(w.get()).res, 1, "H60: sendmsg");
  char byte;
  iovec iov = {&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_RESULT(RecvmsgOne(&msg).res, 1, "H60: recvmsg");
  EXPECT_FALSE(msg.msg_flags & MSG_CTRUNC) << "H60";
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cm, nullptr) << "H60: no control message";
  ASSERT_EQ(cm->cmsg_type, SCM_RIGHTS);
  int got;
  std::memcpy(&got, CMSG_DATA(cm), sizeof got);
  UniqueFd passed(got);
  EXPECT_NE(got, w.get()) << "H60: a new descriptor";
  ASSERT_EQ(write(passed.get(), "z", 1), 1) << "H60: the passed descriptor writes";
  char c;
  EXPECT_EQ(read(r.get(), &c, 1), 1) << "H60: into the same pipe";
}

// H61: a control buffer too small for the passed descriptor sets
// MSG_CTRUNC in msg_flags; the data still arrives.
TEST_P(UnixMsg, SmallControlBufferSetsCtrunc) {
  RINGCHECK_RULE("H61");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  ASSERT_RESULT(SendFd(w.get()).res, 1, "H61: sendmsg");
  char byte = 0;
  iovec iov = {&byte, 1};
  alignas(cmsghdr) char control[sizeof(cmsghdr)] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_RESULT(RecvmsgOne(&msg).res, 1, "H61");
  EXPECT_TRUE(msg.msg_flags & MSG_CTRUNC) << "H61: msg_flags " << msg.msg_flags;
  EXPECT_EQ(byte, 'F');
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(UnixMsg, Family::kUnixStream, Family::kUnixDgram,
                                   Family::kUnixSeqpacket);

class DgramMsg : public Msg {};
class UdpMsg : public Msg {};

// H62: RECVMSG fills msg_name with the sender's address and msg_namelen
// with its length.
TEST_P(UdpMsg, NameIsSenderAddress) {
  RINGCHECK_RULE("H62");
  ASSERT_EQ(send(pair_.a.get(), "abc", 3, 0), 3);
  sockaddr_storage sender = {}, from = {};
  socklen_t sender_len = sizeof sender;
  ASSERT_EQ(getsockname(pair_.a.get(), reinterpret_cast<sockaddr*>(&sender), &sender_len), 0);
  char buf[8];
  iovec iov = {buf, sizeof buf};
  msghdr msg = {};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ASSERT_RESULT(RecvmsgOne(&msg).res, 3, "H62");
  EXPECT_EQ(msg.msg_namelen, sender_len) << "H62";
  EXPECT_EQ(std::memcmp(&from, &sender, sender_len), 0) << "H62: not the sender's address";
}

// H63: a datagram longer than the buffer: res is what fit, and msg_flags
// has MSG_TRUNC.
TEST_P(DgramMsg, LongDatagramSetsTrunc) {
  RINGCHECK_RULE("H63");
  std::string data = Pattern(64);
  ASSERT_EQ(send(pair_.a.get(), data.data(), data.size(), 0), 64);
  char buf[16];
  iovec iov = {buf, sizeof buf};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ASSERT_RESULT(RecvmsgOne(&msg).res, 16, "H63");
  EXPECT_TRUE(msg.msg_flags & MSG_TRUNC) << "H63: msg_flags " << msg.msg_flags;
  EXPECT_EQ(std::memcmp(buf, data.data(), 16), 0) << "H63";
}

RINGCHECK_INSTANTIATE_NET_FAMILIES(DgramMsg, Family::kUdp4, Family::kUdp6, Family::kUnixDgram,
                                   Family::kUnixSeqpacket);
RINGCHECK_INSTANTIATE_NET_FAMILIES(UdpMsg, Family::kUdp4, Family::kUdp6);

}  // namespace
}  // namespace net
}  // namespace ringcheck
