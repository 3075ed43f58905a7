// ringcheck-runner: runs suite binaries into one results directory. The one
// supervisor ./ringcheck run (harness/run.sh), the guests (harness/vm/init.sh)
// and anything else that runs suites use: each binary gets a timeout, and a
// binary that dies in a test (a crash, a signal, the timeout) is started again
// past that test, so one crash costs one ERROR and not the rest of its suite.
//
//   ringcheck-runner --results DIR [--expectations DIR] [--timeout S]
//                    [--jobs N] [--split T] [--filter GTEST_FILTER]
//                    [--alone NAME]... [--on-event CMD] [--quiet]
//                    [--format ktap] SUITE...
//
// SUITE is the path of a suite binary, optionally followed by @LABEL (its
// Bazel label, recorded in binaries.jsonl). The runner lists each binary's
// tests (--gtest_list_tests) and runs a binary of more than T tests as
// several processes ("parts") of at most T tests each, dealt round-robin;
// up to N processes run at once, the biggest suites first, and the parts of
// a binary named by --alone run one at a time with nothing beside them.
// Most tests wait on the kernel, not on a core, so parts keep both busy
// and no one long binary decides the run's length. Results: each part
// writes DIR/parts/<name>.<i>.jsonl (harness/recorder.cc, through
// RINGCHECK_RESULTS_FILE); when a binary's last part ends they are joined,
// in part order, into DIR/suites/<name>.jsonl and its output into
// DIR/logs/<name>.log; one line per attempt of a part goes to
// DIR/binaries.jsonl. --on-event CMD runs CMD (synchronously, one at a time)
// with "run NAME ATTEMPT" when a binary first starts or a part restarts, and
// "done NAME EXIT" when its results are joined: the guests stream results
// from there.
// With --format ktap, stdout carries KTAP version 1
// (Documentation/dev-tools/ktap.rst): one test per suite binary, in the
// order they end, with its tests nested; SKIP, XFAIL, XPASS and ERROR as
// directives followed by the reason.
//
// Exit status: 0 every binary ended 0, 1 some binary ended otherwise (a
// FAIL, an XPASS, a crash), 2 could not run, 64 bad usage.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/main.h"
#include "harness/write_all.h"

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitCannotRun = 2, kExitUsage = 64;
constexpr int kMaxRestarts = 3;

struct Options {
  std::string results, expectations, filter = "*", on_event;
  int timeout_s = 300, jobs = 1, split = 50;
  bool quiet = false, ktap = false;
  std::set<std::string> alone;
  std::vector<std::string> suites;
};

struct Part;

struct Suite {
  std::string path, name, label;
  std::vector<Part*> parts;
  size_t tests = 0;  // listed; 0 when the binary could not list them
  size_t parts_left = 0;
  bool announced = false;
  bool alone = false;  // --alone, or the binary said so when listed
  int last_exit = 0;   // the worst final status of its parts
  int crash_exit = 0;  // the status of the last attempt that died in a test
};

// One process's share of a suite binary: the listed tests it runs (all of
// the binary's, by --filter, when the binary could not list them).
struct Part {
  Suite* suite;
  int index = 0;
  std::vector<std::string> tests;    // explicit names; empty: the filter
  std::vector<std::string> skipped;  // tests that killed an earlier attempt
  std::set<std::string> ended;       // tests an earlier attempt finished
  int attempt = 0;
  int last_exit = 0;
  std::string results, log;
};

