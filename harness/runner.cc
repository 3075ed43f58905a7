// ringcheck-runner: runs suite binaries into one results directory. The one
// supervisor ./ringcheck run (harness/run.sh), the guests (harness/vm/init.sh)
// and anything else that runs suites use: each binary gets a timeout, and a
// binary that dies in a test (a crash, a signal, the timeout) is started again
// past that test, so one crash costs one ERROR and not the rest of its suite.
//
//   ringcheck-runner --results DIR [--expectations DIR] [--timeout S]
//                    [--jobs N] [--filter GTEST_FILTER] [--alone NAME]...
//                    [--quiet] [--format ktap] SUITE...
//
// SUITE is the path of a suite binary, optionally followed by @LABEL (its
// Bazel label, recorded in binaries.jsonl). Up to N binaries run at once;
// those named by --alone run with nothing beside them. Results: the
// binaries' own DIR/suites/<name>.jsonl (harness/recorder.cc), their output
// in DIR/logs/<name>.log, and one line per attempt in DIR/binaries.jsonl.
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
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitCannotRun = 2, kExitUsage = 64;
constexpr int kMaxRestarts = 3;

struct Options {
  std::string results, expectations, filter = "*";
  int timeout_s = 300, jobs = 1;
  bool quiet = false, ktap = false;
  std::set<std::string> alone;
  std::vector<std::string> suites;
};

struct Suite {
  std::string path, name, label;
  std::vector<std::string> skipped;  // tests that killed an earlier attempt
  int attempt = 0;
  int last_exit = 0;
  int crash_exit = 0;  // the status of the last attempt that died in a test
};

struct Running {
  Suite* suite;
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
      "                        [--filter GTEST_FILTER] [--alone NAME]... [--quiet]\n"
      "                        [--format ktap] SUITE[@LABEL]...\n"
      "Runs suite binaries with a timeout each, restarting a binary past a test that\n"
      "crashed it, into one results directory; --format ktap prints KTAP version 1\n"
      "on stdout, one subtest per suite binary. Exit: 0 all ended 0, 1 some did not,\n"
      "2 could not run, 64 bad usage.\n",
      to);
}

int PositiveInt(const char* flag, const char* value) {
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  if (*value == '\0' || *end != '\0' || v <= 0 || v > 1000000) {
    Die(kExitUsage, std::string(flag) + " needs a positive number, not '" + value + "'");
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
      o.timeout_s = PositiveInt("--timeout", value());
    } else if (a == "--jobs") {
      o.jobs = PositiveInt("--jobs", value());
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

// The last test that started and never ended in a recorder file.
std::string Unfinished(const std::string& jsonl) {
  std::ifstream in(jsonl);
  std::vector<std::string> open;
  std::string line;
  while (std::getline(in, line)) {
    const std::string event = Field(line, "event");
    const std::string test = Field(line, "test");
    if (event == "start") open.push_back(test);
    if (event == "end") open.erase(std::remove(open.begin(), open.end(), test), open.end());
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

void AppendLine(const std::string& path, const std::string& line) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) Die(kExitCannotRun, "cannot write " + path + ": " + std::strerror(errno));
  std::fprintf(f, "%s\n", line.c_str());
  std::fclose(f);
}

Running Start(Suite* s, const Options& o) {
  std::string filter = o.filter;
  for (size_t i = 0; i < s->skipped.size(); ++i) filter += (i == 0 ? "-" : ":") + s->skipped[i];
  const std::string log = o.results + "/logs/" + s->name + ".log";
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) Die(kExitCannotRun, "cannot write " + log + ": " + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) Die(kExitCannotRun, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);  // the whole group is killed on timeout, children of tests too
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    setenv("RINGCHECK_RESULTS_DIR", o.results.c_str(), 1);
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
  return {s, pid, pidfd, std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s)};
}

// Reaps a finished attempt; true when the suite must run again.
bool Finish(Running& r, const Options& o) {
  int status = 0;
  while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (r.pidfd >= 0) close(r.pidfd);
  kill(-r.pid, SIGKILL);  // leftovers of the group (forked helpers of a test)
  Suite* s = r.suite;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r.timed_out) code = 124;
  s->last_exit = code;
  if (code > 1) s->crash_exit = code;
  AppendLine(o.results + "/binaries.jsonl",
             "{\"binary\":\"" + s->name + "\",\"label\":\"" + s->label + "\",\"attempt\":" +
                 std::to_string(s->attempt) + ",\"exit_code\":" + std::to_string(code) + "}");
  if (code <= 1) return false;
  const std::string crashed = Unfinished(o.results + "/suites/" + s->name + ".jsonl");
  ++s->attempt;
  if (crashed.empty() || s->attempt > kMaxRestarts ||
      std::find(s->skipped.begin(), s->skipped.end(), crashed) != s->skipped.end()) {
    return false;
  }
  s->skipped.push_back(crashed);
  if (!o.quiet) {
    std::fprintf(stderr, "ringcheck-runner: %s %s in %s; going on past it\n", s->name.c_str(),
                 code == 124 ? "timed out" : "died", crashed.c_str());
  }
  return true;
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

  std::vector<Suite> suites;
  for (const std::string& arg : o.suites) {
    Suite s;
    size_t at = arg.find('@');
    s.path = arg.substr(0, at);
    s.label = at == std::string::npos ? "" : arg.substr(at + 1);
    s.name = Basename(s.path);
    if (access(s.path.c_str(), X_OK) != 0) Die(kExitCannotRun, s.path + " is not an executable suite binary");
    suites.push_back(s);
  }

  if (o.ktap) {
    std::printf("KTAP version 1\n1..%zu\n", suites.size());
    std::fflush(stdout);
  }
  std::vector<Suite*> queue;
  for (Suite& s : suites) queue.push_back(&s);
  std::vector<Running> running;
  size_t done = 0;
  while (!queue.empty() || !running.empty()) {
    // Start what may start: nothing beside a binary that runs alone.
    while (!queue.empty() && static_cast<int>(running.size()) < o.jobs) {
      const bool alone = o.alone.count(queue.front()->name) > 0;
      const bool alone_running = std::any_of(running.begin(), running.end(), [&](const Running& r) {
        return o.alone.count(r.suite->name) > 0;
      });
      if (alone_running || (alone && !running.empty())) break;
      running.push_back(Start(queue.front(), o));
      queue.erase(queue.begin());
    }
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
      Suite* s = r.suite;
      if (Finish(r, o)) {
        queue.insert(queue.begin(), s);  // again, past the test that killed it
      } else {
        ++done;
        if (o.ktap) PrintKtapSuite(*s, o, static_cast<int>(done));
        if (!o.quiet) {
          std::fprintf(stderr, "ringcheck-runner: [%zu/%zu] %s %s\n", done, suites.size(),
                       s->name.c_str(), s->last_exit == 0 ? "ok" : ("ended " + std::to_string(s->last_exit)).c_str());
        }
      }
      running.erase(running.begin() + static_cast<long>(i));
      fds.erase(fds.begin() + static_cast<long>(i));
    }
  }
  bool all_ok = std::all_of(suites.begin(), suites.end(), [](const Suite& s) { return s.last_exit == 0; });
  return all_ok ? kExitOk : kExitFailed;
}
