// What the ringcheck main (harness/main.cc) lets a suite binary say about
// itself.
#ifndef RINGCHECK_HARNESS_MAIN_H_
#define RINGCHECK_HARNESS_MAIN_H_

namespace ringcheck {

// This binary must run with no other suite process beside it. Listed with
// --gtest_list_tests, it then prints kRunAloneLine first.
void MarkRunAlone();
inline constexpr char kRunAloneLine[] = "# ringcheck: run_alone";

}  // namespace ringcheck

#endif  // RINGCHECK_HARNESS_MAIN_H_
