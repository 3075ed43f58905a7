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

#include "fuzz/sqe/builder.h"
#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace build {

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

}  // namespace build

using build::Builder;

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
      // At most 100 us (it was 1 ms: waits that ran out were half the
      // nightly job's time), and less when nothing comes (Submit).
      st.wait_us = rec[2] % 2 ? 100 : 0;
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
