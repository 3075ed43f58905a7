// Writes the seed corpora: gen_corpus <target> <dir>, target sqe|setup|register.
// The sqe seeds name opcodes; their record bytes depend on which opcodes the
// running kernel's probe lists (the decoder's choice table), so regenerate
// them on the oldest kernel the nightly job runs on.
#include <liburing.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/sqe/decode.h"
#include "harness/capabilities.h"
#include "harness/uapi.h"

namespace ringcheck::fuzz {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<const OpDesc*> Allowed() {
  std::vector<const OpDesc*> out;
  for (const OpDesc& d : OpTable()) {
    if (d.op < Caps().op_supported.size() && Caps().op_supported[d.op]) out.push_back(&d);
  }
  return out;
}

// One SQE record: opcode by name, SQE flags, then the field bytes b3..b15.
void Sqe(Bytes* out, uint8_t op, uint8_t flags, std::vector<uint8_t> fields = {}) {
  static const std::vector<const OpDesc*> allowed = Allowed();
  uint8_t pick = 0;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (allowed[i]->op == op) pick = static_cast<uint8_t>(i);
  }
  uint8_t rec[16] = {0, pick, flags};
  for (size_t i = 0; i < fields.size() && i < 13; ++i) rec[3 + i] = fields[i];
  out->insert(out->end(), rec, rec + 16);
}
void Submit(Bytes* out) { out->insert(out->end(), {6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); }
void Wait(Bytes* out, uint8_t nr, uint8_t ms) {
  out->insert(out->end(), {7, nr, ms, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

void Write(const std::string& dir, const std::string& name, const Bytes& b) {
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

void SqeSeeds(const std::string& dir) {
  Bytes b;
  for (int i = 0; i < 64; ++i) Sqe(&b, IORING_OP_NOP, i % 8 == 7 ? IOSQE_CQE_SKIP_SUCCESS : 0);
  Write(dir, "nop_batch", b);
  b.clear();  // file I/O, linked
  Sqe(&b, IORING_OP_WRITE, IOSQE_IO_LINK, {0, 0, 0, 8, 0, 0, 0});
  Sqe(&b, IORING_OP_READ, IOSQE_IO_LINK, {0, 0, 0, 8, 0, 0, 0});
  Sqe(&b, IORING_OP_READV, 0, {0, 0, 0, 2, 0, 3, 0});
  Sqe(&b, IORING_OP_READ_FIXED, 0, {0, 0, 0, 8, 0, 0, 0, 0, 0, 1});
  Sqe(&b, IORING_OP_FSYNC, IOSQE_ASYNC, {0});
  Write(dir, "file_rw", b);
  b.clear();  // pipes and poll
  Sqe(&b, IORING_OP_POLL_ADD, 0, {5, 0, 0, 1, 0, 0, 0, 1, 0});
  Sqe(&b, IORING_OP_WRITE, 0, {3, 0, 0, 4, 0, 0, 0});
  Submit(&b);
  Sqe(&b, IORING_OP_READ, IOSQE_BUFFER_SELECT, {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  Sqe(&b, IORING_OP_POLL_REMOVE, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Write(dir, "pipe_poll", b);
  b.clear();  // timeouts and cancellation
  Sqe(&b, IORING_OP_TIMEOUT, 0, {0, 2, 0, 1, 0, 0, 0});
  Sqe(&b, IORING_OP_READ, IOSQE_IO_LINK, {0, 0, 0, 8, 0, 0, 0});
  Sqe(&b, IORING_OP_LINK_TIMEOUT, 0, {0, 3, 0, 1, 0});
  Sqe(&b, IORING_OP_ASYNC_CANCEL, 0, {0, 1});
  Sqe(&b, IORING_OP_TIMEOUT_REMOVE, 0, {0, 0});
  Wait(&b, 2, 1);
  Write(dir, "timeouts", b);
  b.clear();  // sockets
  Sqe(&b, IORING_OP_SEND, 0, {5, 0, 0, 4, 0});
  Sqe(&b, IORING_OP_RECV, IOSQE_BUFFER_SELECT, {6, 0, 0, 4, 0, 0, 0, 0, 0, 1, 1});
  Sqe(&b, IORING_OP_SENDMSG, 0, {5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  Sqe(&b, IORING_OP_RECVMSG, 0, {6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  Sqe(&b, IORING_OP_CONNECT, 0, {8, 0});
  Sqe(&b, IORING_OP_ACCEPT, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  Sqe(&b, IORING_OP_SOCKET, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Write(dir, "sockets", b);
  b.clear();  // paths under the private directory
  Sqe(&b, IORING_OP_MKDIRAT, 0, {0, 6, 0, 1});
  Sqe(&b, IORING_OP_OPENAT, IOSQE_IO_LINK, {0, 0, 0, 1, 0, 0, 0, 4, 0});
  Sqe(&b, IORING_OP_STATX, 0, {0, 0, 0, 1, 0});
  Sqe(&b, IORING_OP_RENAMEAT, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0});
  Sqe(&b, IORING_OP_SYMLINKAT, 0, {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  Sqe(&b, IORING_OP_UNLINKAT, 0, {0, 1});
  Sqe(&b, IORING_OP_OPENAT2, 0, {0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1});
  Write(dir, "paths", b);
  b.clear();  // buffers
  Sqe(&b, IORING_OP_PROVIDE_BUFFERS, 0, {0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 4});
  Sqe(&b, IORING_OP_READ, IOSQE_BUFFER_SELECT, {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10});
  Sqe(&b, IORING_OP_READ_MULTISHOT, IOSQE_BUFFER_SELECT, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  Sqe(&b, IORING_OP_REMOVE_BUFFERS, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 4});
  Write(dir, "buffers", b);
  b.clear();  // fixed files, futexes, skip/hardlink chains, a restricted opcode
  Sqe(&b, IORING_OP_NOP, IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS);
  Sqe(&b, IORING_OP_READ, IOSQE_FIXED_FILE | IOSQE_IO_LINK, {2, 0, 0, 8, 0, 0, 0});
  Sqe(&b, IORING_OP_FUTEX_WAKE, 0, {0, 0});
  Sqe(&b, IORING_OP_FUTEX_WAIT, 0, {0, 0, 0, 0, 0, 1});
  Sqe(&b, IORING_OP_MSG_RING, 0, {0, 0, 0, 4});
  Sqe(&b, IORING_OP_CLOSE, 0, {0});
  b.insert(b.end(), {0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});  // past the allowed: denied
  Write(dir, "mixed", b);
}

void SetupSeeds(const std::string& dir) {
  // entries selector, flags (4 bytes), knobs, cq selector, cpu, idle, wq, memory, rare
  Write(dir, "plain", {6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Write(dir, "cqsize_clamp", {16, 0x18, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0});
  Write(dir, "defer", {6, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Write(dir, "no_mmap", {6, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Write(dir, "no_mmap_regfd_full", {6, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  Write(dir, "sqpoll_aff", {6, 0x06, 0, 0, 0, 0x30, 0, 4, 0, 0, 0, 0});
  Write(dir, "attach_wq", {6, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
  Write(dir, "cqe_mixed", {1, 0x08, 0, 0x04, 0, 0, 1, 0, 0, 0, 0, 0});
}

void RegisterSeeds(const std::string& dir) {
  // mode, then steps: op selector and its argument bytes (see kOps order)
  Write(dir, "buffers_and_batch", {0, 0, 3, 1, 1, 30, 3, 0, 30, 2});
  Write(dir, "files_update", {0, 2, 3, 0, 1, 2, 6, 2, 1, 0, 30, 4});
  Write(dir, "restrict_enable", {1, 11, 3, 1, 1, 3, 8, 12, 30, 1, 9, 0});
  Write(dir, "ring_fds", {0, 19, 0, 7, 20, 0, 7, 30, 2});
  Write(dir, "pbuf_ring", {2, 21, 3, 0, 1, 25, 3, 0, 1, 22, 3, 0, 1});
  Write(dir, "clone", {0, 27, 0, 1, 0, 0, 1, 30, 3});
}

}  // namespace
}  // namespace ringcheck::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_corpus sqe|setup|register DIR\n");
    return 2;
  }
  const std::string target = argv[1], dir = argv[2];
  if (target == "sqe") ringcheck::fuzz::SqeSeeds(dir);
  else if (target == "setup") ringcheck::fuzz::SetupSeeds(dir);
  else if (target == "register") ringcheck::fuzz::RegisterSeeds(dir);
  else return 2;
  return 0;
}
