#include "harness/in_child.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ringcheck {

// What parent and child share: one anonymous MAP_SHARED mapping, written by
// the child only, read by the parent after the child has ended.
struct ChildPage {
  long values[ChildChannel::kSlots];
  int finished;
  int failures;
  char skip[512];
  char messages[7 * 1024];  // failure messages, '\0'-separated
  size_t used;
};

namespace {

void Append(ChildPage* page, const std::string& message) {
  ++page->failures;
  size_t room = sizeof page->messages - page->used;
  if (room <= 1) return;
  size_t n = std::min(message.size(), room - 1);
  std::memcpy(page->messages + page->used, message.data(), n);
  page->messages[page->used + n] = '\0';
  page->used += n + 1;
}

void SetSkip(ChildPage* page, const std::string& reason) {
  if (page->skip[0] != '\0') return;
  std::snprintf(page->skip, sizeof page->skip, "%s", reason.c_str());
}

// Installed in the child only: GoogleTest's results there go to the page.
class Forwarder : public ::testing::EmptyTestEventListener {
 public:
  explicit Forwarder(ChildPage* page) : page_(page) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.skipped()) {
      SetSkip(page_, r.message());
    } else if (r.failed()) {
      std::string where = r.file_name() ? std::string(r.file_name()) + ":" +
                                              std::to_string(r.line_number()) + ": "
                                        : "";
      Append(page_, where + r.message());
    }
  }

 private:
  ChildPage* page_;
};

}  // namespace

void ChildChannel::Put(size_t slot, long value) {
  if (slot >= kSlots) {
    std::fprintf(stderr, "ringcheck: ChildChannel::Put slot %zu out of range\n", slot);
    std::abort();
  }
  page_->values[slot] = value;
}

void ChildChannel::Fail(const std::string& why) { Append(page_, why); }
void ChildChannel::Skip(const std::string& reason) { SetSkip(page_, reason); }

std::string ChildRun::Describe() const {
  std::string out = "the child " + outcome.Describe();
  if (outcome.ExitedWith(0) && !finished) out += " without finishing its body";
  for (const std::string& f : failures) out += "\n  in the child: " + f;
  if (!skip_reason.empty()) out += "\n  the child asked to skip: " + skip_reason;
  return out;
}

ChildRun InChild(const std::function<void(ChildChannel&)>& body,
                 std::chrono::milliseconds timeout) {
  ChildRun run;
  void* mem = mmap(nullptr, sizeof(ChildPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (mem == MAP_FAILED) {
    run.failures.push_back(std::string("cannot map the page a child reports through: ") +
                           std::strerror(errno));
    return run;
  }
  auto* page = new (mem) ChildPage();
  for (long& v : page->values) v = ChildRun::kUnset;
  run.outcome = RunInChild([&] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new Forwarder(page));
    ChildChannel channel(page);
    body(channel);
    page->finished = 1;
    return 0;
  }, timeout);
  run.finished = page->finished != 0 && run.outcome.ExitedWith(0);
  run.values.assign(page->values, page->values + ChildChannel::kSlots);
  for (size_t at = 0, n = 0; at < page->used && n < static_cast<size_t>(page->failures); ++n) {
    std::string m(page->messages + at);
    at += m.size() + 1;
    run.failures.push_back(m);
  }
  if (page->failures > 0 && run.failures.size() < static_cast<size_t>(page->failures)) {
    run.failures.push_back("(and more failures than the page could hold)");
  }
  run.skip_reason = page->skip;
  munmap(mem, sizeof(ChildPage));
  return run;
}

::testing::AssertionResult ChildRanCleanly(const ChildRun& run) {
  if (run.finished && run.failures.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << run.Describe();
}

}  // namespace ringcheck
