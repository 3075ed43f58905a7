// lie: runs a command under a seccomp filter that makes chosen
// io_uring_register opcodes answer with a chosen errno without reaching the
// kernel's io_uring code, to check that suites notice a kernel that lies
// (FAIL) or looks older (SKIP).
//
//   lie --register 30=0 -- bazel-bin/suites/clone/clone_test
//       CLONE_BUFFERS "succeeds" (returns 0) and does nothing
//   lie --register 20=EINVAL -- bazel-bin/suites/ringfd/ringfd_test
//       RING_FDS looks unknown, as before 5.18
//
// The opcode is matched with IORING_REGISTER_USE_REGISTERED_RING masked
// off. The filter is inherited by every thread and child of the command.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness/errno_names.h"

namespace {

struct Lie {
  unsigned opcode;
  unsigned err;  // 0: the call returns 0
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "lie: %s\n"
               "usage: lie --register OPCODE=ERRNO [--register ...] -- COMMAND [ARGS...]\n"
               "  ERRNO is a number or a name (EINVAL); 0 makes the call return 0.\n",
               why);
  return 2;
}

bool ParseErrno(const std::string& s, unsigned* out) {
  char* end = nullptr;
  unsigned long n = std::strtoul(s.c_str(), &end, 10);
  if (!s.empty() && *end == '\0' && n <= 4095) {
    *out = static_cast<unsigned>(n);
    return true;
  }
  for (int e = 1; e < 4096; ++e) {
    if (ringcheck::ErrnoName(e) == s) {
      *out = static_cast<unsigned>(e);
      return true;
    }
  }
  return false;
}

bool ParseLie(const std::string& spec, Lie* out) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) return false;
  char* end = nullptr;
  unsigned long op = std::strtoul(spec.substr(0, eq).c_str(), &end, 10);
  if (eq == 0 || *end != '\0' || op > 255) return false;
  out->opcode = static_cast<unsigned>(op);
  return ParseErrno(spec.substr(eq + 1), &out->err);
}

int InstallFilter(const std::vector<Lie>& lies) {
  std::vector<sock_filter> prog = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // The low 32 bits of the opcode argument (x86-64 is little-endian).
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x7fffffffu),
  };
  for (const Lie& lie : lies) {
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lie.opcode, 0, 1));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (lie.err & SECCOMP_RET_DATA)));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog fprog = {static_cast<unsigned short>(prog.size()), prog.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Lie> lies;
  int i = 1;
  for (; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    }
    if (std::strcmp(argv[i], "--register") == 0 && i + 1 < argc) {
      Lie lie;
      if (!ParseLie(argv[++i], &lie)) return Usage("bad --register value (want OPCODE=ERRNO)");
      lies.push_back(lie);
    } else {
      return Usage((std::string("unknown argument '") + argv[i] + "'").c_str());
    }
  }
  if (lies.empty()) return Usage("nothing to lie about");
  if (i >= argc) return Usage("no command");
  if (InstallFilter(lies) != 0) {
    std::perror("lie: cannot install the seccomp filter");
    return 3;
  }
  execvp(argv[i], argv + i);
  std::perror("lie: exec");
  return 127;
}
