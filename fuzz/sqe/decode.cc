#include "fuzz/sqe/decode.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <climits>
#include <cstddef>
#include <cstring>

#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace {

using rcfuzz::BufRef;
using rcfuzz::FdRef;
using rcfuzz::kBufSize;
using rcfuzz::Raw;
using rcfuzz::Ref;
using rcfuzz::ScratchRef;

constexpr uint64_t kLens[] = {0, 1, 7, 8, 64, 511, 512, 4095, 4096, 4097, 8192, 16383, 16384,
                              16385, 65536, 0x7ffff000, 0xffffffff};
constexpr uint64_t kOffs[] = {0, 1, 511, 512, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20,
                              8 << 20, (8 << 20) + 1, 1ull << 40, LLONG_MAX, ~0ull, ~0ull - 1};
constexpr uint32_t kBufOffs[] = {0, 1, 63, 64, 4095, 4096, 8191, 8192, 16320, 16383, 16384};
constexpr uint64_t kBadAddrs[] = {0, 1, 0xffff888000000000ull, 0x7ffffffff000ull};

template <typename T, size_t N>
T At(const T (&t)[N], unsigned v) { return t[v % N]; }

// Random subset of `bits` (one per set bit of v), sometimes raw garbage.
uint32_t Subset(uint16_t v, std::initializer_list<uint32_t> bits) {
  if ((v & 0x3f) == 0x3f) return 0xffffffffu << (v >> 11);
  uint32_t out = 0;
  unsigned i = 0;
  for (uint32_t b : bits) {
    if (v & (1u << (i++ % 16))) out |= b;
  }
  return out;
}

class Builder {
 public:
  Builder(const uint8_t* r, int record, uint64_t ud_base, rcfuzz::SqeSpec* s)
      : r_(r), record_(record), ud_base_(ud_base), s_(s) {}

  uint16_t V16(int at) const { return static_cast<uint16_t>(r_[at] | (r_[at + 1] << 8)); }
  uint8_t V8(int at) const { return r_[at]; }

  void Write(uint16_t off, uint8_t size, uint64_t value) {
    if (s_->nwrites < rcfuzz::kMaxWrites) s_->writes[s_->nwrites++] = {off, size, 0, Raw(value)};
  }
  void WriteRef(uint16_t off, uint8_t size, Ref ref) {
    if (s_->nwrites < rcfuzz::kMaxWrites) s_->writes[s_->nwrites++] = {off, size, 1, ref};
  }
  void WriteName(uint16_t off, const char* name) {
    uint64_t v = 0;
    std::memcpy(&v, name, std::min<size_t>(std::strlen(name), 7));
    Write(off, 8, v);
  }

  // A pool fd of kind `kinds`, or now and then any pool fd or no fd at all.
  Ref Fd(uint32_t kinds, uint8_t v) {
    if ((v & 0xf0) == 0xf0) return Raw(v & 1 ? ~0ull : 9999);  // -1, or not open
    int matches[rcfuzz::kPoolFdCount], n = 0;
    for (int i = 0; i < rcfuzz::kPoolFdCount; ++i) {
      if (kinds == 0 || (rcfuzz::kPoolFdKinds[i] & kinds) == kinds) matches[n++] = i;
    }
    if ((v & 0xe0) == 0xe0 || n == 0) return FdRef(static_cast<uint8_t>(v % rcfuzz::kPoolFdCount));
    return FdRef(static_cast<uint8_t>(matches[v % n]));
  }

  Ref Buffer(uint16_t v) {
    if ((v & 0x7f) == 0x7f) return Raw(At(kBadAddrs, v >> 8));
    return BufRef(static_cast<uint8_t>(v % 4), At(kBufOffs, v >> 4));
  }

  uint64_t Len(uint16_t v) {
    if (v & 0x8000) return v & 0x7fff;
    return At(kLens, v);
  }

  Ref Target(uint8_t v) {
    switch (v >> 6) {
      case 0: case 1: return Raw(ud_base_ | (v % (record_ + 1)));  // an earlier (or this) request
      case 2: return Raw(ud_base_ | ((record_ + 1 + v % 4) & kUdIndexMask));  // a later one
      default: return Raw(v & 1 ? 0 : 0x5eedull << 32);                       // nobody
    }
  }

  // Fills the fields of one SQE record; scratch layout is per domain.
  void Fill(const OpDesc& d);

 private:
  Ref Field(D dom, int at);
  void Iovecs(uint16_t off, unsigned count, int at);
  void Sockaddr(uint16_t off, uint8_t v);

