// Memory of the attribution methods as a user sees it, measured on the `lumen` process itself
// (peak resident set from wait4): integrated gradients with 512 steps stays within 1.2x of its
// peak with 16 steps (steps are evaluated in chunks of bounded size), and a 2,000-token text goes
// through every method without running out of memory.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/build_config.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

// Runs `command` in a shell; exit status and the child's peak resident set in KiB.
std::pair<int, long> run_measured(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss};
}

TEST(ExplainMemory, IntegratedGradientsPeakIsFlatInStepsAndLongTextsFinish) {
  test::TempDir d;
  // The paper's sizes (300-d embeddings, hidden 128); one epoch is enough for a memory test.
  auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=200' --out " + d.file("run") + " --epochs 1");
  ASSERT_EQ(r.code, 0) << r.output;
  {
    std::ofstream f(d.file("long.txt"));
    for (int i = 0; i < 2000; ++i) f << (i % 7 == 0 ? "good " : "word ");
    f << "\n";
  }
  const std::string lumen = std::string(LUMEN_BINARY_DIR) + "/lumen";
  auto ig = [&](int steps) {
    return run_measured(lumen + " -q explain --run " + d.file("run") + " --methods ig --steps " + std::to_string(steps) +
                        " --json-out " + d.file("ig.json") + " < " + d.file("long.txt") + " > /dev/null");
  };
  const auto [c16, kb16] = ig(16);
  const auto [c512, kb512] = ig(512);
  ASSERT_EQ(c16, 0);
  ASSERT_EQ(c512, 0);
  RecordProperty("ig16_peak_kib", std::to_string(kb16));
  RecordProperty("ig512_peak_kib", std::to_string(kb512));
  std::printf("integrated gradients on 2,000 tokens: peak RSS %ld KiB (16 steps), %ld KiB (512 steps), ratio %.3f\n",
              kb16, kb512, static_cast<double>(kb512) / kb16);
  EXPECT_LE(static_cast<double>(kb512), 1.2 * kb16);
  // Every method on the 2,000-token text (LIME/SHAP with fewer samples to keep the test short).
  const auto [code, kb] = run_measured(lumen + " -q explain --run " + d.file("run") +
                                       " --methods all --samples 100 --json-out " + d.file("all.json") + " < " +
                                       d.file("long.txt") + " > " + d.file("all.txt") + " 2>&1");
  EXPECT_EQ(code, 0) << test::run_command("cat " + d.file("all.txt")).output;
  std::printf("every method on 2,000 tokens: peak RSS %ld KiB\n", kb);
}

}  // namespace
}  // namespace lumen
