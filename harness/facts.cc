#include "harness/facts.h"

#include <algorithm>
#include <mutex>
#include <regex>
#include <sstream>

namespace ringcheck {
namespace {

std::mutex& Lock() {
  static std::mutex* m = new std::mutex;
  return *m;
}

TestFacts& Current() {
  static TestFacts* facts = new TestFacts;
  return *facts;
}

void AddWords(const std::string& words, std::vector<std::string>* to) {
  std::istringstream in(words);
  std::string word;
  while (in >> word) {
    if (std::find(to->begin(), to->end(), word) == to->end()) to->push_back(word);
  }
}

}  // namespace

void NoteRules(const std::string& ids) {
  std::lock_guard<std::mutex> hold(Lock());
  AddWords(ids, &Current().rules);
}

void NoteFeatures(const std::string& ids) {
  std::lock_guard<std::mutex> hold(Lock());
  AddWords(ids, &Current().features);
}

void NoteFailedCheck(FailedCheck check) {
  // A check's rule text may say more than the id ("C5: sparse table"): only
  // what looks like a rule id joins the test's rules.
  static const std::regex kId(R"(\b([A-Z][0-9]+|[A-Z]\.[0-9]+:F_[A-Z0-9_]+)\b)");
  std::string ids;
  for (std::sregex_iterator it(check.rule.begin(), check.rule.end(), kId), end; it != end; ++it) {
    ids += (*it)[1].str() + " ";
  }
  std::lock_guard<std::mutex> hold(Lock());
  AddWords(ids, &Current().rules);
  Current().failed.push_back(std::move(check));
}

void NoteObservation(const std::string& what) {
  std::lock_guard<std::mutex> hold(Lock());
  if (Current().observations.size() < 20) Current().observations.push_back(what);
}

TestFacts TakeFacts() {
  std::lock_guard<std::mutex> hold(Lock());
  TestFacts out = std::move(Current());
  Current() = TestFacts();
  return out;
}

}  // namespace ringcheck
