// ProgressScope (core/progress.h): a thread's Progress reports reach the scope's sink, the
// scope's flag stops the work with Cancelled, scopes nest, and other threads are unaffected.
#include <gtest/gtest.h>

#include <thread>

#include "core/progress.h"

namespace lumen {
namespace {

TEST(ProgressScope, ReportsEveryAdvanceAndCancelsOnTheFlag) {
  std::vector<ProgressReport> seen;
  std::atomic<bool> cancel{false};
  {
    ProgressScope scope([&](const ProgressReport& r) { seen.push_back(r); }, &cancel);
    Progress p("work", 3, false);
    p.advance();
    p.advance();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].label, "work");
    EXPECT_EQ(seen[0].done, 0);
    EXPECT_EQ(seen[2].done, 2);
    EXPECT_EQ(seen[2].total, 3);
    cancel = true;
    EXPECT_THROW(p.advance(), Cancelled);
    EXPECT_THROW(ProgressScope::check_cancelled(), Cancelled);
  }
  // Outside the scope nothing reports and nothing is cancelled.
  Progress q("after", 2, false);
  q.advance();
  EXPECT_NO_THROW(ProgressScope::check_cancelled());
  EXPECT_EQ(seen.size(), 4u);  // the cancelled advance still reported before it threw
}

TEST(ProgressScope, NestsAndStaysOnItsThread) {
  std::atomic<bool> outer_flag{true}, inner_flag{false};
  int outer = 0, inner = 0;
  ProgressScope a([&](const ProgressReport&) { ++outer; }, &outer_flag);
  {
    ProgressScope b([&](const ProgressReport&) { ++inner; }, &inner_flag);
    Progress p("inner", 2, false);
    EXPECT_NO_THROW(p.advance());  // the innermost scope's flag decides
    EXPECT_EQ(inner, 2);
    EXPECT_EQ(outer, 0);
    std::thread t([] {
      Progress elsewhere("other thread", 2, false);
      EXPECT_NO_THROW(elsewhere.advance());
    });
    t.join();
  }
  EXPECT_THROW(ProgressScope::check_cancelled(), Cancelled);  // back to the outer scope
}

}  // namespace
}  // namespace lumen
