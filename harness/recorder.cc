#include "harness/recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "harness/facts.h"
#include "harness/json.h"
#include "harness/write_all.h"

namespace ringcheck {
namespace {

std::string FullName(const ::testing::TestInfo& info) {
  return std::string(info.test_suite_name()) + "." + info.name();
}

// Rule ids a test names: what it recorded (RINGCHECK_RULE, failed checks)
// plus "(rule X)" in free-text failure messages.
std::vector<std::string> RulesOf(const TestFacts& facts, const std::vector<std::string>& messages) {
  std::vector<std::string> rules = facts.rules;
  static const std::regex kRule(R"(\(rule ([A-Z][0-9]+|[A-Z]\.[0-9]+:F_[A-Z0-9_]+)\))");
  for (const std::string& m : messages) {
    for (std::sregex_iterator it(m.begin(), m.end(), kRule), end; it != end; ++it) {
      if (std::find(rules.begin(), rules.end(), (*it)[1]) == rules.end()) rules.push_back((*it)[1]);
    }
  }
  return rules;
}

void MakeDirs(const std::string& path) {
  for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos) {
    mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

}  // namespace

std::string DefaultResultsPath(const std::string& binary) {
  if (const char* file = std::getenv("RINGCHECK_RESULTS_FILE")) {
    if (*file != '\0') return file;
  }
  if (const char* dir = std::getenv("RINGCHECK_RESULTS_DIR")) {
    return std::string(dir) + "/suites/" + binary + ".jsonl";
  }
  if (const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    return std::string(dir) + "/" + binary + ".jsonl";
  }
  return "";
}

Recorder::Recorder(const std::string& path, const std::string& binary, Expectations expectations)
    : binary_(binary), expectations_(std::move(expectations)) {
  utsname u;
  if (uname(&u) == 0) kernel_release_ = u.release;
  if (!path.empty()) {
    MakeDirs(path);
    out_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_ < 0) {
      std::fprintf(stderr, "ringcheck: cannot write results to %s: %s\n", path.c_str(),
                   std::strerror(errno));
    }
    path_ = path;
  }
}

Recorder::~Recorder() {
  if (out_ >= 0) close(out_);
}

void Recorder::WriteLine(const std::string& json) {
  if (out_ < 0) return;
  // One write per line, straight to the file: a crash in the next test must
  // not lose this line, and a disk full for a while must not cut it.
  const std::string line = json + "\n";
  if (int error = WriteAll(out_, line.data(), line.size()); error != 0) {
    std::fprintf(stderr, "ringcheck: cannot write results to %s: %s; stopping, as every later verdict "
                 "would be lost\n", path_.c_str(), std::strerror(error));
    std::fflush(stderr);
    _exit(kExitResultsLost);
  }
}

void Recorder::OnTestProgramStart(const ::testing::UnitTest&) {
  kernel_log_ = std::make_unique<KernelLog>(binary_ + " starts");
  taint_before_ = KernelLog::Taint();
  JsonWriter w;
  w.BeginObject().Field("event", "program_start").Field("binary", binary_);
  w.Field("kernel_release", kernel_release_).Field("taint", static_cast<int64_t>(taint_before_));
  w.Field("expectations", static_cast<int64_t>(expectations_.size()));
  w.Key("expectation_errors").BeginArray();
  for (const std::string& e : expectations_.errors()) w.String(e);
  w.EndArray().EndObject();
  WriteLine(w.str());
}

void Recorder::OnTestStart(const ::testing::TestInfo& info) {
  failures_.clear();
  skip_reason_.clear();
  TakeFacts();  // drop whatever a previous test's stray threads noted
  test_start_ = std::chrono::steady_clock::now();
  JsonWriter w;
  w.BeginObject().Field("event", "start").Field("test", FullName(info)).EndObject();
  WriteLine(w.str());
}

void Recorder::OnTestPartResult(const ::testing::TestPartResult& result) {
  if (result.skipped()) {
    if (skip_reason_.empty()) skip_reason_ = result.message();
    return;
  }
  if (!result.failed()) return;
  std::string where = result.file_name() ? std::string(result.file_name()) + ":" +
                                               std::to_string(result.line_number()) + ": "
                                         : "";
  failures_.push_back(where + result.message());
}

void Recorder::OnTestEnd(const ::testing::TestInfo& info) {
  const std::string name = FullName(info);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - test_start_)
                      .count();
  const Expectation* expected = expectations_.Find(kernel_release_, name);
  const TestFacts facts = TakeFacts();
  std::string verdict;
  std::string reason;
  std::string expectation;
  if (info.result()->Skipped()) {
    verdict = "SKIP";
    reason = skip_reason_.empty() ? "unspecified: the test gave no reason" : skip_reason_;
    ++totals_.skip;
  } else if (info.result()->Failed()) {
    if (expected != nullptr) {
      verdict = "XFAIL";
      reason = expected->reason;
      expectation = expected->source;
      ++totals_.xfail;
    } else {
      verdict = "FAIL";
      ++totals_.fail;
    }
  } else if (expected != nullptr && !expected->flaky) {
    // The deviation is gone (or the entry never matched a real failure):
    // a stale expectation fails the run until someone removes or fixes it.
    verdict = "XPASS";
    reason = "passed, but " + expected->source + " expects it to fail: " + expected->reason;
    expectation = expected->source;
    ++totals_.xpass;
  } else {
    verdict = "PASS";
    ++totals_.pass;
    if (expected != nullptr) {
      reason = "passed this time; " + expected->source + " lists it as flaky: " + expected->reason;
      expectation = expected->source;
    }
  }
  std::vector<std::string> problems = kernel_log_ ? kernel_log_->NewProblems()
                                                  : std::vector<std::string>();
  totals_.kernel_problems.insert(totals_.kernel_problems.end(), problems.begin(), problems.end());

