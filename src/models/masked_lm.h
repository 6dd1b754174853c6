// Lumen's editor: a small Transformer masked language model over a run's vocabulary, optionally
// conditioned on a label (a label token before <s>, as MiCE's editor sees the target label). It
// fills masked positions for the counterfactual generators and scores fluency
// (pseudo-log-likelihood). Token rows: the run's vocabulary, then <mask>, <no-label>, one per label.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>

#include "core/json.h"
#include "data/vocab.h"
#include "models/encoders.h"

namespace lumen::models {

struct MaskedLmConfig {
  int64_t vocab_size = 0;  // the run's vocabulary
  int64_t labels = 0;      // label tokens (0 = not label-conditioned)
  int64_t embed_dim = 128;
  int64_t model_dim = 128;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t ff_dim = 256;
  // Longest sequence trained on (tokens + <s> </s>); longer texts are edited in their first
  // max_length - 2 tokens.
  int64_t max_length = 256;
  int64_t mask_id() const { return vocab_size; }
  int64_t no_label_id() const { return vocab_size + 1; }
  int64_t label_id(int64_t k) const { return vocab_size + 2 + k; }
  void validate() const;
  Json to_json() const;
  static MaskedLmConfig from_json(const Json& j);
};

class MaskedLmImpl : public torch::nn::Module {
 public:
  explicit MaskedLmImpl(MaskedLmConfig config);
  // ids [B, T] (<s> tokens </s> <pad>..., masked positions = mask_id), lengths [B], labels [B]
  // (-1 = none) -> hidden states [B, T, model_dim] of the positions of ids.
  at::Tensor hidden(const at::Tensor& ids, const at::Tensor& lengths, const at::Tensor& labels);
  // Token logits [N, V] (the run's vocabulary) of hidden rows [N, model_dim].
  at::Tensor logits(const at::Tensor& hidden_rows);
  const MaskedLmConfig& config() const { return config_; }

 private:
  MaskedLmConfig config_;
  torch::nn::Embedding embedding_{nullptr};
  std::shared_ptr<TransformerEncoderImpl> encoder_;
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(MaskedLm);

// An editor on disk: DIR/config.json (the MaskedLmConfig, the label names, the training
// report), DIR/vocab.txt (the run's vocabulary), DIR/editor.pt.
struct Editor {
  std::string dir;
  MaskedLm model{nullptr};
  data::Vocab vocab;
  std::vector<std::string> label_names;
};
void save_editor(const Editor& e, const std::string& dir, const Json& report);
// Loads DIR; when `expected` is given, throws ModelError unless the editor's vocabulary is the
// same (an editor trained for another run), naming both sizes and the first differing token.
Editor load_editor(const std::string& dir, const data::Vocab* expected = nullptr);

}  // namespace lumen::models