  const uint8_t* r_;
  int record_;
  uint64_t ud_base_;
  rcfuzz::SqeSpec* s_;
};

void Builder::Iovecs(uint16_t off, unsigned count, int at) {
  for (unsigned i = 0; i < count && i < 4; ++i) {
    uint8_t v = static_cast<uint8_t>(V8(at) + i * 37);
    WriteRef(static_cast<uint16_t>(off + 16 * i), 8, Buffer(v));
    Write(static_cast<uint16_t>(off + 16 * i + 8), 8, Len(static_cast<uint16_t>(V8(at + 1) + i * 5)));
  }
}

void Builder::Sockaddr(uint16_t off, uint8_t v) {
  switch (v % 6) {
    case 0: case 1:  // the TCP listener / the UDP socket on 127.0.0.1
      WriteRef(off, 8, Ref{rcfuzz::kAddrWord, static_cast<uint8_t>((v % 2) * 2), 0, 0});
      WriteRef(off + 8, 8, Ref{rcfuzz::kAddrWord, static_cast<uint8_t>((v % 2) * 2 + 1), 0, 0});
      break;
    case 2:  // 127.0.0.1:1, nobody listens
      Write(off, 8, AF_INET | (uint64_t{htons(1)} << 16) | (uint64_t{htonl(INADDR_LOOPBACK)} << 32));
      break;
    case 3:  // AF_UNIX, abstract name
      Write(off, 8, AF_UNIX | (uint64_t{'r'} << 24) | (uint64_t{'c'} << 32));
      break;
    case 4:  // AF_UNSPEC: disconnect
      Write(off, 8, AF_UNSPEC);
      break;
    default:  // an unknown family
      Write(off, 8, 0xffff | (uint64_t{v} << 16));
  }
}

