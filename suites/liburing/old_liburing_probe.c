/* Asks an older liburing (linked in by suites/liburing/BUILD) what its calls
 * return, and prints one "key=value" line per answer for liburing_test.cc,
 * which links liburing 2.9 like every suite and so cannot call the old code
 * itself. Values are the functions' return values (-errno on failure). */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>

/* A ring that was never set up: separate, because a library without the
 * NULL check (A1) dies here. */
static void dontfork_zeroed(void) {
  struct io_uring ring;
  memset(&ring, 0, sizeof ring);
  printf("dontfork_zeroed=%d\n", io_uring_ring_dontfork(&ring));
}

static void dontfork_answers(void) {
  struct io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) {
    printf("setup_failed=1\n");
    return;
  }
  printf("dontfork=%d\n", io_uring_ring_dontfork(&ring));
  printf("dontfork_again=%d\n", io_uring_ring_dontfork(&ring));
  io_uring_queue_exit(&ring);
}

/* After io_uring_queue_exit: separate too, a library that reads the ring's
 * own memory (unmapped by then) dies here. */
static void dontfork_after_exit(void) {
  struct io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) {
    printf("setup_failed=1\n");
    return;
  }
  io_uring_queue_exit(&ring);
  printf("dontfork_after_exit=%d\n", io_uring_ring_dontfork(&ring));
}

/* IORING_REGISTER_RING_FDS is an enum value; the enter flag that came with
 * it is a macro. */
#ifdef IORING_ENTER_REGISTERED_RING
static void ring_fd_answers(void) {
  struct io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) {
    printf("setup_failed=1\n");
    return;
  }
  printf("ring_fd=%d\n", ring.ring_fd);
  printf("unregister_unregistered=%d\n", io_uring_unregister_ring_fd(&ring));
  printf("register_first=%d\n", io_uring_register_ring_fd(&ring));
  printf("slot_first=%d\n", ring.enter_ring_fd);
  printf("register_second=%d\n", io_uring_register_ring_fd(&ring));
  printf("slot_second=%d\n", ring.enter_ring_fd);
  io_uring_queue_exit(&ring);
}
#endif

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0); /* answers before a crash are kept */
  if (argc > 1 && strcmp(argv[1], "zeroed") == 0) {
    dontfork_zeroed();
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "after_exit") == 0) {
    dontfork_after_exit();
    return 0;
  }
  dontfork_answers();
#ifdef IORING_ENTER_REGISTERED_RING
  ring_fd_answers();
#else
  printf("ring_fds_api=0\n");
#endif
  return 0;
}
