// Provided buffers for IOSQE_BUFFER_SELECT: a registered buffer ring
// (io_uring_setup_buf_ring, optionally incremental) or a legacy group filled
// with IORING_OP_PROVIDE_BUFFERS. Each owns its memory and gives it back
// (unregisters) on destruction; destroy it before the ring it belongs to.
#ifndef RINGCHECK_HARNESS_BUFRING_H_
#define RINGCHECK_HARNESS_BUFRING_H_

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "harness/ring.h"

namespace ringcheck {

class BufRing {
 public:
  // Registers a ring of `entries` slots (a power of two) as group `bgid`;
  // `flags` is 0 or IOU_PBUF_RING_INC. Returns 0 or -errno.
  static int Create(Ring& ring, uint16_t bgid, unsigned entries, unsigned flags,
                    std::unique_ptr<BufRing>* out);
  ~BufRing();
  BufRing(const BufRing&) = delete;
  BufRing& operator=(const BufRing&) = delete;

  // Adds a buffer of `len` bytes with id `bid` (zero-filled) and publishes it
  // to the kernel. A bid may be added again after the kernel consumed it.
  void Add(uint16_t bid, size_t len);
  // The memory behind `bid` (valid for the BufRing's life).
  unsigned char* Data(uint16_t bid);
  uint16_t bgid() const { return bgid_; }

 private:
  BufRing() = default;
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  unsigned entries_ = 0;
  uint16_t bgid_ = 0;
  std::map<uint16_t, std::vector<unsigned char>> buffers_;
};

// A legacy (IORING_OP_PROVIDE_BUFFERS) group: `count` buffers of `len`
// bytes with ids first_bid, first_bid+1, ...; the SQE is submitted and its
// CQE reaped on `ring`. Returns 0 or the -errno of the CQE.
class LegacyBuffers {
 public:
  static int Provide(Ring& ring, uint16_t bgid, uint16_t first_bid, unsigned count, size_t len,
                     std::unique_ptr<LegacyBuffers>* out);
  unsigned char* Data(uint16_t bid);
  size_t len() const { return len_; }

 private:
  LegacyBuffers() = default;
  std::vector<unsigned char> memory_;
  uint16_t first_bid_ = 0;
  unsigned count_ = 0;
  size_t len_ = 0;
};


}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_BUFRING_H_