Ref Builder::Field(D dom, int at) {
  const uint16_t v = V16(at);
  const uint8_t b = V8(at);
  switch (dom) {
    case kNone: return Raw(0);
    case FAny: return Fd(0, b);
    case FRead: return Fd(rcfuzz::kKRead, b);
    case FWrite: return Fd(rcfuzz::kKWrite, b);
    case FFile: return Fd(rcfuzz::kKFile, b);
    case FSock: return Fd(rcfuzz::kKSock, b);
    case FStream: return Fd(rcfuzz::kKStream, b);
    case FDgram: return Fd(rcfuzz::kKDgram, b);
    case FListen: return Fd(rcfuzz::kKListen, b);
    case FFresh: return Fd(rcfuzz::kKFresh, b);
    case FPipeR: return Fd(rcfuzz::kKPipe | rcfuzz::kKRead, b);
    case FPipeW: return Fd(rcfuzz::kKPipe | rcfuzz::kKWrite, b);
    case FDir: return FdRef(b & 1 ? rcfuzz::kSubdirFd : rcfuzz::kDirFd);  // never AT_FDCWD
    case FEpoll: return FdRef(rcfuzz::kEpollFd);
    case FRing: return FdRef(rcfuzz::kPeerRing);
    case FVictim: return FdRef(b & 1 ? rcfuzz::kVictim1 : rcfuzz::kVictim0);
    case FFixedSlot: return Raw(b % 40);
    case ABuf: return Buffer(v);
    case AIovec: return ScratchRef(0);  // filled with LIovCnt
    case ATimespec: {
      static const uint64_t kNs[] = {0, 1, 1000, 100000, 1000000, 2000000, 999999999, 1000000000};
      Write(0, 8, (b & 0xc0) == 0xc0 ? (b & 0x20 ? ~0ull : 1) : 0);
      Write(8, 8, At(kNs, b));
      return ScratchRef(0);
    }
    case ATimespecUpdate: Write(16, 8, 0); Write(24, 8, (b % 4) * 500000); return ScratchRef(16);
    case ATarget: return Target(b);
    case ASockaddr: Sockaddr(0, b); return ScratchRef(0);
    case ASockaddrOut: Write(64, 4, b & 1 ? 16 : 64); return b & 2 ? Raw(0) : ScratchRef(0);
    case APath: WriteName(0, rcfuzz::kPathNames[b % rcfuzz::kPathNameCount]); return ScratchRef(0);
    case APath2: WriteName(8, rcfuzz::kPathNames[b % rcfuzz::kPathNameCount]); return ScratchRef(8);
    case AStatx: return ScratchRef(256);
    case AFutex: return (b & 0x1f) == 0x1f ? BufRef(3, 1) : BufRef(3, (b % 4) * 4);
    case AFdArray: {
      for (int i = 0; i < 4; ++i) WriteRef(static_cast<uint16_t>(4 * i), 4, Fd(0, static_cast<uint8_t>(b + 29 * i)));
      return ScratchRef(0);
    }
    case APipeFds: Write(0, 8, 0); return ScratchRef(0);
    case AXattrName: {
      static const char* const kNames[] = {"user.a", "user.b", "user.rc", "", "bogus.x"};
      WriteName(0, At(kNames, b));
      return ScratchRef(0);
    }
    case APage: return (b & 0x3f) == 0x3f ? BufRef(3, 1) : BufRef(static_cast<uint8_t>(b % 4), (b >> 2) % 3 * 4096);
    case AEventsOut: return ScratchRef(0);
    case AProvide: return BufRef(4, 0);
    case ASiginfo: return b & 1 ? Raw(0) : ScratchRef(256);
    default: break;
  }
  switch (dom) {  // lengths, offsets and flag sets: plain values
    case LBuf: return Raw(Len(v));
    case LIovCnt: {
      static const unsigned kCounts[] = {0, 1, 2, 3, 4, 1024, 1025};
      unsigned n = At(kCounts, b);
      Iovecs(0, n, at);
      return Raw(n);
    }
    case LOne: return Raw(b < 240 ? 1 : b);
    case LCount: return Raw(b % 33);
    case LMode: return Raw(b & 1 ? 0600 : 07777 & (v >> 1));
    case LOpenHowSize: return Raw(b < 200 ? sizeof(open_how) : b % 40);
    case LStatxMask: return Raw(b & 1 ? STATX_BASIC_STATS : v);
    case LEpollOp: return Raw(b % 4);
    case LShutHow: return Raw(b % 4);
    case LBacklog: return Raw(b);
    case LPollMulti: return Raw(Subset(v, {IORING_POLL_ADD_MULTI, IORING_POLL_ADD_LEVEL}));
    case LPollUpdate: return Raw(Subset(v, {IORING_POLL_UPDATE_EVENTS, IORING_POLL_UPDATE_USER_DATA, IORING_POLL_ADD_MULTI}));
    case LCancelOp: return Raw(b % 64);
    case LWaitvNr: return Raw(b % 4);
    case LMsgRes: return Raw(v);
    case LFallocMode: return Raw(Subset(v, {0x01 /*KEEP_SIZE*/, 0x02 /*PUNCH_HOLE*/, 0x10 /*ZERO_RANGE*/, 0x08 /*COLLAPSE*/}));
    case LSockAddrLen: return Raw(b < 200 ? 16 : b % 130);
    case LIdType: return Raw(b % 4);  // P_ALL, P_PID, P_PGID, P_PIDFD
    case OFile: return Raw(At(kOffs, b));
    case OTimeoutCount: return Raw(b < 128 ? 0 : b % 4);
    case OSmallLen: return Raw(b < 240 ? b % 40 : IORING_FILE_INDEX_ALLOC);
    case OUdPeer: return Raw(ud_base_ | kUdAlias | (b % (record_ + 1)));
    case OFallocLen: return Raw(b < 128 ? (b + 1) * 4096u : At(kOffs, b));
    case OTruncLen: return Raw(b < 200 ? (b * 997u) % (1 << 20) : At(kOffs, b));
    case OSockType: return Raw(Subset(v, {SOCK_DGRAM, SOCK_NONBLOCK, SOCK_CLOEXEC}) | SOCK_STREAM);
    case OFutexVal: return Raw(b % 3);
    case OSpliceOff: return Raw(b & 1 ? ~0ull : At(kOffs, b >> 1));
    default: break;
  }
  switch (dom) {
    case XRw: return Raw(Subset(v, {RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND}));
    case XFsync: return Raw(Subset(v, {IORING_FSYNC_DATASYNC}));
    case XPoll: return Raw(Subset(v, {POLLIN, POLLOUT, POLLPRI, POLLERR, POLLHUP, POLLRDHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE}));
    case XTimeout: return Raw(Subset(v, {IORING_TIMEOUT_ABS, IORING_TIMEOUT_BOOTTIME, IORING_TIMEOUT_REALTIME, IORING_TIMEOUT_ETIME_SUCCESS, IORING_TIMEOUT_MULTISHOT}));
    case XTimeoutRemove: return Raw(Subset(v, {IORING_TIMEOUT_UPDATE, IORING_LINK_TIMEOUT_UPDATE, IORING_TIMEOUT_ABS}));
    case XAccept: return Raw(Subset(v, {SOCK_NONBLOCK, SOCK_CLOEXEC}));
    case XCancel: return Raw(Subset(v, {IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_FD, IORING_ASYNC_CANCEL_ANY, IORING_ASYNC_CANCEL_FD_FIXED, IORING_ASYNC_CANCEL_USERDATA, IORING_ASYNC_CANCEL_OP}));
    case XOpen: return Raw(Subset(v, {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_TMPFILE, O_DIRECT}) | O_CLOEXEC);
    case XMsg: return Raw(Subset(v, {MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_ERRQUEUE}));
    case XMsgSend: return Raw(Subset(v, {MSG_DONTWAIT, MSG_MORE, MSG_OOB, MSG_EOR}) | MSG_NOSIGNAL);
    case XStatx: return Raw(Subset(v, {AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, AT_STATX_FORCE_SYNC, AT_STATX_DONT_SYNC}));
    case XSyncRange: return Raw(Subset(v, {1, 2, 4}));
    case XFadvise: return Raw(b % 7);
    case XMadvise: {
      static const uint32_t kSafe[] = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
                                       MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_DONTFORK, MADV_DOFORK};
      return Raw(At(kSafe, b));
    }
    case XSplice: return Raw(Subset(v, {SPLICE_F_FD_IN_FIXED, 1 /*MOVE*/, 2 /*NONBLOCK*/, 4 /*MORE*/}));
    case XUnlink: return Raw(Subset(v, {AT_REMOVEDIR}));
    case XRename: return Raw(Subset(v, {1 /*NOREPLACE*/, 2 /*EXCHANGE*/}));
    case XLink: return Raw(Subset(v, {AT_SYMLINK_FOLLOW}));
    case XMsgRing: return Raw(Subset(v, {IORING_MSG_RING_CQE_SKIP, IORING_MSG_RING_FLAGS_PASS}));
    case XXattr: return Raw(Subset(v, {1 /*CREATE*/, 2 /*REPLACE*/}));
    case XPipe: return Raw(Subset(v, {O_NONBLOCK, O_CLOEXEC, O_DIRECT}));
    case XInstall: return Raw(Subset(v, {IORING_FIXED_FD_NO_CLOEXEC}));
    case IRecv: return Raw(Subset(v, {IORING_RECVSEND_POLL_FIRST, IORING_RECV_MULTISHOT, IORING_RECVSEND_BUNDLE}));
    case ISend: return Raw(Subset(v, {IORING_RECVSEND_POLL_FIRST, IORING_RECVSEND_BUNDLE}));
    case ISendZc: return Raw(Subset(v, {IORING_RECVSEND_POLL_FIRST, IORING_RECVSEND_FIXED_BUF, IORING_SEND_ZC_REPORT_USAGE}));
    case IAccept: return Raw(Subset(v, {IORING_ACCEPT_MULTISHOT, IORING_ACCEPT_DONTWAIT, IORING_ACCEPT_POLL_FIRST}));
    case BFixed: return Raw(b < 250 ? b % 3 : 0xffff);
    case BGroup: return Raw(b % 4);  // 1: buffer ring, 2: legacy, 0 and 3: empty
    case BProvideGroup: return Raw(b & 1 ? rcfuzz::kLegacyGroup : b % 5);
    case NFileIndex: return Raw(b < 160 ? 0 : b < 250 ? b % 36 : IORING_FILE_INDEX_ALLOC);
    case NSpliceIn: return Fd(rcfuzz::kKRead, b);
    case NMsgTargetSlot: return Raw(b % 10);
    case NWaitidOpts: return Raw(Subset(v, {WEXITED, WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT}));
    case A3FutexMask: return Raw(b < 200 ? FUTEX_BITSET_MATCH_ANY : b);
    case A3MsgSrcSlot: return Raw(b % 34);
    default: return Raw(0);
  }
}

