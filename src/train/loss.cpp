#include "train/loss.h"

#include <torch/torch.h>

#include "core/error.h"

namespace lumen::train {

TrainingLoss TrainingLoss::make(const data::EncodedSet& train, int64_t C, bool pair, const std::string& mode,
                                double weight_decay) {
  if (mode != "auto" && mode != "none" && mode != "balanced")
    throw InvalidArgument("loss: class_weight must be auto, none or balanced, got '" + mode + "'");
  std::vector<double> count(C, 0);
  for (int64_t y : train.labels) {
    if (y < 0 || y >= C) throw InvalidArgument("loss: label " + std::to_string(y) + " outside 0.." + std::to_string(C - 1));
    count[y] += 1;
  }
  std::vector<float> w(C, 1.0f);
  // auto: the paper's positive weight #neg/#pos for binary single texts, none otherwise.
  if (mode == "auto" && C == 2 && !pair && count[1] > 0) w[1] = static_cast<float>(count[0] / count[1]);
  if (mode == "balanced")
    for (int64_t c = 0; c < C; ++c) w[c] = count[c] > 0 ? static_cast<float>(train.size() / (C * count[c])) : 0.0f;
  TrainingLoss loss;
  loss.class_weights = torch::tensor(w);
  loss.weight_decay = weight_decay;
  return loss;
}

at::Tensor TrainingLoss::per_example(const at::Tensor& logits, const at::Tensor& labels) const {
  // With logits [0, z] and weights [1, #neg/#pos] this is BCE with pos_weight, as in the paper.
  const at::Tensor nll = torch::nll_loss(torch::log_softmax(logits, 1), labels, {}, at::Reduction::None);
  return nll * class_weights.to(logits.scalar_type()).index_select(0, labels);
}

at::Tensor TrainingLoss::mean(const at::Tensor& logits, const at::Tensor& labels) const {
  return per_example(logits, labels).mean();
}

bool TrainingLoss::decayed(models::TextClassifier& model, const at::Tensor& p) {
  for (const auto& a : model->attention_parameters())
    if (a.is_same(p)) return false;
  return true;
}

at::Tensor TrainingLoss::regulariser(models::TextClassifier& model, const std::vector<at::Tensor>& params) const {
  at::Tensor r = torch::zeros({}, torch::kDouble);
  if (weight_decay == 0) return r;
  for (const auto& p : params)
    if (decayed(model, p)) r = r + 0.5 * weight_decay * (p.to(torch::kDouble) * p.to(torch::kDouble)).sum();
  return r;
}

Json TrainingLoss::to_json() const {
  Json w = Json::array();
  for (int64_t c = 0; c < class_weights.numel(); ++c) w.push_back(class_weights[c].item<double>());
  return {{"class_weights", w}, {"weight_decay", weight_decay}};
}

}  // namespace lumen::train
