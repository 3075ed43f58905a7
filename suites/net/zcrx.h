// The zero-copy receive registration structures (uapi io_uring.h, 6.15),
// which liburing 2.9 predates.
#ifndef RINGCHECK_SUITES_NET_ZCRX_H_
#define RINGCHECK_SUITES_NET_ZCRX_H_

#include <cstdint>

namespace ringcheck {
namespace net {

constexpr unsigned kRegisterZcrxIfq = 32;  // IORING_REGISTER_ZCRX_IFQ
constexpr unsigned kOpRecvZc = 58;         // IORING_OP_RECV_ZC

struct ZcrxOffsets {
  uint32_t head, tail, rqes, resv2;
  uint64_t resv[2];
};
struct ZcrxAreaReg {
  uint64_t addr, len, rq_area_token;
  uint32_t flags, dmabuf_fd;
  uint64_t resv2[2];
};
struct RegionDesc {
  uint64_t user_addr, size;
  uint32_t flags, id;
  uint64_t mmap_offset;
  uint64_t resv[4];
};
struct ZcrxIfqReg {
  uint32_t if_idx, if_rxq, rq_entries, flags;
  uint64_t area_ptr, region_ptr;
  ZcrxOffsets offsets;
  uint32_t zcrx_id, resv2;
  uint64_t resv[3];
};
static_assert(sizeof(ZcrxIfqReg) == 96, "io_uring_zcrx_ifq_reg is 96 bytes");
static_assert(sizeof(RegionDesc) == 64, "io_uring_region_desc is 64 bytes");

}  // namespace net
}  // namespace ringcheck

#endif  // RINGCHECK_SUITES_NET_ZCRX_H_
