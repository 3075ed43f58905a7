// The per-run pool the sqe fuzzer draws fds and memory from, and the ring it
// fuzzes: created R_DISABLED, restricted to the allowed opcodes, enabled.
// Everything path-based lives under one private directory (mkdtemp under
// $TMPDIR). Depends on libc and liburing only: reproducers embed this file.
#ifndef RINGCHECK_FUZZ_SQE_KIT_POOL_H_
#define RINGCHECK_FUZZ_SQE_KIT_POOL_H_

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "fuzz/sqe/kit_spec.h"

namespace rcfuzz {

enum FdKind : uint32_t {
  kKRead = 1, kKWrite = 2, kKFile = 4, kKSock = 8, kKStream = 16, kKDgram = 32,
  kKListen = 64, kKPipe = 128, kKDir = 256, kKEpoll = 512, kKRing = 1024,
  kKVictim = 2048, kKFresh = 4096, kKTcp = 8192,
};

enum PoolFd : uint8_t {
  kDirFd, kSubdirFd, kFile0, kFile1, kMemfd, kPipe0R, kPipe0W, kPipe1R, kPipe1W,
  kUnixA, kUnixB, kUdgA, kUdgB, kTcpA, kTcpB, kTcpListen, kUdp, kEventfd, kEpollFd,
  kPeerRing, kVictim0, kVictim1, kFile0Ro, kFreshTcp, kPoolFdCount
};

constexpr uint32_t kRW = kKRead | kKWrite;
constexpr uint32_t kPoolFdKinds[kPoolFdCount] = {
    kKDir, kKDir, kRW | kKFile, kRW | kKFile, kRW | kKFile,
    kKRead | kKPipe, kKWrite | kKPipe, kKRead | kKPipe, kKWrite | kKPipe,
    kRW | kKSock | kKStream, kRW | kKSock | kKStream, kRW | kKSock | kKDgram, kRW | kKSock | kKDgram,
    kRW | kKSock | kKStream | kKTcp, kRW | kKSock | kKStream | kKTcp, kKSock | kKListen | kKTcp,
    kRW | kKSock | kKDgram, kRW, kKEpoll, kKRing, kRW | kKVictim, kRW | kKVictim,
    kKRead | kKFile, kKSock | kKFresh | kKTcp,
};

constexpr int kBufCount = 6;        // 0,1 registered; 2,3 plain; 4 legacy provide; 5 pbuf ring data
constexpr uint32_t kBufSize = 16384;  // each followed by a PROT_NONE guard page
constexpr int kFixedSlots = 32;
constexpr int kMaxRecords = 256;
constexpr uint16_t kPbufGroup = 1;
constexpr uint16_t kLegacyGroup = 2;
constexpr unsigned kPbufEntries = 8;
constexpr unsigned kPbufLen = 512;
constexpr uint64_t kFile0Size = 65536;

// Names path operations may use, relative to the private directory: no "..",
// nothing absolute, so every resolution stays beneath it.
constexpr const char* kPathNames[] = {"a", "b", "c", "d", "d/x", "d/y", "e", "."};
constexpr int kPathNameCount = 8;

struct Pool {
  int fd[kPoolFdCount];
  char* buf[kBufCount];
  char* scratch;  // kMaxRecords * kScratchPerRecord bytes
  char dir[512];
  union {
    struct { sockaddr_in listen_addr, udp_addr; };
    uint64_t addr_words[4];
  };
  io_uring peer;
  io_uring_buf_ring* pbuf;
  unsigned pbuf_tail;
  // When set, ResetDirectory hands each directory it must remove to this
  // (the fuzzer moves it out of the sandbox and removes it on a thread of
  // its own, sqe/dir_reaper.h); when it returns false the directory is
  // removed here. Null in reproducers.
  bool (*take_dir)(int parent, const char* name);
};

inline RefBase BaseFor(const Pool& p, int record) {
  return RefBase{p.fd, p.buf, p.scratch + record * kScratchPerRecord, p.addr_words};
}

// Rlimits and signals for a process that lets the kernel write files and
// sockets on its behalf.
inline void ApplySandboxLimits() {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  rlimit fsize = {8u << 20, 8u << 20};  // files grow to 8 MiB at most
  setrlimit(RLIMIT_FSIZE, &fsize);
  rlimit nofile = {1024, 1024};
  setrlimit(RLIMIT_NOFILE, &nofile);
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCFUZZ_ASAN 1
#endif
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(RCFUZZ_ASAN)
  rlimit as = {16ull << 30, 16ull << 30};
  setrlimit(RLIMIT_AS, &as);
#endif
}

inline char* MapWithGuard(size_t size) {
  char* p = static_cast<char*>(mmap(nullptr, size + 4096, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return nullptr;
  mprotect(p + size, 4096, PROT_NONE);
  return p;
}

// Replaces pool fd `i` by `fresh`, keeping its number.
inline bool Install(Pool* p, int i, int fresh) {
  if (fresh < 0) return false;
  if (p->fd[i] < 0) { p->fd[i] = fresh; return true; }
  if (fresh != p->fd[i]) {
    if (dup3(fresh, p->fd[i], O_CLOEXEC) < 0) {
      // EBUSY: a late request of an earlier input is installing a new file
      // at that number right now. The pool fd takes the fresh number instead.
      if (errno != EBUSY) return false;
      p->fd[i] = fresh;
      return true;
    }
    close(fresh);
  }
  return true;
}

// A TCP socket the sandbox closes goes at once (RST), not into TIME_WAIT.
// The reset remakes TCP connections thousands of times a minute; in
// TIME_WAIT they filled the ephemeral ports (28,000 of them after one
// nightly job), and every bind() or connect() of port 0 then searched them:
// 16% of the job's CPU in inet_bhash2_conflict and inet_bind2_bucket_find.
inline void NoTimeWait(int s) {
  linger l = {1, 0};
  setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // ENOTSOCK for other fds: nothing to do
}
inline void CloseNoTimeWait(int fd) {
  NoTimeWait(fd);
  close(fd);
}

// -1 with errno of the call that failed (close() does not overwrite it).
inline int TcpListener(sockaddr_in* addr) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  std::memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  if (bind(s, reinterpret_cast<sockaddr*>(addr), len) < 0 || listen(s, 64) < 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(addr), &len) < 0) {
    const int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  return s;
}

// (Re)creates pool fd `i` and whatever it is paired with, once (Recreate).
inline bool RecreateOnce(Pool* p, int i) {
  int sv[2];
  switch (i) {
    case kUnixA: case kUnixB:
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return false;
      return Install(p, kUnixA, sv[0]) && Install(p, kUnixB, sv[1]);
    case kUdgA: case kUdgB:
      if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) return false;
      return Install(p, kUdgA, sv[0]) && Install(p, kUdgB, sv[1]);
    case kTcpA: case kTcpB: {
      // A listener of its own: the pool's may be shut down, or its queue
      // hold connections the input made.
      // On failure errno is the failed call's (the HARNESS line shows it).
      sockaddr_in addr;
      const int l = TcpListener(&addr);
      if (l < 0) return false;
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int s = -1;
      if (c >= 0 && connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        s = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      }
      const int e = errno;
      close(l);
      if (s < 0) {
        if (c >= 0) CloseNoTimeWait(c);
        errno = e;
        return false;
      }
      NoTimeWait(c);
      NoTimeWait(s);
      return Install(p, kTcpA, c) && Install(p, kTcpB, s);
    }
    case kUdp: {
      int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (u < 0) return false;  // with socket()'s errno
      p->udp_addr = p->listen_addr;
      p->udp_addr.sin_port = 0;
      socklen_t len = sizeof p->udp_addr;
      if (bind(u, reinterpret_cast<sockaddr*>(&p->udp_addr), len) < 0 ||
          getsockname(u, reinterpret_cast<sockaddr*>(&p->udp_addr), &len) < 0) {
        const int e = errno;
        close(u);
        errno = e;
        return false;
      }
      return Install(p, kUdp, u);
    }
    case kVictim0: case kVictim1: return Install(p, i, fcntl(p->fd[kMemfd], F_DUPFD_CLOEXEC, 0));
    case kTcpListen: return Install(p, i, TcpListener(&p->listen_addr));
    case kFreshTcp: {
      const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (s >= 0) NoTimeWait(s);
      return Install(p, i, s);
    }
    case kSubdirFd:  // "d" may be gone when the directory was not reset
      if (mkdirat(p->fd[kDirFd], "d", 0700) < 0 && errno != EEXIST) return false;
      return Install(p, i, openat(p->fd[kDirFd], "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    default: return true;  // the others are never damaged beyond what a reset repairs
  }
}

// (Re)creates pool fd `i` and whatever it is paired with. A request of an
// earlier input that runs late (a CQE_SKIP_SUCCESS CLOSE of a raw fd number,
// behind a DRAIN or issued as a link follower after the cancel-all looked)
// can close a fresh socket between its socket() and the call after it,
// which then fails with EBADF (two nightly aborts, pool fds 13 and 16). The
// number is free again once that request ran: the remake is tried again.
// On failure errno is the failed call's.
inline bool Recreate(Pool* p, int i) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (RecreateOnce(p, i)) return true;
    if (errno != EBADF) return false;
  }
  return false;
}

// Empties the private directory of everything path operations created.
// A directory goes to `take_dir` when there is one (see Pool::take_dir).
//
// Allocates nothing (getdents64 into a stack buffer, no opendir): the
// fuzzer's directory reaper runs this on its own thread while inputs run,
// and libFuzzer counts mallocs and frees around each input.
inline void RemoveTreeAt(int parent, const char* name, bool (*take_dir)(int, const char*) = nullptr,
                         int depth = 0) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return;
  if (take_dir != nullptr && take_dir(parent, name)) return;
  if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;  // empty
  if (depth > 16) return;  // path operations build nothing that deep
  const int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  // Removing entries while reading the directory may make getdents skip
  // some: read it again from the start until a pass finds nothing.
  for (int pass = 0; pass < 8; ++pass) {
    bool found = false;
    lseek(fd, 0, SEEK_SET);
    alignas(8) char buf[4096];
    for (ssize_t n; (n = getdents64(fd, buf, sizeof buf)) > 0;) {
      for (ssize_t off = 0; off < n;) {
        const auto* d = reinterpret_cast<const dirent64*>(buf + off);
        off += d->d_reclen;
        if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
        found = true;
        RemoveTreeAt(fd, d->d_name, take_dir, depth + 1);
      }
    }
    if (!found) break;
  }
  close(fd);
  unlinkat(parent, name, AT_REMOVEDIR);
}

