#include "app/predict.h"

#include <torch/torch.h>

#include "app/inputs.h"
#include "core/error.h"
#include "data/batch.h"
#include "data/batch_plan.h"
#include "models/eval_guard.h"

namespace lumen::app {

Json Prediction::to_json(const std::vector<std::string>& label_names) const {
  Json p = Json::object();
  for (size_t c = 0; c < label_names.size() && c < probabilities.size(); ++c) p[label_names[c]] = probabilities[c];
  return {{"text", text}, {"label", label}, {"probabilities", p}};
}

Json PredictionResult::to_json() const {
  Json out = Json::array();
  for (const auto& p : predictions) out.push_back(p.to_json(label_names));
  return out;
}

PredictionResult predict(const models::Run& run, const std::vector<std::string>& texts, int64_t batch_rows,
                         const models::AttentionEdit& edit) {
  if (texts.empty()) throw InvalidArgument("predict: no texts given");
  if (batch_rows < 1) throw InvalidArgument("predict: batch_rows must be >= 1");
  const std::vector<data::Example> examples = examples_from_texts(run, texts, "predict");
  std::vector<int64_t> lengths;
  for (const auto& e : examples) lengths.push_back(static_cast<int64_t>(std::max(e.tokens.size(), e.tokens_b.size())));
  PredictionResult result;
  result.label_names = run.label_names;
  result.predictions.resize(texts.size());
  models::TextClassifier model = run.model;
  models::EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  models::ForwardOptions options;
  options.edit = edit;
  for (const auto& rows : data::length_sorted_batches(lengths, {/*max_rows=*/batch_rows, /*max_tokens=*/0})) {
    std::vector<const data::Example*> part;
    for (int64_t r : rows) part.push_back(&examples[r]);
    const data::Batch batch = data::make_batch(part, run.vocab, run.model_config.pair);
    const at::Tensor probs = torch::softmax(model->forward_training(batch, options).logits, 1).to(torch::kDouble).contiguous();
    for (size_t k = 0; k < rows.size(); ++k) {
      Prediction& p = result.predictions[rows[k]];
      p.text = texts[rows[k]];
      const double* row = probs[static_cast<int64_t>(k)].data_ptr<double>();
      p.probabilities.assign(row, row + probs.size(1));
      const int64_t best = probs[static_cast<int64_t>(k)].argmax().item<int64_t>();
      p.label_index = best;
      p.label = best < static_cast<int64_t>(run.label_names.size()) ? run.label_names[best] : std::to_string(best);
    }
  }
  return result;
}

}  // namespace lumen::app