void Builder::Fill(const OpDesc& d) {
  rcfuzz::SqeSpec& s = *s_;
  const bool fixed = (s.flags & IOSQE_FIXED_FILE) && (d.traits & kUsesFd);
  s.fd = fixed ? Raw(V8(3) < 240 ? V8(3) % rcfuzz::kPoolFdCount : V8(3) % 64) : Field(d.fd, 3);
  s.addr = Field(d.addr, 4);
  s.len = Field(d.len, 6);
  s.off = Field(d.off, 8);
  s.op_flags = static_cast<uint32_t>(Field(d.op_flags, 10).raw);
  s.ioprio = static_cast<uint16_t>(Field(d.ioprio, 14).raw);
  s.buf = static_cast<uint16_t>(Field(d.buf, 12).raw);
  s.file = Field(d.file, 13);
  s.addr3 = Field(d.addr3, 14);
  const uint8_t x = V8(15);
  switch (d.op) {
    case IORING_OP_RENAMEAT: case IORING_OP_LINKAT:
      s.len = Field(FDir, 15);
      s.off = Field(APath2, 14);
      break;
    case IORING_OP_SYMLINKAT:
      s.off = Field(APath2, 14);  // linkpath; addr is the target name
      break;
    case IORING_OP_OPENAT2: {
      WriteName(64, rcfuzz::kPathNames[x % rcfuzz::kPathNameCount]);
      s.addr = ScratchRef(64);
      Write(0, 8, Field(XOpen, 10).raw);
      Write(8, 8, x & 1 ? 0600 : 0);
      Write(16, 8, RESOLVE_BENEATH | (x & 2 ? RESOLVE_NO_SYMLINKS : 0) | (x & 4 ? RESOLVE_CACHED : 0));
      s.off = ScratchRef(0);
      break;
    }
    case IORING_OP_STATX: s.off = Field(AStatx, 8); break;
    case IORING_OP_FSETXATTR: case IORING_OP_FGETXATTR: s.off = Buffer(V16(14)); break;
    case IORING_OP_EPOLL_CTL:
      s.off = Fd(0, x);
      Write(0, 4, Subset(V16(10), {EPOLLIN, EPOLLOUT, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP}));
      Write(4, 8, x);
      break;
    case IORING_OP_SPLICE: s.addr = Field(OSpliceOff, 4); break;
    case IORING_OP_POLL_REMOVE:
      // A renamed poll keeps its record index, so its CQE stays attributable.
      s.off = Raw(s.addr.raw | kUdAlias);
      break;
    case IORING_OP_TIMEOUT_REMOVE:
      if (s.op_flags & (IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE)) s.off = Field(ATimespecUpdate, 14);
      break;
    case IORING_OP_ASYNC_CANCEL:
      if (s.op_flags & IORING_ASYNC_CANCEL_FD_FIXED) s.fd = Raw(V8(3) % rcfuzz::kPoolFdCount);
      break;
    case IORING_OP_MSG_RING:
      s.addr = Raw(x < 200 ? IORING_MSG_DATA : x % 3);  // DATA, SEND_FD, unknown
      break;
    case IORING_OP_PROVIDE_BUFFERS: {
      // nbufs in fd, len each: never beyond buffer 4, which stays mapped.
      uint32_t len = static_cast<uint32_t>(s.len.raw);
      if (len == 0 || len > kBufSize) len = (len % kBufSize) + 1;
      uint32_t nbufs = x % 17;
      if (nbufs * len > kBufSize) nbufs = kBufSize / len;
      s.len = Raw(len);
      s.fd = Raw(nbufs);
      s.off = Raw(V8(8) % 8);  // first bid
      break;
    }
    case IORING_OP_REMOVE_BUFFERS: s.fd = Raw(x % 20); break;
    case IORING_OP_FALLOCATE: s.addr = Field(OFallocLen, 4); break;
    case IORING_OP_MADVISE: {
      uint32_t page = static_cast<uint32_t>(s.addr.offset);
      s.len = Raw(x % 4 == 0 ? 0 : (x % 4) * 4096 > kBufSize - page ? kBufSize - page : (x % 4) * 4096);
      break;
    }
    case IORING_OP_SOCKET: {
      static const uint64_t kDomains[] = {AF_INET, AF_INET6, AF_UNIX, AF_INET};
      s.fd = Raw(At(kDomains, x));
      s.len = Raw(0);
      break;
    }
    case IORING_OP_FUTEX_WAIT: case IORING_OP_FUTEX_WAKE:
      s.fd = Raw(FUTEX2_SIZE_U32 | (x & 1 ? FUTEX2_PRIVATE : 0) | (x >= 250 ? 3 : 0));
      break;
    case IORING_OP_FUTEX_WAITV:
      for (int i = 0; i < 2; ++i) {
        const uint16_t o = static_cast<uint16_t>(24 * i);
        Write(o, 8, (x >> i) & 1);
        WriteRef(o + 8, 8, BufRef(3, 4u * i));
        Write(o + 16, 8, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
      }
      s.addr = ScratchRef(0);
      break;
    case IORING_OP_WAITID: s.fd = Raw(x & 1 ? 0 : 1); break;  // id: any, or pid 1 (not our child)
    case IORING_OP_SENDMSG: case IORING_OP_RECVMSG: case IORING_OP_SENDMSG_ZC: {
      // msghdr at 0, iovecs at 64, name at 128, control at 192.
      WriteRef(0, 8, x & 1 ? ScratchRef(128) : Raw(0));
      Write(8, 4, x & 1 ? 16 : 0);
      if (x & 1) Sockaddr(128, V8(4));
      WriteRef(16, 8, ScratchRef(64));
      const unsigned n = x % 4;
      Write(24, 8, n);
      Iovecs(64, n, 6);
      const bool control = d.op == IORING_OP_RECVMSG && (x & 8);
      WriteRef(32, 8, control ? ScratchRef(192) : Raw(0));
      Write(40, 8, control ? 64 : 0);
      Write(48, 4, 0);
      s.addr = ScratchRef(0);
      break;
    }
    case IORING_OP_SEND:
      if (x & 1) {  // sendto a loopback address (addr2, addr_len)
        Sockaddr(0, V8(14));
        s.off = ScratchRef(0);
        s.file = Raw(16);
      }
      break;
    default: break;
  }
  if (s.flags & IOSQE_BUFFER_SELECT) {
    if (d.traits & kBufferSelect) {
      if (d.addr == ABuf && (x & 3)) s.addr = Raw(0);
      s.buf = static_cast<uint16_t>(x & 0x10 ? rcfuzz::kLegacyGroup : rcfuzz::kPbufGroup);
      if (x >= 0xf0) s.buf = 3;
    }
  }
}

}  // namespace