struct Running {
  Part* part;
  pid_t pid;
  int pidfd;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

[[noreturn]] void Die(int code, const std::string& why) {
  std::fprintf(stderr, "ringcheck-runner: %s\n", why.c_str());
  std::exit(code);
}

void Usage(FILE* to) {
  std::fputs(
      "usage: ringcheck-runner --results DIR [--expectations DIR] [--timeout S] [--jobs N]\n"
      "                        [--split T] [--filter GTEST_FILTER] [--alone NAME]...\n"
      "                        [--on-event CMD] [--quiet] [--format ktap] SUITE[@LABEL]...\n"
      "Runs suite binaries with a timeout each, restarting a binary past a test that\n"
      "crashed it, into one results directory. A binary of more than T tests\n"
      "(default 50; 0: never) runs as several processes of at most T tests; N\n"
      "processes run at once (default 1). --on-event CMD is run as\n"
      "'CMD run NAME ATTEMPT' and 'CMD done NAME EXIT'. --format ktap prints KTAP\n"
      "version 1 on stdout, one subtest per suite binary. Exit: 0 all ended 0,\n"
      "1 some did not, 2 could not run, 64 bad usage.\n",
      to);
}

int NumberArg(const char* flag, const char* value, long min) {
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  if (*value == '\0' || *end != '\0' || v < min || v > 1000000) {
    Die(kExitUsage, std::string(flag) + " needs a " + (min > 0 ? "positive" : "whole") + " number, not '" +
                        value + "'");
  }
  return static_cast<int>(v);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Die(kExitUsage, a + " needs a value (try --help)");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      Usage(stdout);
      std::exit(kExitOk);
    } else if (a == "--results") {
      o.results = value();
    } else if (a == "--expectations") {
      o.expectations = value();
    } else if (a == "--timeout") {
      o.timeout_s = NumberArg("--timeout", value(), 1);
    } else if (a == "--jobs") {
      o.jobs = NumberArg("--jobs", value(), 1);
    } else if (a == "--split") {
      o.split = NumberArg("--split", value(), 0);
    } else if (a == "--on-event") {
      o.on_event = value();
    } else if (a == "--filter") {
      o.filter = value();
    } else if (a == "--alone") {
      o.alone.insert(value());
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--format") {
      const std::string f = value();
      if (f != "ktap" && f != "none") Die(kExitUsage, "--format takes ktap or none, not '" + f + "'");
      o.ktap = f == "ktap";
    } else if (!a.empty() && a[0] == '-') {
      Die(kExitUsage, "unknown option '" + a + "' (try --help)");
    } else {
      o.suites.push_back(a);
    }
  }
  if (o.results.empty()) Die(kExitUsage, "--results DIR is required (try --help)");
  if (o.suites.empty()) Die(kExitUsage, "no suite binaries given (try --help)");
  return o;
}

// The value of "key":"..." in a JSON line the recorder wrote (its strings
// escape only what JSON requires; test names never contain quotes).
std::string Field(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  size_t at = line.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  size_t end = line.find('"', at);
  return end == std::string::npos ? "" : line.substr(at, end - at);
}

// The last test that started and never ended in a recorder file; every test
// that did end goes into *ended.
std::string Unfinished(const std::string& jsonl, std::set<std::string>* ended) {
  std::ifstream in(jsonl);
  std::vector<std::string> open;
  std::string line;
  while (std::getline(in, line)) {
    const std::string event = Field(line, "event");
    const std::string test = Field(line, "test");
    if (event == "start") open.push_back(test);
    if (event == "end") {
      open.erase(std::remove(open.begin(), open.end(), test), open.end());
      ended->insert(test);
    }
  }
  return open.empty() ? "" : open.back();
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    Die(kExitCannotRun, "cannot create " + path + ": " + std::strerror(errno));
  }
}

// Appends `text` to the file at `path`, whole (harness/write_all.h).
void AppendText(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) Die(kExitCannotRun, "cannot write " + path + ": " + std::strerror(errno));
  int error = ringcheck::WriteAll(fd, text.data(), text.size());
  close(fd);
  if (error != 0) Die(kExitCannotRun, "cannot write " + path + ": " + std::strerror(error));
}

void AppendLine(const std::string& path, const std::string& line) { AppendText(path, line + "\n"); }

