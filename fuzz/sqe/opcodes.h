// The SQE described per opcode as data: which fields each opcode reads and
// the domain each field's value is drawn from (in the spirit of syzkaller's
// sys/linux/io_uring.txt). decode.cc turns a record's bytes into values
// from these domains.
#ifndef RINGCHECK_FUZZ_SQE_OPCODES_H_
#define RINGCHECK_FUZZ_SQE_OPCODES_H_

#include <cstdint>
#include <vector>

namespace ringcheck::fuzz {

// Value domains. F*: file descriptors; the rest: what goes in a field.
enum D : uint8_t {
  kNone,
  // fds (sqe->fd, or splice_fd_in / epoll target in other fields)
  FAny, FRead, FWrite, FFile, FSock, FStream, FDgram, FListen, FFresh, FPipeR, FPipeW, FDir,
  FEpoll, FRing, FVictim, FFixedSlot,
  // memory (sqe->addr, addr2, addr3) and what it holds
  ABuf, AIovec, AMsghdr, ATimespec, ATarget, ASockaddr, ASockaddrOut, APath, APath2, AOpenHow,
  AStatx, AEpollEvent, AFutex, AWaitv, AFdArray, APipeFds, AXattrName, AXattrValue, APage,
  AEventsOut, AProvide, ASiginfo, ATimespecUpdate,
  // lengths and counts (sqe->len, and `off` when it is a count)
  LBuf, LIovCnt, LOne, LCount, LMode, LOpenHowSize, LStatxMask, LEpollOp, LShutHow, LBacklog,
  LPollMulti, LCancelOp, LWaitvNr, LMsgRes, LNbufs, LFallocMode, LSockAddrLen, LIdType,
  LPollUpdate,
  // offsets (sqe->off / addr2)
  OFile, OTimeoutCount, OSmallLen, OUdPeer, OFallocLen, OTruncLen, OSockType, OFutexVal,
  OSpliceOff,
  // op_flags sets
  XRw, XFsync, XPoll, XTimeout, XTimeoutRemove, XAccept, XCancel, XOpen, XMsg, XMsgSend,
  XStatx, XSyncRange, XFadvise, XMadvise, XSplice, XUnlink, XRename, XLink, XMsgRing, XXattr,
  XFutex2, XWaitidOpts, XPipe, XInstall, XSockDomain,
  // ioprio
  IRecv, ISend, ISendZc, IAccept, IConnect,
  // buf_index / buf_group
  BFixed, BGroup, BProvideGroup,
  // file_index / splice_fd_in / addr_len
  NFileIndex, NSpliceIn, NMsgTargetSlot, NAddrLen, NWaitidOpts,
  // addr3
  A3FutexMask, A3MsgSrcSlot,
};

enum Trait : uint16_t {
  kBufferSelect = 1,  // accepts IOSQE_BUFFER_SELECT
  kCreatesFd = 2,     // a non-negative result (without file_index) is a new fd
  kPathOp = 4,        // resolves names under the private directory
  kMultishot = 8,     // may post several CQEs (F_MORE)
  kUsesFd = 16,       // sqe->fd is a file (FIXED_FILE applies)
  kMutatesFile = 32,  // may change a pool file's size
  kZeroCopy = 64,     // posts a NOTIF CQE after F_MORE
  kHitsFd = 128,      // may leave its pool fd unusable (recreate after the input)
  kFixedTable = 256,  // may change the fixed file table
  kPipeOut = 512,     // writes two new fds into its scratch (IORING_OP_PIPE)
};

struct OpDesc {
  uint8_t op;
  const char* name;
  D fd, addr, len, off, op_flags, ioprio, buf, file, addr3;
  uint16_t traits;
};

// Every opcode the fuzzer may let the ring run, whether or not this kernel
// has it (the probe decides at run time).
const std::vector<OpDesc>& OpTable();
const OpDesc* FindOp(uint8_t op);

// Opcodes the kernel knows but the sandbox forbids (they reach paths by
// absolute name or hardware): submitted only to check they fail -EACCES.
const std::vector<uint8_t>& DeniedOps();

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_SQE_OPCODES_H_
