// Results written whole, also through a disk that is full for a while.
// These machines share their disk, and its free space can drop to nothing
// for a minute: a plain buffered write then loses what did not fit (the
// rest of a line, and the lines after it until space comes back), and a
// report would show tests that "ended early". Header-only: the runner uses
// it without the harness library.
#ifndef RINGCHECK_HARNESS_WRITE_ALL_H_
#define RINGCHECK_HARNESS_WRITE_ALL_H_

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>

namespace ringcheck {

// Writes all of data[0, size) to fd (opened O_APPEND for results files),
// going on after short writes and EINTR, and waiting out ENOSPC and EDQUOT
// (a retry every 100 ms) for up to `patience`. Returns 0, or the errno that
// stopped it.
inline int WriteAll(int fd, const char* data, size_t size,
                    std::chrono::seconds patience = std::chrono::seconds(120)) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    const int error = n == 0 ? ENOSPC : errno;
    if (error == EINTR) continue;
    if ((error != ENOSPC && error != EDQUOT) || std::chrono::steady_clock::now() >= give_up) return error;
    const timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  return 0;
}

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_WRITE_ALL_H_