  verdicts_.push_back({info.test_suite_name(), info.name(), verdict, reason, failures_,
                       static_cast<long long>(ms)});

  JsonWriter w;
  w.BeginObject().Field("event", "end").Field("test", name);
  w.Field("suite", info.test_suite_name());
  if (info.value_param() != nullptr) w.Field("param", info.value_param());
  w.Field("verdict", verdict);
  if (!reason.empty()) w.Field("reason", reason);
  if (!expectation.empty()) w.Field("expectation", expectation);
  w.Key("rules").BeginArray();
  for (const std::string& r : RulesOf(facts, failures_)) w.String(r);
  w.EndArray();
  w.Key("features").BeginArray();
  for (const std::string& f : facts.features) w.String(f);
  w.EndArray();
  if (!facts.observations.empty()) {
    w.Key("observations").BeginArray();
    for (const std::string& o : facts.observations) w.String(o);
    w.EndArray();
  }
  w.Key("checks").BeginArray();
  for (const FailedCheck& c : facts.failed) {
    w.BeginObject().Field("rule", c.rule).Field("expected", c.expected);
    w.Field("actual", c.actual).Field("expression", c.expression).EndObject();
  }
  w.EndArray();
  w.Key("messages").BeginArray();
  for (const std::string& m : failures_) w.String(m);
  w.EndArray();
  w.Field("duration_ms", static_cast<int64_t>(ms));
  w.Key("kernel_log").BeginArray();
  for (const std::string& p : problems) w.String(p);
  w.EndArray();
  w.EndObject();
  WriteLine(w.str());
}

namespace {

std::string XmlEscape(const std::string& in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 has no other control characters than tab and newlines.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

void Recorder::WriteJUnit() const {
  if (junit_path_.empty()) return;
  FILE* f = std::fopen(junit_path_.c_str(), "w");
  if (f == nullptr) return;
  int failures = 0, skipped = 0;
  for (const Verdict& v : verdicts_) {
    failures += v.verdict == "FAIL" || v.verdict == "XPASS";
    skipped += v.verdict == "SKIP" || v.verdict == "XFAIL";
  }
  std::fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  std::fprintf(f, "<testsuites name=\"%s\" tests=\"%zu\" failures=\"%d\" skipped=\"%d\">\n",
               XmlEscape(binary_).c_str(), verdicts_.size(), failures, skipped);
  std::fprintf(f, "<testsuite name=\"%s\" tests=\"%zu\" failures=\"%d\" skipped=\"%d\">\n",
               XmlEscape(binary_).c_str(), verdicts_.size(), failures, skipped);
  for (const Verdict& v : verdicts_) {
    std::fprintf(f, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\">",
                 XmlEscape(v.suite).c_str(), XmlEscape(v.name).c_str(), v.ms / 1000.0);
    std::string body;
    for (const std::string& m : v.messages) body += m + "\n";
    if (v.verdict == "FAIL" || v.verdict == "XPASS") {
      std::fprintf(f, "<failure message=\"%s\">%s</failure>",
                   XmlEscape(v.verdict == "XPASS" ? "XPASS: " + v.reason
                                                  : (v.messages.empty() ? "FAIL" : v.messages[0])).c_str(),
                   XmlEscape(body).c_str());
    } else if (v.verdict == "SKIP" || v.verdict == "XFAIL") {
      std::fprintf(f, "<skipped message=\"%s\"/>", XmlEscape(v.verdict + ": " + v.reason).c_str());
    }
    std::fprintf(f, "</testcase>\n");
  }
  std::fprintf(f, "</testsuite>\n</testsuites>\n");
  std::fclose(f);
}

void Recorder::OnTestProgramEnd(const ::testing::UnitTest&) {
  WriteJUnit();
  long taint_after = KernelLog::Taint();
  JsonWriter w;
  w.BeginObject().Field("event", "program_end").Field("binary", binary_);
  w.Field("pass", totals_.pass).Field("fail", totals_.fail).Field("skip", totals_.skip);
  w.Field("xfail", totals_.xfail).Field("xpass", totals_.xpass);
  w.Field("taint_before", static_cast<int64_t>(taint_before_));
  w.Field("taint_after", static_cast<int64_t>(taint_after));
  w.Field("kernel_log_readable", kernel_log_ && kernel_log_->readable());
  w.Key("kernel_log").BeginArray();
  for (const std::string& p : totals_.kernel_problems) w.String(p);
  w.EndArray();
  w.EndObject();
  WriteLine(w.str());
}

}  // namespace ringcheck
