#include "models/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"

namespace lumen::models {
namespace {
const char* kFormat = "lumen-weights-v1";
}

void save_weights(TextClassifier& model, const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write("lumen_format", c10::IValue(std::string(kFormat)));
  archive.write("lumen_config", c10::IValue(model->config().to_json().dump()));
  for (const auto& p : model->named_parameters()) archive.write(p.key(), p.value(), /*is_buffer=*/false);
  for (const auto& b : model->named_buffers()) archive.write(b.key(), b.value(), /*is_buffer=*/true);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

void load_weights(TextClassifier& model, const std::string& path) {
  if (!path_exists(path)) throw IoError("checkpoint: " + path + " does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    throw ModelError("checkpoint: " + path + " is truncated or is not a Lumen checkpoint");
  }
  c10::IValue format, config;
  if (!archive.try_read("lumen_format", format) || !format.isString() || format.toStringRef() != kFormat)
    throw ModelError("checkpoint: " + path + " is not a Lumen checkpoint (no lumen_format record)");
  if (!archive.try_read("lumen_config", config) || !config.isString())
    throw ModelError("checkpoint: " + path + " has no model configuration");
  const Json saved = Json::parse(config.toStringRef(), nullptr, false);
  if (saved != model->config().to_json())
    throw ModelError("checkpoint: " + path + " holds a model of another configuration: " + saved.dump());
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    at::Tensor t;
    if (!archive.try_read(p.key(), t)) throw ModelError("checkpoint: " + path + " lacks parameter " + p.key());
    if (t.sizes() != p.value().sizes())
      throw ModelError("checkpoint: " + path + ": parameter " + p.key() + " has another shape");
    p.value().copy_(t);
  }
}

Run load_run(const std::string& path) {
  Run run;
  std::string weights;
  if (is_directory(path)) {
    run.dir = path;
    weights = join_path(path, "model.pt");
  } else {
    const size_t slash = path.find_last_of('/');
    run.dir = slash == std::string::npos ? "." : path.substr(0, slash);
    if (run.dir.size() > 12 && run.dir.substr(run.dir.size() - 12) == "/checkpoints") run.dir.resize(run.dir.size() - 12);
    weights = path;
  }
  const std::string config_path = join_path(run.dir, "config.json");
  if (!path_exists(config_path))
    throw IoError("run: " + path + " is not a run directory (no config.json); train one with `lumen train --out DIR`");
  run.config = read_json_file(config_path);
  try {
    run.model_config = ModelConfig::from_json(run.config.at("model"));
    run.tokenizer = data::TokenizerOptions::from_json(run.config.at("tokenizer"));
    run.label_names = run.config.at("label_names").get<std::vector<std::string>>();
    run.data_spec = run.config.value("data", "");
  } catch (const Json::exception& e) {
    throw ModelError("run: " + config_path + " is incomplete: " + e.what());
  }
  run.vocab = data::Vocab::load(join_path(run.dir, "vocab.txt"));
  if (run.vocab.size() != run.model_config.vocab_size)
    throw ModelError("run: vocab.txt has " + std::to_string(run.vocab.size()) + " tokens, the model expects " +
                     std::to_string(run.model_config.vocab_size));
  run.model = TextClassifier(run.model_config);
  load_weights(run.model, weights);
  run.model->eval();
  return run;
}

}  // namespace lumen::models

namespace lumen::models {

std::vector<CheckpointInfo> list_checkpoints(const Run& run) {
  std::vector<CheckpointInfo> out;
  const std::string dir = join_path(run.dir, "checkpoints");
  if (run.dir.empty() || !is_directory(dir)) return out;
  const double lr = run.config.contains("train") && run.config["train"].contains("lr") ? run.config["train"]["lr"].get<double>() : 0.0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    long long epoch = 0;
    char tail[8] = {0};
    if (std::sscanf(name.c_str(), "epoch-%lld.%3s", &epoch, tail) == 2 && std::string(tail) == "pt" && epoch > 0)
      out.push_back({epoch, entry.path().string(), lr});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.epoch < b.epoch; });
  return out;
}

}  // namespace lumen::models
