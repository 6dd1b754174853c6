#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/parallel.h"

#include <atomic>
#include "core/rng.h"
#include "core/runtime.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

TEST(Rng, IsDeterministicAndUniformEnough) {
  Rng a(5), b(5), c(6);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(Rng(5).next_u64(), c.next_u64());
  Rng r(1);
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 40000; ++i) ++counts[r.uniform_int(4)];
  for (int k : counts) EXPECT_NEAR(k, 10000, 400);  // ~4 standard deviations
}

TEST(Fs, AtomicWriteReplacesWholeAndLeavesNoTemporaryOnFailure) {
  test::TempDir d;
  const auto p = d.file("out.txt");
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  EXPECT_THROW(write_atomic(p, [](std::ostream& o) {
                 o << "partial";
                 throw IoError("disk full");
               }),
               IoError);
  EXPECT_EQ(read_file(p), "second");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(d.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_THROW(read_file(d.file("none")), IoError);
}

TEST(Runtime, LibTorchRunsOnOpenBlas) {
  const auto info = blas_info();
  EXPECT_TRUE(info.openblas) << "LibTorch is on the reference BLAS; install libopenblas0-pthread";
  EXPECT_EQ(blas_warning(), "");
}

TEST(Parallel, ChunksCoverTheRangeExactlyOnce) {
  std::vector<int> seen(100000, 0);
  parallel_chunks(100000, 1000, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ++seen[i];
  });
  for (int s : seen) ASSERT_EQ(s, 1);
  EXPECT_THROW(parallel_chunks(100000, 10, [](int64_t, int64_t) { throw IoError("worker failed"); }), IoError);
}

TEST(Parallel, NestedCallsRunSeriallyOnTheirChunksThread) {
  EXPECT_FALSE(in_parallel_region());
  std::vector<int> seen(4000, 0);
  std::atomic<int> nested_chunks{0};
  parallel_chunks(4, 1, [&](int64_t b, int64_t e) {
    EXPECT_TRUE(in_parallel_region());
    for (int64_t i = b; i < e; ++i)
      parallel_chunks(1000, 1, [&](int64_t b2, int64_t e2) {
        ++nested_chunks;  // one call covering the whole inner range
        EXPECT_EQ(e2 - b2, 1000);
        for (int64_t j = b2; j < e2; ++j) ++seen[i * 1000 + j];
      });
  });
  EXPECT_FALSE(in_parallel_region());
  EXPECT_EQ(nested_chunks.load(), 4);
  for (int s : seen) ASSERT_EQ(s, 1);
}

TEST(Runtime, ThreadsMeanCoresAndLibrariesKeepOneThread) {
  const int machine = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto chunks_used = [] {
    std::atomic<int> calls{0};
    parallel_chunks(1 << 20, 1, [&](int64_t, int64_t) { ++calls; });
    return calls.load();
  };
  configure_threads(1);
  EXPECT_EQ(cores(), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(blas_threads(), 1);
  EXPECT_EQ(chunks_used(), 1);  // one core: everything on the calling thread
  configure_threads(machine);
  EXPECT_EQ(cores(), machine);
  EXPECT_EQ(at::get_num_threads(), 1);  // never LibTorch's intra-op threads
  EXPECT_EQ(blas_threads(), 1);
  EXPECT_EQ(chunks_used(), machine);
  configure_threads(machine + 7);  // more than the machine has: capped
  EXPECT_EQ(cores(), machine);
  configure_threads(0);  // the default: every core
  EXPECT_EQ(cores(), machine);
  EXPECT_EQ(at::get_num_threads(), 1);
}

}  // namespace
}  // namespace lumen
