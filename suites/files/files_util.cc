#include "suites/files/files_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "harness/errno_names.h"
#include "harness/features.h"

namespace ringcheck {
namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path) == 0 ? 0 : 0;
}

}  // namespace

TempDir::TempDir() {
  std::string templ = ScratchDir() + "/ringcheck-files-XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  if (mkdtemp(name.data()) == nullptr) return;
  path_ = name.data();
  fd_.reset(open(path_.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
}

TempDir::~TempDir() {
  if (!path_.empty()) nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

bool TempDir::WriteFile(const std::string& name, const std::string& content) const {
  UniqueFd fd(open(Path(name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return false;
  return write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size());
}

int RunOne(Ring& ring, const std::function<void(io_uring_sqe*)>& prep, unsigned sqe_flags,
           Cqe* out) {
  io_uring_sqe* sqe = ring.NextSqe();
  prep(sqe);
  sqe->flags |= sqe_flags;
  sqe->user_data = 0x5151;
  int submitted = ring.Submit();
  if (submitted < 0) return submitted;
  std::vector<Cqe> got = ring.Reap(1);
  if (got.empty()) return kNoCompletion;
  if (out != nullptr) *out = got[0];
  return got[0].res;
}

std::vector<Cqe> SubmitAndReapSorted(Ring& ring, size_t count) {
  ring.Submit();
  std::vector<Cqe> got = ring.Reap(count);
  std::sort(got.begin(), got.end(),
            [](const Cqe& a, const Cqe& b) { return a.user_data < b.user_data; });
  return got;
}

void PrepRaw(io_uring_sqe* sqe, unsigned opcode, int fd, const void* addr, unsigned len,
             uint64_t off) {
  io_uring_prep_rw(static_cast<int>(opcode), sqe, fd, addr, len, off);
}

std::vector<RingConfig> RwConfigs() {
  return {ConfigNamed("default"),      ConfigNamed("sqpoll"),
          ConfigNamed("defer_taskrun_single_issuer"), ConfigNamed("coop_taskrun"),
          ConfigNamed("sqe128_cqe32"), ConfigNamed("no_sqarray")};
}

void FilesTest::SetUp() {
  std::string why;
  int ret = CreateRingForTest(ConfigNamed("default"), &ring_, &why);
  if (ret < 0) {
    if (!why.empty()) GTEST_SKIP() << why;
    FAIL() << "ring setup failed: " << ResultName(ret);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

bool UserXattrsWork(const std::string& dir) {
  std::string probe = dir + "/xattr-probe";
  UniqueFd fd(open(probe.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  if (!fd.valid()) return false;
  bool ok = fsetxattr(fd.get(), "user.ringcheck", "1", 1, 0) == 0;
  unlink(probe.c_str());
  return ok;
}

}  // namespace ringcheck
