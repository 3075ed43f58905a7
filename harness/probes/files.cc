// Probes for file-table behaviours no opcode announces: direct descriptors
// (OPENAT/CLOSE with file_index, 5.15) and IORING_FILE_INDEX_ALLOC for OPENAT
// and the FILES_UPDATE opcode (5.19). Each runs one request on a scratch ring
// with a two-slot sparse file table.
#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "harness/probe_registry.h"

namespace ringcheck {
namespace {

// The CQE result of one request on a ring with two empty file slots, or
// -ENOSYS when the ring or the table cannot be set up.
int ResultWithSparseTable(const std::function<void(io_uring_sqe*)>& prep) {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return -ENOSYS;
  int empty[2] = {-1, -1};
  int res = -ENOSYS;
  if (io_uring_register_files(&ring, empty, 2) == 0) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    prep(sqe);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_submit_and_wait(&ring, 1) == 1 && io_uring_peek_cqe(&ring, &cqe) == 0) {
      res = cqe->res;
    }
  }
  io_uring_queue_exit(&ring);
  return res;
}

}  // namespace
}  // namespace ringcheck

RINGCHECK_PROBE(open_direct, "5.15", "OPENAT/OPENAT2/CLOSE take a file_index (direct descriptors)") {
  return ringcheck::ResultWithSparseTable([](io_uring_sqe* sqe) {
           io_uring_prep_openat_direct(sqe, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0, 1);
         }) == 0;
}

RINGCHECK_PROBE(file_index_alloc, "5.19", "IORING_FILE_INDEX_ALLOC picks a free slot for OPENAT") {
  return ringcheck::ResultWithSparseTable([](io_uring_sqe* sqe) {
           io_uring_prep_openat_direct(sqe, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0,
                                       IORING_FILE_INDEX_ALLOC);
         }) >= 0;
}

RINGCHECK_PROBE(files_update_alloc, "5.19", "IORING_OP_FILES_UPDATE with offset IORING_FILE_INDEX_ALLOC") {
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  int fds[1] = {fd};
  int res = ringcheck::ResultWithSparseTable([&](io_uring_sqe* sqe) {
    io_uring_prep_files_update(sqe, fds, 1, IORING_FILE_INDEX_ALLOC);
  });
  close(fd);
  return res == 1;
}
