#include "models/masked_lm.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"

namespace lumen::models {

void MaskedLmConfig::validate() const {
  if (vocab_size < 5) throw InvalidArgument("editor: vocab_size must be at least 5");
  if (labels < 0) throw InvalidArgument("editor: labels must be >= 0");
  if (embed_dim < 1 || model_dim < 1 || layers < 1 || heads < 1 || ff_dim < 1)
    throw InvalidArgument("editor: sizes must be positive");
  if (model_dim % heads != 0) throw InvalidArgument("editor: model_dim must be a multiple of heads");
  if (max_length < 3) throw InvalidArgument("editor: max_length must be at least 3");
}

Json MaskedLmConfig::to_json() const {
  return {{"vocab_size", vocab_size}, {"labels", labels}, {"embed_dim", embed_dim}, {"model_dim", model_dim},
          {"layers", layers},         {"heads", heads},   {"ff_dim", ff_dim},       {"max_length", max_length}};
}

MaskedLmConfig MaskedLmConfig::from_json(const Json& j) {
  MaskedLmConfig c;
  c.vocab_size = j.at("vocab_size").get<int64_t>();
  c.labels = j.at("labels").get<int64_t>();
  c.embed_dim = j.at("embed_dim").get<int64_t>();
  c.model_dim = j.at("model_dim").get<int64_t>();
  c.layers = j.at("layers").get<int64_t>();
  c.heads = j.at("heads").get<int64_t>();
  c.ff_dim = j.at("ff_dim").get<int64_t>();
  c.max_length = j.at("max_length").get<int64_t>();
  c.validate();
  return c;
}

MaskedLmImpl::MaskedLmImpl(MaskedLmConfig config) : config_(std::move(config)) {
  config_.validate();
  embedding_ = register_module("embedding", torch::nn::Embedding(config_.vocab_size + 2 + config_.labels, config_.embed_dim));
  encoder_ = register_module("encoder", std::make_shared<TransformerEncoderImpl>(config_.embed_dim, config_.model_dim,
                                                                                config_.layers, config_.heads, config_.ff_dim));
  out_ = register_module("out", torch::nn::Linear(config_.model_dim, config_.vocab_size));
}

at::Tensor MaskedLmImpl::hidden(const at::Tensor& ids, const at::Tensor& lengths, const at::Tensor& labels) {
  const int64_t B = ids.size(0), T = ids.size(1);
  // The label token goes first; positions shift by one.
  at::Tensor lab = torch::full({B}, config_.no_label_id(), torch::kInt64);
  if (labels.defined() && config_.labels > 0) {
    const at::Tensor l = labels.to(torch::kInt64);
    lab = torch::where(l >= 0, l + config_.vocab_size + 2, lab);
  }
  const at::Tensor full = torch::cat({lab.unsqueeze(1), ids}, 1);
  const at::Tensor len = lengths.to(torch::kInt64) + 1;
  const at::Tensor mask = torch::arange(T + 1, torch::kInt64).unsqueeze(0) < len.unsqueeze(1);
  const EncoderOutput o = encoder_->encode(embedding_->forward(full), mask, len, {});
  return o.states.narrow(1, 1, T);
}

at::Tensor MaskedLmImpl::logits(const at::Tensor& rows) { return out_->forward(rows); }

void save_editor(const Editor& e, const std::string& dir, const Json& report) {
  make_dirs(dir);
  write_json_file(join_path(dir, "config.json"), {{"lumen", "editor-v1"},
                                                  {"model", e.model->config().to_json()},
                                                  {"label_names", e.label_names},
                                                  {"report", report}});
  e.vocab.save(join_path(dir, "vocab.txt"));
  torch::serialize::OutputArchive ar;
  e.model->save(ar);
  const std::string tmp = join_path(dir, "editor.pt.partial");
  ar.save_to(tmp);
  std::filesystem::rename(tmp, join_path(dir, "editor.pt"));
}

Editor load_editor(const std::string& dir, const data::Vocab* expected) {
  Editor e;
  e.dir = dir;
  const std::string cfg = join_path(dir, "config.json");
  if (!path_exists(cfg)) throw IoError("editor: no editor at " + dir + " (train one with `lumen train-editor`)");
  const Json j = read_json_file(cfg);
  if (j.value("lumen", std::string()) != "editor-v1") throw ModelError("editor: " + cfg + " is not a Lumen editor");
  const MaskedLmConfig c = MaskedLmConfig::from_json(j.at("model"));
  e.label_names = j.at("label_names").get<std::vector<std::string>>();
  e.vocab = data::Vocab::load(join_path(dir, "vocab.txt"));
  if (e.vocab.size() != c.vocab_size) throw ModelError("editor: vocab.txt and config.json of " + dir + " disagree");
  if (expected) {
    const auto& a = e.vocab.tokens();
    const auto& b = expected->tokens();
    if (a != b) {
      size_t k = 0;
      while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
      throw ModelError("editor: " + dir + " was trained on another vocabulary (" + std::to_string(a.size()) + " words, the run has " +
                       std::to_string(b.size()) + "; first difference at id " + std::to_string(k) +
                       "); train an editor for this run with `lumen train-editor --run RUN`");
    }
  }
  e.model = MaskedLm(c);
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(join_path(dir, "editor.pt"));
    e.model->load(ar);
  } catch (const c10::Error& err) {
    throw ModelError("editor: cannot read " + join_path(dir, "editor.pt") + ": " + err.what_without_backtrace());
  }
  e.model->eval();
  return e;
}

}  // namespace lumen::models