// Runs `path ARGS` with its stdout into a string, the environment cleared of
// the results variables (a listing must not write results); false when it
// could not run, ended other than 0, or outlived timeout_s.
bool Capture(const std::string& path, const std::vector<std::string>& args, int timeout_s, std::string* out) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 2);
    unsetenv("RINGCHECK_RESULTS_DIR");
    unsetenv("RINGCHECK_RESULTS_FILE");
    unsetenv("XML_OUTPUT_FILE");
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool in_time = true;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      in_time = false;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (!in_time) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return in_time && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The full names of the tests a suite binary runs under `filter`, from
// GoogleTest's --gtest_list_tests ("Suite." lines, then "  Test" lines, each
// maybe followed by "  # GetParam() = ..."); false when it cannot list.
// A binary that must run alone says so on a line of its own (harness/main.h).
bool ListTests(const std::string& path, const std::string& filter, int timeout_s,
               std::vector<std::string>* tests, bool* alone) {
  std::string text;
  if (!Capture(path, {"--gtest_list_tests", "--gtest_filter=" + filter}, timeout_s, &text)) return false;
  std::string suite;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (line == ringcheck::kRunAloneLine) {
      *alone = true;
    } else if (line.rfind("  ", 0) == 0) {
      const std::string name = line.substr(2, line.find(' ', 2) == std::string::npos ? std::string::npos
                                                                                      : line.find(' ', 2) - 2);
      if (suite.empty() || name.empty()) return false;
      tests->push_back(suite + name);
    } else {
      const std::string first = line.substr(0, line.find(' '));
      suite = !first.empty() && first.back() == '.' ? first : "";
    }
  }
  return true;
}

// Cuts a suite binary into parts of at most o.split listed tests, dealt
// round-robin so that neighbouring tests (often alike in length) spread.
void PlanParts(Suite* s, const Options& o, std::vector<std::unique_ptr<Part>>* owner) {
  std::vector<std::string> tests;
  const bool listed = ListTests(s->path, o.filter, o.timeout_s, &tests, &s->alone) && !tests.empty();
  s->tests = listed ? tests.size() : 0;
  size_t count = 1;
  if (listed && o.split > 0) count = (tests.size() + static_cast<size_t>(o.split) - 1) / static_cast<size_t>(o.split);
  for (size_t i = 0; i < count; ++i) {
    auto part = std::make_unique<Part>();
    part->suite = s;
    part->index = static_cast<int>(i);
    part->results = o.results + "/parts/" + s->name + "." + std::to_string(i) + ".jsonl";
    part->log = o.results + "/parts/" + s->name + "." + std::to_string(i) + ".log";
    s->parts.push_back(part.get());
    owner->push_back(std::move(part));
  }
  if (listed) {
    for (size_t t = 0; t < tests.size(); ++t) s->parts[t % count]->tests.push_back(tests[t]);
  }
  s->parts_left = count;
}

// A part's --gtest_filter: its tests by name, less those that killed or
// finished in an earlier attempt; or, for a binary that could not list
// them, the run's filter less those that killed one. Empty when nothing is
// left to run.
std::string PartFilter(const Part& p, const Options& o) {
  std::string filter;
  if (!p.tests.empty()) {
    for (const std::string& t : p.tests) {
      if (std::find(p.skipped.begin(), p.skipped.end(), t) != p.skipped.end() || p.ended.count(t) > 0) continue;
      filter += (filter.empty() ? "" : ":") + t;
    }
    return filter;
  }
  filter = o.filter;
  for (size_t i = 0; i < p.skipped.size(); ++i) filter += (i == 0 ? "-" : ":") + p.skipped[i];
  return filter;
}

// Runs --on-event CMD with its arguments and waits for it.
void Event(const Options& o, const std::string& what, const std::string& name, int value) {
  if (o.on_event.empty()) return;
  pid_t pid = fork();
  if (pid < 0) Die(kExitCannotRun, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const std::string v = std::to_string(value);
    execl(o.on_event.c_str(), o.on_event.c_str(), what.c_str(), name.c_str(), v.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Running Start(Part* p, const std::string& filter, const Options& o) {
  Suite* s = p->suite;
  int log_fd = open(p->log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) Die(kExitCannotRun, "cannot write " + p->log + ": " + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) Die(kExitCannotRun, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);  // the whole group is killed on timeout, children of tests too
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    setenv("RINGCHECK_RESULTS_DIR", o.results.c_str(), 1);
    setenv("RINGCHECK_RESULTS_FILE", p->results.c_str(), 1);
    if (!o.expectations.empty()) setenv("RINGCHECK_EXPECTATIONS", o.expectations.c_str(), 1);
    const std::string flag = "--gtest_filter=" + filter;
    execl(s->path.c_str(), s->path.c_str(), flag.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "ringcheck-runner: cannot execute %s: %s\n", s->path.c_str(),
                 std::strerror(errno));
    _exit(127);
  }
  close(log_fd);
  setpgid(pid, pid);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    kill(-pid, SIGKILL);
    Die(kExitCannotRun, std::string("pidfd_open (Linux 5.3+): ") + std::strerror(errno));
  }
  return {p, pid, pidfd, std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s)};
}

