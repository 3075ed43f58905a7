#include "fuzz/sqe/opcodes.h"

#include <liburing.h>

#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace {

constexpr uint16_t kFd = kUsesFd;
constexpr uint16_t kNewFd = kCreatesFd;

// op, name, fd, addr, len, off, op_flags, ioprio, buf, file, addr3, traits
const std::vector<OpDesc>* BuildTable() {
  return new std::vector<OpDesc>{
      {IORING_OP_NOP, "NOP", kNone, kNone, kNone, kNone, kNone, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_READV, "READV", FRead, AIovec, LIovCnt, OFile, XRw, kNone, BGroup, kNone, kNone, kFd | kBufferSelect},
      {IORING_OP_WRITEV, "WRITEV", FWrite, AIovec, LIovCnt, OFile, XRw, kNone, kNone, kNone, kNone, kFd | kMutatesFile},
      {IORING_OP_FSYNC, "FSYNC", FAny, kNone, LBuf, OFile, XFsync, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_READ_FIXED, "READ_FIXED", FRead, ABuf, LBuf, OFile, XRw, kNone, BFixed, kNone, kNone, kFd},
      {IORING_OP_WRITE_FIXED, "WRITE_FIXED", FWrite, ABuf, LBuf, OFile, XRw, kNone, BFixed, kNone, kNone, kFd | kMutatesFile},
      {IORING_OP_POLL_ADD, "POLL_ADD", FAny, kNone, LPollMulti, kNone, XPoll, kNone, kNone, kNone, kNone, kFd | kMultishot},
      {IORING_OP_POLL_REMOVE, "POLL_REMOVE", kNone, ATarget, LPollUpdate, OUdPeer, XPoll, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_SYNC_FILE_RANGE, "SYNC_FILE_RANGE", FFile, kNone, LBuf, OFile, XSyncRange, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_SENDMSG, "SENDMSG", FSock, AMsghdr, kNone, kNone, XMsgSend, ISend, BGroup, kNone, kNone, kFd | kBufferSelect | kMultishot},
      {IORING_OP_RECVMSG, "RECVMSG", FSock, AMsghdr, kNone, kNone, XMsg, IRecv, BGroup, kNone, kNone, kFd | kBufferSelect | kMultishot},
      {IORING_OP_TIMEOUT, "TIMEOUT", kNone, ATimespec, LOne, OTimeoutCount, XTimeout, kNone, kNone, kNone, kNone, kMultishot},
      {IORING_OP_TIMEOUT_REMOVE, "TIMEOUT_REMOVE", kNone, ATarget, kNone, kNone, XTimeoutRemove, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_ACCEPT, "ACCEPT", FListen, ASockaddrOut, kNone, kNone, XAccept, IAccept, kNone, NFileIndex, kNone, kFd | kNewFd | kMultishot | kFixedTable},
      {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL", FAny, ATarget, LCancelOp, kNone, XCancel, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT", kNone, ATimespec, LOne, kNone, XTimeout, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_CONNECT, "CONNECT", FSock, ASockaddr, kNone, LSockAddrLen, kNone, kNone, kNone, kNone, kNone, kFd | kHitsFd},
      {IORING_OP_FALLOCATE, "FALLOCATE", FFile, kNone, LFallocMode, OFile, kNone, kNone, kNone, kNone, kNone, kFd | kMutatesFile},
      {IORING_OP_OPENAT, "OPENAT", FDir, APath, LMode, kNone, XOpen, kNone, kNone, NFileIndex, kNone, kNewFd | kPathOp | kFixedTable},
      {IORING_OP_CLOSE, "CLOSE", FVictim, kNone, kNone, kNone, kNone, kNone, kNone, NFileIndex, kNone, kHitsFd | kFixedTable},
      {IORING_OP_FILES_UPDATE, "FILES_UPDATE", kNone, AFdArray, LCount, OSmallLen, kNone, kNone, kNone, kNone, kNone, kFixedTable},
      {IORING_OP_STATX, "STATX", FDir, APath, LStatxMask, kNone, XStatx, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_READ, "READ", FRead, ABuf, LBuf, OFile, XRw, kNone, BGroup, kNone, kNone, kFd | kBufferSelect},
      {IORING_OP_WRITE, "WRITE", FWrite, ABuf, LBuf, OFile, XRw, kNone, kNone, kNone, kNone, kFd | kMutatesFile},
      {IORING_OP_FADVISE, "FADVISE", FAny, kNone, LBuf, OFile, XFadvise, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_MADVISE, "MADVISE", kNone, APage, LBuf, kNone, XMadvise, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_SEND, "SEND", FSock, ABuf, LBuf, kNone, XMsgSend, ISend, BGroup, kNone, kNone, kFd | kBufferSelect | kMultishot},
      {IORING_OP_RECV, "RECV", FSock, ABuf, LBuf, kNone, XMsg, IRecv, BGroup, kNone, kNone, kFd | kBufferSelect | kMultishot},
      {IORING_OP_OPENAT2, "OPENAT2", FDir, AOpenHow, LOpenHowSize, kNone, kNone, kNone, kNone, NFileIndex, kNone, kNewFd | kPathOp | kFixedTable},
      {IORING_OP_EPOLL_CTL, "EPOLL_CTL", FEpoll, AEpollEvent, LEpollOp, kNone, kNone, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_SPLICE, "SPLICE", FWrite, kNone, LBuf, OSpliceOff, XSplice, kNone, kNone, NSpliceIn, kNone, kFd | kMutatesFile},
      {IORING_OP_PROVIDE_BUFFERS, "PROVIDE_BUFFERS", kNone, AProvide, LBuf, kNone, kNone, kNone, BProvideGroup, kNone, kNone, 0},
      {IORING_OP_REMOVE_BUFFERS, "REMOVE_BUFFERS", kNone, kNone, kNone, kNone, kNone, kNone, BProvideGroup, kNone, kNone, 0},
      {IORING_OP_TEE, "TEE", FPipeW, kNone, LBuf, kNone, XSplice, kNone, kNone, NSpliceIn, kNone, kFd},
      {IORING_OP_SHUTDOWN, "SHUTDOWN", FSock, kNone, LShutHow, kNone, kNone, kNone, kNone, kNone, kNone, kFd | kHitsFd},
      {IORING_OP_RENAMEAT, "RENAMEAT", FDir, APath, kNone, kNone, XRename, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_UNLINKAT, "UNLINKAT", FDir, APath, kNone, kNone, XUnlink, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_MKDIRAT, "MKDIRAT", FDir, APath, LMode, kNone, kNone, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_SYMLINKAT, "SYMLINKAT", FDir, APath, kNone, kNone, kNone, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_LINKAT, "LINKAT", FDir, APath, kNone, kNone, XLink, kNone, kNone, kNone, kNone, kPathOp},
      {IORING_OP_MSG_RING, "MSG_RING", FRing, kNone, LMsgRes, OUdPeer, XMsgRing, kNone, kNone, NMsgTargetSlot, A3MsgSrcSlot, kFd},
      {IORING_OP_FSETXATTR, "FSETXATTR", FFile, AXattrName, LBuf, kNone, XXattr, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_FGETXATTR, "FGETXATTR", FFile, AXattrName, LBuf, kNone, kNone, kNone, kNone, kNone, kNone, kFd},
      {IORING_OP_SOCKET, "SOCKET", kNone, kNone, kNone, OSockType, kNone, kNone, kNone, NFileIndex, kNone, kNewFd | kFixedTable},
      {IORING_OP_SEND_ZC, "SEND_ZC", FSock, ABuf, LBuf, kNone, XMsgSend, ISendZc, BFixed, kNone, kNone, kFd | kZeroCopy},
      {IORING_OP_SENDMSG_ZC, "SENDMSG_ZC", FSock, AMsghdr, kNone, kNone, XMsgSend, ISend, kNone, kNone, kNone, kFd | kZeroCopy},
      {IORING_OP_READ_MULTISHOT, "READ_MULTISHOT", FRead, kNone, LBuf, OFile, kNone, kNone, BGroup, kNone, kNone, kFd | kBufferSelect | kMultishot},
      {IORING_OP_WAITID, "WAITID", kNone, ASiginfo, LIdType, kNone, kNone, kNone, kNone, NWaitidOpts, kNone, 0},
      {IORING_OP_FUTEX_WAIT, "FUTEX_WAIT", kNone, AFutex, kNone, OFutexVal, kNone, kNone, kNone, kNone, A3FutexMask, 0},
      {IORING_OP_FUTEX_WAKE, "FUTEX_WAKE", kNone, AFutex, kNone, OFutexVal, kNone, kNone, kNone, kNone, A3FutexMask, 0},
      {IORING_OP_FUTEX_WAITV, "FUTEX_WAITV", kNone, AWaitv, LWaitvNr, kNone, kNone, kNone, kNone, kNone, kNone, 0},
      {IORING_OP_FIXED_FD_INSTALL, "FIXED_FD_INSTALL", FFixedSlot, kNone, kNone, kNone, XInstall, kNone, kNone, kNone, kNone, kNewFd},
      {IORING_OP_FTRUNCATE, "FTRUNCATE", FFile, kNone, kNone, OTruncLen, kNone, kNone, kNone, kNone, kNone, kFd | kMutatesFile},
      {IORING_OP_BIND, "BIND", FFresh, ASockaddr, kNone, LSockAddrLen, kNone, kNone, kNone, kNone, kNone, kFd | kHitsFd},
      {IORING_OP_LISTEN, "LISTEN", FFresh, kNone, LBacklog, kNone, kNone, kNone, kNone, kNone, kNone, kFd | kHitsFd},
      {kOpEpollWait, "EPOLL_WAIT", FEpoll, AEventsOut, LCount, kNone, kNone, kNone, kNone, kNone, kNone, kFd},
      {kOpReadvFixed, "READV_FIXED", FRead, AIovec, LIovCnt, OFile, XRw, kNone, BFixed, kNone, kNone, kFd},
      {kOpWritevFixed, "WRITEV_FIXED", FWrite, AIovec, LIovCnt, OFile, XRw, kNone, BFixed, kNone, kNone, kFd | kMutatesFile},
      {kOpPipe, "PIPE", kNone, APipeFds, kNone, kNone, XPipe, kNone, kNone, NFileIndex, kNone, kPipeOut | kFixedTable},
  };
}

}  // namespace

const std::vector<OpDesc>& OpTable() {
  static const std::vector<OpDesc>* table = BuildTable();
  return *table;
}

const OpDesc* FindOp(uint8_t op) {
  for (const OpDesc& d : OpTable()) {
    if (d.op == op) return &d;
  }
  return nullptr;
}

const std::vector<uint8_t>& DeniedOps() {
  // Path-based xattrs resolve relative to the cwd; URING_CMD and RECV_ZC
  // reach devices and NICs.
  static const std::vector<uint8_t> ops = {IORING_OP_SETXATTR, IORING_OP_GETXATTR,
                                           IORING_OP_URING_CMD, kOpRecvZc};
  return ops;
}

}  // namespace ringcheck::fuzz