void DecodeProgram(const uint8_t* data, size_t size, const std::vector<const OpDesc*>& allowed,
                   const std::vector<uint8_t>& denied, uint64_t ud_base, Program* out) {
  out->nsteps = 0;
  out->nsqes = 0;
  uint8_t rec[kRecordSize + 2];  // V16 of the last byte reads one past it
  for (size_t pos = 0; pos < size && out->nsteps < rcfuzz::kMaxRecords; pos += kRecordSize) {
    std::memset(rec, 0, sizeof rec);
    std::memcpy(rec, data + pos, std::min(kRecordSize, size - pos));
    Step& st = out->steps[out->nsteps++];
    const unsigned kind = rec[0] % 8;
    st.denied = false;
    st.desc = nullptr;
    if (kind == 6 || kind == 7) {
      st.kind = kind == 6 ? Step::kSubmit : Step::kWait;
      st.wait_nr = static_cast<uint8_t>(rec[1] % 8 + 1);
      st.wait_ms = rec[2] % 4;
      continue;
    }
    st.kind = Step::kSqe;
    st.record = out->nsqes++;
    rcfuzz::SqeSpec& s = st.spec;
    std::memset(&s, 0, offsetof(rcfuzz::SqeSpec, writes));  // writes[] is read up to nwrites only
    const size_t choices = allowed.size() + denied.size();
    const size_t pick = choices == 0 ? 0 : rec[1] % choices;
    // DRAIN only with bit 7 as well: draining serialises everything after it.
    uint8_t flags = rec[2] & 0x7f;
    if (!(rec[2] & 0x80)) flags &= static_cast<uint8_t>(~IOSQE_IO_DRAIN);
    s.flags = flags;
    s.user_data = ud_base | static_cast<uint64_t>(st.record);
    if (pick >= allowed.size()) {
      st.denied = true;
      s.opcode = denied.empty() ? 0 : denied[pick - allowed.size()];
      continue;
    }
    st.desc = allowed[pick];
    s.opcode = st.desc->op;
    if (s.opcode != IORING_OP_NOP) Builder(rec, st.record, ud_base, &s).Fill(*st.desc);  // NOP reads no field
    // A new fd whose CQE is skipped could never be closed: no CQE_SKIP_SUCCESS
    // on fd-creating requests unless they create a fixed (direct) file.
    if ((st.desc->traits & (kCreatesFd | kPipeOut)) && (s.file.raw == 0 || s.opcode == IORING_OP_FIXED_FD_INSTALL)) {
      s.flags &= static_cast<uint8_t>(~IOSQE_CQE_SKIP_SUCCESS);
    }
  }
}

}  // namespace ringcheck::fuzz