// Removes what path operations may have created: they only ever name the
// entries of kPathNames, so nothing else can exist. Returns true when the
// subdirectory "d" had to be made anew (its pool fd changed).
inline bool ResetDirectory(Pool* p) {
  static const char* const kCreated[] = {"d/x", "d/y", "a", "b", "c", "e"};
  for (const char* name : kCreated) RemoveTreeAt(p->fd[kDirFd], name, p->take_dir);
  struct stat want, have;
  if (fstatat(p->fd[kDirFd], "d", &have, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(have.st_mode) &&
      fstat(p->fd[kSubdirFd], &want) == 0 && want.st_ino == have.st_ino) {
    return false;
  }
  RemoveTreeAt(p->fd[kDirFd], "d", p->take_dir);
  mkdirat(p->fd[kDirFd], "d", 0700);
  Recreate(p, kSubdirFd);
  return true;
}

inline int OpenPool(Pool* p) {
  std::memset(p, 0, sizeof *p);
  for (int i = 0; i < kPoolFdCount; ++i) p->fd[i] = -1;
  const char* tmp = std::getenv("TEST_TMPDIR");
  if (tmp == nullptr || !*tmp) tmp = std::getenv("TMPDIR");
  if (tmp == nullptr || !*tmp) tmp = "/tmp";
  std::snprintf(p->dir, sizeof p->dir, "%s/ringcheck-fuzz-XXXXXX", tmp);
  if (mkdtemp(p->dir) == nullptr) return -errno;
  p->fd[kDirFd] = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (p->fd[kDirFd] < 0) return -errno;
  mkdirat(p->fd[kDirFd], "d", 0700);
  Recreate(p, kSubdirFd);
  // Regular files live in the directory but unlinked: path operations never
  // see them by name.
  for (int i : {kFile0, kFile1}) {
    p->fd[i] = openat(p->fd[kDirFd], "pool", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (i == kFile0) {
      p->fd[kFile0Ro] = openat(p->fd[kDirFd], "pool", O_RDONLY | O_CLOEXEC);
      if (ftruncate(p->fd[i], kFile0Size) < 0) return -errno;
    }
    unlinkat(p->fd[kDirFd], "pool", 0);
  }
  p->fd[kMemfd] = memfd_create("ringcheck-fuzz", MFD_CLOEXEC);
  if (p->fd[kMemfd] < 0 || ftruncate(p->fd[kMemfd], kBufSize) < 0) return -errno;
  int pp[2];
  if (pipe2(pp, O_CLOEXEC) < 0) return -errno;
  p->fd[kPipe0R] = pp[0], p->fd[kPipe0W] = pp[1];
  if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0) return -errno;
  p->fd[kPipe1R] = pp[0], p->fd[kPipe1W] = pp[1];
  p->fd[kTcpListen] = TcpListener(&p->listen_addr);
  p->fd[kEventfd] = eventfd(0, EFD_CLOEXEC);
  p->fd[kEpollFd] = epoll_create1(EPOLL_CLOEXEC);
  for (int i : {kUnixA, kUdgA, kTcpA, kUdp, kVictim0, kVictim1, kFreshTcp}) {
    if (!Recreate(p, i)) return -errno ? -errno : -EIO;
  }
  if (io_uring_queue_init(8, &p->peer, 0) < 0) return -EIO;
  io_uring_register_files_sparse(&p->peer, 8);
  p->fd[kPeerRing] = p->peer.ring_fd;
  for (int i = 0; i < kPoolFdCount; ++i) {
    if (p->fd[i] < 0) return -EIO;
  }
  for (int i = 0; i < kBufCount; ++i) {
    p->buf[i] = MapWithGuard(kBufSize);
    if (p->buf[i] == nullptr) return -ENOMEM;
  }
  p->scratch = MapWithGuard(kMaxRecords * kScratchPerRecord);
  return p->scratch == nullptr ? -ENOMEM : 0;
}

inline void FixedTable(const Pool& p, int* files) {
  for (int i = 0; i < kFixedSlots; ++i) {
    files[i] = (i < kPoolFdCount && i != kPeerRing) ? p.fd[i] : -1;
  }
}

inline void RefillPbufRing(Pool* p, unsigned consumed_head) {
  // Put back every buffer the kernel took since the last refill.
  while (p->pbuf_tail - consumed_head < kPbufEntries) {
    unsigned bid = p->pbuf_tail % kPbufEntries;
    io_uring_buf_ring_add(p->pbuf, p->buf[5] + bid * kPbufLen, kPbufLen, bid,
                          io_uring_buf_ring_mask(kPbufEntries), 0);
    io_uring_buf_ring_advance(p->pbuf, 1);
    ++p->pbuf_tail;
  }
}

// The fuzzed ring: R_DISABLED, resources registered, restricted to `ops`
// (and the register opcodes a reset needs), then enabled.
inline int SetupFuzzRing(Pool* p, io_uring* ring, const uint8_t* ops, int nops, uint32_t flags) {
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  params.flags = flags | IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
  params.cq_entries = 1024;
  int ret = io_uring_queue_init_params(kMaxRecords, ring, &params);  // one submission per input
  if (ret < 0) return ret;
  int files[kFixedSlots];
  FixedTable(*p, files);
  if ((ret = io_uring_register_files(ring, files, kFixedSlots)) < 0) return ret;
  iovec fixed[2] = {{p->buf[0], kBufSize}, {p->buf[1], kBufSize}};
  if ((ret = io_uring_register_buffers(ring, fixed, 2)) < 0) return ret;
  p->pbuf = io_uring_setup_buf_ring(ring, kPbufEntries, kPbufGroup, 0, &ret);
  if (p->pbuf == nullptr) return ret;
  p->pbuf_tail = 0;
  RefillPbufRing(p, 0);
  unsigned workers[2] = {2, 4};  // bounded, unbounded io-wq workers: a 2-core machine
  io_uring_register_iowq_max_workers(ring, workers);
  io_uring_restriction res[260];
  std::memset(res, 0, sizeof res);
  int n = 0;
  for (int i = 0; i < nops; ++i) {
    res[n].opcode = IORING_RESTRICTION_SQE_OP;
    res[n++].sqe_op = ops[i];
  }
  res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
  res[n++].sqe_flags = IOSQE_FIXED_FILE | IOSQE_IO_DRAIN | IOSQE_IO_LINK | IOSQE_IO_HARDLINK |
                       IOSQE_ASYNC | IOSQE_BUFFER_SELECT | IOSQE_CQE_SKIP_SUCCESS;
  // The register opcodes the reset uses. A kernel that does not know one
  // (PBUF_STATUS is 6.8, SYNC_CANCEL 6.0) refuses the whole list with
  // -EINVAL and keeps nothing of it: try again without the newest.
  const uint8_t regs[] = {IORING_REGISTER_FILES_UPDATE, IORING_REGISTER_SYNC_CANCEL, IORING_REGISTER_PBUF_STATUS};
  for (int nregs = 3; nregs >= 1; --nregs) {
    for (int i = 0; i < nregs; ++i) {
      res[n + i].opcode = IORING_RESTRICTION_REGISTER_OP;
      res[n + i].register_op = regs[i];
    }
    ret = io_uring_register_restrictions(ring, res, n + nregs);
    if (ret != -EINVAL) break;
  }
  if (ret < 0) return ret;
  return io_uring_enable_rings(ring);
}

// Reads whatever the requests of an input left in pipes, sockets, the
// eventfd and the listener's accept queue, and the peer ring's CQ.
//
// First it sends what a SEND or SEND_ZC with MSG_MORE left corked in the
// pool's TCP sockets: the data would leave only on TCP's probe timer, about
// 200 ms later, and a zero-copy send's NOTIF with it (a quarter of the
// nightly job's time went to waiting for such NOTIFs). Turning TCP_NODELAY
// on pushes the pending frames (tcp_push_pending_frames); turning it off
// again leaves the socket as the next input expects it.
inline void DrainPool(Pool* p) {
  for (int i : {kTcpA, kTcpB, kFreshTcp}) {
    int on = 1, off = 0;
    if (setsockopt(p->fd[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) {
      setsockopt(p->fd[i], IPPROTO_TCP, TCP_NODELAY, &off, sizeof off);
    }
  }
  static const uint8_t kReadable[] = {kPipe0R, kPipe1R, kUnixA, kUnixB, kUdgA, kUdgB,
                                      kTcpA, kTcpB, kUdp, kEventfd, kTcpListen};
  pollfd pfd[sizeof kReadable];
  for (size_t i = 0; i < sizeof kReadable; ++i) pfd[i] = {p->fd[kReadable[i]], POLLIN, 0};
  if (poll(pfd, sizeof kReadable, 0) > 0) {
    char sink[4096];
    for (size_t i = 0; i < sizeof kReadable; ++i) {
      if (!(pfd[i].revents & POLLIN)) continue;
      const int fd = pfd[i].fd;
      if (kReadable[i] == kTcpListen) {  // the listener blocks: poll before each accept
        for (int k = 0; k < 64; ++k) {
          pollfd one = {fd, POLLIN, 0};
          if (poll(&one, 1, 0) <= 0) break;
          int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (c < 0) break;
          CloseNoTimeWait(c);
        }
      } else if (kReadable[i] == kEventfd) {
        if (read(fd, sink, 8) < 0) {}
      } else if (kPoolFdKinds[kReadable[i]] & kKSock) {
        while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {}
      } else {
        for (int k = 0; k < 64; ++k) {
          pollfd one = {fd, POLLIN, 0};
          if (poll(&one, 1, 0) <= 0 || read(fd, sink, sizeof sink) <= 0) break;
        }
      }
    }
  }
  unsigned head;
  io_uring_cqe* cqe;
  unsigned seen = 0;
  io_uring_for_each_cqe(&p->peer, head, cqe) { ++seen; }
  io_uring_cq_advance(&p->peer, seen);
}

// Puts pool file `i` back to its size and offset (only regular files and
// the memfd change size; dups share the offset of what they duplicate).
inline void RestoreFile(Pool* p, int i) {
  switch (i) {
    case kFile0: case kFile0Ro:
      if (ftruncate(p->fd[kFile0], kFile0Size) < 0) {}
      lseek(p->fd[kFile0], 0, SEEK_SET);
      lseek(p->fd[kFile0Ro], 0, SEEK_SET);
      break;
    case kFile1:
      if (ftruncate(p->fd[kFile1], 0) < 0) {}
      lseek(p->fd[kFile1], 0, SEEK_SET);
      break;
    case kMemfd: case kVictim0: case kVictim1:
      if (ftruncate(p->fd[kMemfd], kBufSize) < 0) {}
      lseek(p->fd[kMemfd], 0, SEEK_SET);
      break;
    default: break;  // pipes and sockets have neither
  }
}

}  // namespace rcfuzz

#endif  // RINGCHECK_FUZZ_SQE_KIT_POOL_H_
