// Shared test fixtures: tiny models of every kind, hand-made batches, temporary directories,
// and a central finite-difference check in float64.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "data/batch.h"
#include "models/classifier.h"

namespace lumen::test {

// A small model config: every size tiny so that float64 gradient checks stay fast.
models::ModelConfig tiny_config(const std::string& encoder, const std::string& attention, bool pair,
                                int64_t num_classes = 2);

// A batch from token-id lists (without <s>/</s>); `b` gives the second texts of pairs.
data::Batch batch_of(const std::vector<std::vector<int64_t>>& a, const std::vector<std::vector<int64_t>>& b = {},
                     const std::vector<int64_t>& labels = {});

// A fresh empty directory under the system temporary directory; removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Largest relative error between autograd's directional derivative of the scalar f at x along
// random directions and the central difference (eps 1e-6), in float64.
double max_directional_error(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x, int directions = 3,
                             uint64_t seed = 1);

// Runs a shell command; its exit status and stdout + stderr together.
struct CommandResult {
  int code;
  std::string output;
};
CommandResult run_command(const std::string& command);
// Runs the built `lumen` with `args` (as a shell would split them).
CommandResult run_lumen(const std::string& args);

// Seeds LibTorch before each test so that model initialisation is reproducible.
class SeededTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

}  // namespace lumen::test
