// Two kernel findings of the sqe fuzzer (Linux 6.18.44), standalone:
//   cc zc_links.c -luring -o zc_links && ./zc_links cancelled && ./zc_links drain
//
// cancelled: a SEND_ZC linked behind a request that fails is cancelled with a
//   CQE (-ECANCELED) that has no IORING_CQE_F_MORE, yet a NOTIF CQE follows.
//   io_uring_enter(2): F_MORE on the first CQE says whether a notification
//   will follow.
// drain: IOSQE_IO_DRAIN|IOSQE_IO_LINK on a NOP followed by a SENDMSG_ZC: no
//   CQE ever arrives for either, and ASYNC_CANCEL cannot reach them.
//
// Exit status (what `ringcheck fuzz --replay` reads): 1 the finding
// reproduces, 0 it does not, 77 the kernel lacks the opcode, 2 could not run.
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int notif_after_final;  // a NOTIF for user_data 2 after its CQE without F_MORE
static int final_seen;

static int reap(struct io_uring* ring, int max) {
  int n = 0;
  for (; n < max; n++) {
    struct io_uring_cqe* cqe;
    struct __kernel_timespec ts = {1, 0};
    if (io_uring_wait_cqe_timeout(ring, &cqe, &ts) < 0) {
      printf("no further CQE within 1 s\n");
      break;
    }
    printf("cqe user_data %llu res %d flags 0x%x%s%s\n", (unsigned long long)cqe->user_data, cqe->res,
           cqe->flags, cqe->flags & IORING_CQE_F_MORE ? " F_MORE" : "",
           cqe->flags & IORING_CQE_F_NOTIF ? " F_NOTIF" : "");
    if (cqe->user_data == 2) {
      if ((cqe->flags & IORING_CQE_F_NOTIF) && final_seen) notif_after_final = 1;
      if (!(cqe->flags & (IORING_CQE_F_NOTIF | IORING_CQE_F_MORE))) final_seen = 1;
    }
    io_uring_cqe_seen(ring, cqe);
  }
  return n;
}

int main(int argc, char** argv) {
  const int drain = argc > 1 && strcmp(argv[1], "drain") == 0;
  struct io_uring ring;
  if (io_uring_queue_init(8, &ring, 0) < 0) return 2;
  struct io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (!probe || !io_uring_opcode_supported(probe, drain ? IORING_OP_SENDMSG_ZC : IORING_OP_SEND_ZC)) {
    printf("NOT APPLICABLE: the kernel lacks %s\n", drain ? "SENDMSG_ZC" : "SEND_ZC");
    return 77;
  }
  io_uring_free_probe(probe);
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  static char buf[64];
  static struct msghdr msg;
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (drain) {
    io_uring_prep_nop(sqe);
    sqe->flags = IOSQE_IO_DRAIN | IOSQE_IO_LINK;
  } else {
    io_uring_prep_read(sqe, -1, buf, sizeof buf, 0);  // fails -EBADF
    sqe->flags = IOSQE_IO_LINK;
  }
  sqe->user_data = 1;
  sqe = io_uring_get_sqe(&ring);
  if (drain) io_uring_prep_sendmsg_zc(sqe, udp, &msg, 0);
  else io_uring_prep_send_zc(sqe, sv[0], buf, sizeof buf, 0, 0);
  sqe->user_data = 2;
  printf("submitted %d\n", io_uring_submit(&ring));
  int n = reap(&ring, 4);
  if (drain) {
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
    sqe->user_data = 3;
    io_uring_submit(&ring);
    printf("after ASYNC_CANCEL(ANY|ALL):\n");
    reap(&ring, 3);
    printf(n == 0 ? "FINDING: drained link never completed\n" : "no hang\n");
    return n == 0;
  }
  printf(notif_after_final ? "FINDING: NOTIF after a final CQE without F_MORE\n" : "no NOTIF after the final CQE\n");
  return notif_after_final;
}
