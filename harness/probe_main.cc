// probe: measures the capability snapshot of the running kernel and prints it
// as JSON (or writes it to the file named by --out).
#include <cstdio>
#include <cstring>
#include <string>

#include "harness/capabilities.h"

int main(int argc, char** argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: probe [--out FILE]\n"
                  "Measures what the running kernel's io_uring supports and prints it as JSON.\n"
                  "Exit status: 0 when io_uring is usable, 3 when it is not, 2 on bad usage.\n");
      return 0;
    } else {
      std::fprintf(stderr, "probe: unknown argument '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }
  ringcheck::Capabilities caps = ringcheck::MeasureCapabilities();
  std::string json = caps.ToJson() + "\n";
  if (out.empty()) {
    std::fputs(json.c_str(), stdout);
  } else {
    std::string tmp = out + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0 ||
        std::rename(tmp.c_str(), out.c_str()) != 0) {
      std::fprintf(stderr, "probe: cannot write %s\n", out.c_str());
      return 2;
    }
  }
  return caps.usable() ? 0 : 3;
}