// Reaps a finished attempt; true when the part must run again.
bool Finish(Running& r, const Options& o) {
  int status = 0;
  while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (r.pidfd >= 0) close(r.pidfd);
  kill(-r.pid, SIGKILL);  // leftovers of the group (forked helpers of a test)
  Part* p = r.part;
  Suite* s = p->suite;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r.timed_out) code = 124;
  p->last_exit = code;
  if (code > 1) s->crash_exit = code;
  AppendLine(o.results + "/binaries.jsonl",
             "{\"binary\":\"" + s->name + "\",\"label\":\"" + s->label + "\",\"part\":\"" +
                 std::to_string(p->index + 1) + "/" + std::to_string(s->parts.size()) + "\",\"attempt\":" +
                 std::to_string(p->attempt) + ",\"exit_code\":" + std::to_string(code) + "}");
  if (code <= 1) return false;
  const std::string crashed = Unfinished(p->results, &p->ended);
  ++p->attempt;
  if (crashed.empty() || p->attempt > kMaxRestarts ||
      std::find(p->skipped.begin(), p->skipped.end(), crashed) != p->skipped.end()) {
    return false;
  }
  p->skipped.push_back(crashed);
  if (!o.quiet) {
    std::fprintf(stderr, "ringcheck-runner: %s %s in %s; going on past it\n", s->name.c_str(),
                 code == 124 ? "timed out" : "died", crashed.c_str());
  }
  return true;
}

// Appends the file at `from` to `to` and removes it.
void AppendFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return;
  std::ostringstream text;
  text << in.rdbuf();
  in.close();
  AppendText(to, text.str());
  std::remove(from.c_str());
}

// A suite whose last part ended: its parts' results and output joined in
// part order, and its final status the worst of theirs (a crash over a
// FAIL over a pass).
void JoinParts(Suite* s, const Options& o) {
  for (Part* p : s->parts) {
    AppendFile(p->results, o.results + "/suites/" + s->name + ".jsonl");
    AppendFile(p->log, o.results + "/logs/" + s->name + ".log");
    if (p->last_exit > 1 || (p->last_exit == 1 && s->last_exit == 0)) s->last_exit = p->last_exit;
  }
}


// ---- KTAP (Documentation/dev-tools/ktap.rst) ----

// Decodes the JSON string that starts at s[i] (a quote); i ends past it.
bool JsonString(const std::string& s, size_t& i, std::string* out) {
  if (i >= s.size() || s[i] != '"') return false;
  out->clear();
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= s.size()) return false;
    switch (s[i]) {
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'b': case 'f': break;
      case 'u': {
        if (i + 4 >= s.size()) return false;
        unsigned v = static_cast<unsigned>(std::strtoul(s.substr(i + 1, 4).c_str(), nullptr, 16));
        i += 4;
        if (v < 0x20) {
          out->push_back(' ');
        } else if (v < 0x80) {
          out->push_back(static_cast<char>(v));
        } else if (v < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (v >> 6)));
          out->push_back(static_cast<char>(0x80 | (v & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xE0 | (v >> 12)));
          out->push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (v & 0x3F)));
        }
        break;
      }
      default: out->push_back(s[i]);
    }
  }
  return false;
}

// The decoded string value of a top-level "key" in a recorder line.
std::string StringValue(const std::string& line, const std::string& key) {
  size_t at = line.find("\"" + key + "\":\"");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  std::string out;
  return JsonString(line, at, &out) ? out : "";
}

// The strings of a top-level "key":[...] array of strings.
std::vector<std::string> StringArray(const std::string& line, const std::string& key) {
  std::vector<std::string> out;
  size_t at = line.find("\"" + key + "\":[");
  if (at == std::string::npos) return out;
  at += key.size() + 4;
  std::string value;
  while (at < line.size() && line[at] == '"' && JsonString(line, at, &value)) {
    out.push_back(value);
    if (at < line.size() && line[at] == ',') ++at;
  }
  return out;
}

