// Value domains: how a field's bytes become a value of its domain (opcodes.h).
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

#include "fuzz/sqe/builder.h"
#include "harness/uapi.h"

namespace ringcheck::fuzz::build {

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

}  // namespace ringcheck::fuzz::build
