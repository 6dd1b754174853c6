#include "support/fixtures.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/build_config.h"
#include "core/rng.h"
#include "core/runtime.h"

namespace lumen::test {
namespace {
// The tests run on the OpenBLAS kernels `lumen` runs on (core/runtime.h: select_blas_kernels),
// so that in-process results and the CLI's agree to the bit. Runs before gtest's main.
const bool kBlasKernels = [] {
  static std::vector<std::string> args;
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(f, arg, '\0')) args.push_back(arg);
  static std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (!args.empty()) select_blas_kernels(argv.data());
  return true;
}();
}  // namespace

models::ModelConfig tiny_config(const std::string& encoder, const std::string& attention, bool pair, int64_t num_classes) {
  models::ModelConfig c;
  c.encoder = encoder;
  c.attention = attention;
  c.pair = pair;
  c.num_classes = num_classes;
  c.vocab_size = 20;
  c.embed_dim = 6;
  c.hidden = 4;
  c.cnn_filters = 2;
  c.cnn_kernels = {1, 3};
  c.layers = 2;
  c.heads = 2;
  c.model_dim = 8;
  c.ff_dim = 8;
  return c;
}

data::Batch batch_of(const std::vector<std::vector<int64_t>>& a, const std::vector<std::vector<int64_t>>& b,
                     const std::vector<int64_t>& labels) {
  data::Batch batch;
  data::pad_ids(a, batch.ids, batch.lengths, batch.mask, batch.token_mask);
  if (!b.empty()) data::pad_ids(b, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
  std::vector<int64_t> y = labels.empty() ? std::vector<int64_t>(a.size(), 0) : labels;
  batch.labels = torch::tensor(y, torch::kInt64);
  return batch;
}

CommandResult run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

CommandResult run_lumen(const std::string& args) { return run_command(std::string(LUMEN_BINARY_DIR) + "/lumen " + args); }

TempDir::TempDir() {
  static int counter = 0;
  path_ = (std::filesystem::temp_directory_path() /
           ("lumen-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string p = file(name);
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

double max_directional_error(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x0, int directions,
                             uint64_t seed) {
  Rng rng(seed);
  double worst = 0;
  at::Tensor x = x0.detach().to(torch::kDouble).requires_grad_(true);
  at::Tensor y = f(x);
  at::Tensor g = torch::autograd::grad({y}, {x})[0];
  for (int k = 0; k < directions; ++k) {
    at::Tensor u = torch::empty_like(x);
    auto* p = u.data_ptr<double>();
    for (int64_t i = 0; i < u.numel(); ++i) p[i] = rng.normal();
    const double eps = 1e-6;
    torch::NoGradGuard no_grad;
    const double fd = (f(x + eps * u).item<double>() - f(x - eps * u).item<double>()) / (2 * eps);
    const double ad = (g * u).sum().item<double>();
    const double err = std::abs(fd - ad) / std::max(1e-3, std::abs(fd));
    worst = std::max(worst, err);
  }
  return worst;
}

}  // namespace lumen::test