// KTAP forbids '#' in a description and any line break.
std::string KtapText(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

std::string KtapName(std::string name) {
  for (char& c : name) {
    if (c == '#' || c == '\n' || c == '\r' || c == '\t' || c == ' ') c = '_';
  }
  return name;
}

struct KtapTest {
  std::string name, verdict, reason;
  std::vector<std::string> messages;
};

std::string DescribeExit(int code) {
  if (code == 124) return "timed out";
  if (code > 128) return "killed by signal " + std::to_string(code - 128);
  return "exited " + std::to_string(code);
}

// One suite binary as a KTAP subtest: its tests (the last verdict of each,
// in the order they first ended; a test that started and never ended is an
// ERROR) nested two spaces in, then the binary's own result line.
void PrintKtapSuite(const Suite& s, const Options& o, int number) {
  std::ifstream in(o.results + "/suites/" + s.name + ".jsonl");
  std::vector<KtapTest> tests;
  std::map<std::string, size_t> index;
  std::vector<std::string> open;
  std::string line;
  while (std::getline(in, line)) {
    const std::string event = StringValue(line, "event");
    const std::string test = StringValue(line, "test");
    if (event == "start") {
      open.push_back(test);
      continue;
    }
    if (event != "end") continue;
    open.erase(std::remove(open.begin(), open.end(), test), open.end());
    KtapTest t{test, StringValue(line, "verdict"), StringValue(line, "reason"), StringArray(line, "messages")};
    auto it = index.find(test);
    if (it == index.end()) {
      index[test] = tests.size();
      tests.push_back(t);
    } else {
      tests[it->second] = t;
    }
  }
  for (const std::string& test : open) {
    if (index.count(test) > 0) continue;
    index[test] = tests.size();
    tests.push_back({test, "ERROR", "the test process " + DescribeExit(s.crash_exit) +
                                        " during this test", {}});
  }
  std::string out = "  KTAP version 1\n  1.." + std::to_string(tests.size()) + "\n  # " + KtapText(s.name) +
                    (s.label.empty() ? "" : " (" + KtapText(s.label) + ")") + "\n";
  bool failed = false, all_skipped = !tests.empty();
  int n = 0;
  for (const KtapTest& t : tests) {
    const std::string name = KtapName(t.name);
    const std::string reason = KtapText(t.reason);
    std::string result;
    if (t.verdict == "PASS") {
      result = "ok " + std::to_string(++n) + " " + name;
    } else if (t.verdict == "SKIP") {
      result = "ok " + std::to_string(++n) + " " + name + " # SKIP" + (reason.empty() ? "" : " " + reason);
    } else if (t.verdict == "XFAIL") {
      result = "ok " + std::to_string(++n) + " " + name + " # XFAIL" + (reason.empty() ? "" : " " + reason);
    } else {
      failed = true;
      for (const std::string& m : t.messages) {
        std::string text = m;
        size_t start = 0;
        for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
          out += "  # " + KtapText(text.substr(start, nl - start)) + "\n";
        }
        if (start < text.size()) out += "  # " + KtapText(text.substr(start)) + "\n";
      }
      std::string directive;
      if (t.verdict == "XPASS") directive = " # XPASS expected to fail: " + reason;
      if (t.verdict == "ERROR") directive = " # ERROR " + reason;
      result = "not ok " + std::to_string(++n) + " " + name + directive;
    }
    if (t.verdict != "SKIP") all_skipped = false;
    out += "  " + result + "\n";
  }
  std::string tail;
  if (tests.empty() && s.last_exit != 0) {
    failed = true;
    tail = " # ERROR " + s.name + " " + DescribeExit(s.last_exit) + " before recording anything";
  } else if (tests.empty()) {
    tail = " # SKIP no test matched the filter";
  } else if (!failed && s.last_exit > 1) {
    failed = true;
    tail = " # ERROR " + s.name + " " + DescribeExit(s.last_exit);
  } else if (all_skipped) {
    tail = " # SKIP every test skipped";
  }
  out += std::string(failed ? "not ok " : "ok ") + std::to_string(number) + " " + KtapName(s.name) + tail + "\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o = Parse(argc, argv);
  MakeDir(o.results);
  MakeDir(o.results + "/suites");
  MakeDir(o.results + "/logs");

  MakeDir(o.results + "/parts");
  std::vector<Suite> suites(o.suites.size());
  for (size_t i = 0; i < o.suites.size(); ++i) {
    const std::string& arg = o.suites[i];
    Suite& s = suites[i];
    size_t at = arg.find('@');
    s.path = arg.substr(0, at);
    s.label = at == std::string::npos ? "" : arg.substr(at + 1);
    s.name = Basename(s.path);
    if (access(s.path.c_str(), X_OK) != 0) Die(kExitCannotRun, s.path + " is not an executable suite binary");
  }

  if (o.ktap) {
    std::printf("KTAP version 1\n1..%zu\n", suites.size());
    std::fflush(stdout);
  }
  // The parts of every binary, the biggest binaries first (their parts are
  // the longest to wait for), each binary's parts together.
  std::vector<std::unique_ptr<Part>> parts;
  for (Suite& s : suites) PlanParts(&s, o, &parts);
  std::vector<Suite*> order;
  for (Suite& s : suites) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const Suite* a, const Suite* b) { return a->tests > b->tests; });
  std::vector<Part*> queue;
  for (Suite* s : order) queue.insert(queue.end(), s->parts.begin(), s->parts.end());

  std::vector<Running> running;
  size_t done = 0;
  auto is_alone = [&](const Part* p) { return p->suite->alone || o.alone.count(p->suite->name) > 0; };
  while (!queue.empty() || !running.empty()) {
    // Start what may start: nothing beside a part of a binary that runs alone.
    while (!queue.empty() && static_cast<int>(running.size()) < o.jobs) {
      Part* next = queue.front();
      const bool alone_running = std::any_of(running.begin(), running.end(),
                                             [&](const Running& r) { return is_alone(r.part); });
      if (alone_running || (is_alone(next) && !running.empty())) break;
      queue.erase(queue.begin());
      const std::string filter = PartFilter(*next, o);
      if (filter.empty()) {  // every test of it killed an attempt
        if (--next->suite->parts_left == 0) {
          JoinParts(next->suite, o);
          ++done;
          if (o.ktap) PrintKtapSuite(*next->suite, o, static_cast<int>(done));
          Event(o, "done", next->suite->name, next->suite->last_exit);
        }
        continue;
      }
      if (!next->suite->announced || next->attempt > 0) {
        Event(o, "run", next->suite->name, next->attempt);
        next->suite->announced = true;
      }
      running.push_back(Start(next, filter, o));
    }
    if (running.empty()) continue;
    std::vector<pollfd> fds;
    for (const Running& r : running) fds.push_back({r.pidfd, POLLIN, 0});
    auto now = std::chrono::steady_clock::now();
    auto next = running.front().deadline;
    for (const Running& r : running) next = std::min(next, r.deadline);
    int wait_ms = static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count()));
    int ready = poll(fds.data(), fds.size(), std::min(wait_ms, 1000));
    if (ready < 0 && errno != EINTR) Die(kExitCannotRun, std::string("poll: ") + std::strerror(errno));
    now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < running.size();) {
      Running& r = running[i];
      bool ended = fds[i].revents != 0;
      if (!ended && now >= r.deadline) {
        kill(-r.pid, SIGKILL);
        r.timed_out = true;
        ended = true;
      }
      if (!ended) {
        ++i;
        continue;
      }
      Running finished = r;
      Part* p = finished.part;
      running.erase(running.begin() + static_cast<long>(i));
      fds.erase(fds.begin() + static_cast<long>(i));
      if (Finish(finished, o)) {
        queue.insert(queue.begin(), p);  // again, past the test that killed it
        continue;
      }
      Suite* s = p->suite;
      if (--s->parts_left > 0) continue;
      JoinParts(s, o);
      ++done;
      if (o.ktap) PrintKtapSuite(*s, o, static_cast<int>(done));
      if (!o.quiet) {
        std::fprintf(stderr, "ringcheck-runner: [%zu/%zu] %s %s\n", done, suites.size(), s->name.c_str(),
                     s->last_exit == 0 ? "ok" : ("ended " + std::to_string(s->last_exit)).c_str());
      }
      Event(o, "done", s->name, s->last_exit);
    }
  }
  rmdir((o.results + "/parts").c_str());
  bool all_ok = std::all_of(suites.begin(), suites.end(), [](const Suite& s) { return s.last_exit == 0; });
  return all_ok ? kExitOk : kExitFailed;
}
