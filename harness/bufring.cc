#include "harness/bufring.h"

#include <cerrno>

namespace ringcheck {

int BufRing::Create(Ring& ring, uint16_t bgid, unsigned entries, unsigned flags,
                    std::unique_ptr<BufRing>* out) {
  std::unique_ptr<BufRing> b(new BufRing());
  int err = 0;
  b->br_ = io_uring_setup_buf_ring(ring.get(), entries, bgid, flags, &err);
  if (b->br_ == nullptr) return err < 0 ? err : -ENOMEM;
  b->ring_ = ring.get();
  b->entries_ = entries;
  b->bgid_ = bgid;
  *out = std::move(b);
  return 0;
}

BufRing::~BufRing() {
  if (br_ != nullptr) io_uring_free_buf_ring(ring_, br_, entries_, bgid_);
}

void BufRing::Add(uint16_t bid, size_t len) {
  std::vector<unsigned char>& mem = buffers_[bid];
  mem.assign(len, 0);
  // One slot at a time: the tail moves by one for every buffer added.
  io_uring_buf_ring_add(br_, mem.data(), static_cast<unsigned>(len), bid,
                        io_uring_buf_ring_mask(entries_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

unsigned char* BufRing::Data(uint16_t bid) {
  auto it = buffers_.find(bid);
  return it == buffers_.end() ? nullptr : it->second.data();
}

int LegacyBuffers::Provide(Ring& ring, uint16_t bgid, uint16_t first_bid, unsigned count,
                           size_t len, std::unique_ptr<LegacyBuffers>* out) {
  std::unique_ptr<LegacyBuffers> b(new LegacyBuffers());
  b->memory_.assign(count * len, 0);
  b->first_bid_ = first_bid;
  b->count_ = count;
  b->len_ = len;
  io_uring_sqe* sqe = ring.NextSqe();
  if (sqe == nullptr) return -EBUSY;
  io_uring_prep_provide_buffers(sqe, b->memory_.data(), static_cast<int>(len),
                                static_cast<int>(count), bgid, first_bid);
  sqe->user_data = 0x9e0b0f;  // not a value tests use
  int ret = ring.Submit();
  if (ret < 0) return ret;
  std::vector<Cqe> cqes = ring.Reap(1);
  if (cqes.size() != 1) return -ETIME;
  if (cqes[0].res < 0) return cqes[0].res;
  *out = std::move(b);
  return 0;
}

unsigned char* LegacyBuffers::Data(uint16_t bid) {
  if (bid < first_bid_ || bid >= first_bid_ + count_) return nullptr;
  return memory_.data() + (bid - first_bid_) * len_;
}

}  // namespace ringcheck
