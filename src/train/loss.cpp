#include "train/loss.h"

#include <torch/torch.h>

#include <limits>

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

at::Tensor TrainingLoss::conicity_penalty(const at::Tensor& states, const at::Tensor& token_mask) {
  const at::Tensor m = token_mask.to(states.scalar_type()).unsqueeze(2);  // [B, T, 1]
  const at::Tensor n = m.sum(1).clamp_min(1);                             // [B, 1]
  const at::Tensor h = states * m;
  const at::Tensor mean = h.sum(1) / n;                                   // [B, m]
  const double eps = 1e-6;
  const at::Tensor dots = (h * mean.unsqueeze(1)).sum(2);                 // [B, T]
  const at::Tensor norms = h.norm(2, 2).clamp_min(eps) * mean.norm(2, 1, true).clamp_min(eps);
  return ((dots / norms).abs() * m.squeeze(2)).sum(1) / n.squeeze(1);
}

at::Tensor TrainingLoss::rationale_penalty(const at::Tensor& attention, const at::Tensor& rationale) {
  if (!rationale.defined()) return torch::zeros({attention.size(0)}, attention.options());
  if (rationale.sizes() != attention.sizes())
    throw InvalidArgument("loss: the rationale mask must be [B, T] like the attention");
  const at::Tensor r = rationale.to(attention.scalar_type());
  const at::Tensor count = r.sum(1);
  const at::Tensor logs = torch::log(attention.clamp_min(1e-12));
  return -(r * logs).sum(1) / count.clamp_min(1);
}

at::Tensor TrainingLoss::counterfactual_attention(const at::Tensor& attention, const at::Tensor& token_mask, Counterfactual kind,
                                                  const at::Tensor& keys) {
  if (attention.dim() != 2 || token_mask.sizes() != attention.sizes())
    throw InvalidArgument("loss: counterfactual attention needs attention and token mask [B, T]");
  torch::NoGradGuard no_grad;
  const at::Tensor m = token_mask.to(attention.scalar_type());
  const at::Tensor a = attention.detach() * m;
  const at::Tensor n = m.sum(1, true);
  switch (kind) {
    case Counterfactual::kUniform:
      return m / n.clamp_min(1);
    case Counterfactual::kZeroMax: {
      const at::Tensor top = (a + (m - 1) * 2).argmax(1, true);  // the largest weight among the real tokens
      const at::Tensor rest = a.scatter(1, top, 0), others = m.scatter(1, top, 0);
      const at::Tensor mass = rest.sum(1, true);
      return torch::where(mass > 0, rest / mass.clamp_min(std::numeric_limits<double>::min()),
                          others / others.sum(1, true).clamp_min(1));
    }
    case Counterfactual::kPermute: {
      const at::Tensor k = keys.defined() ? keys.to(torch::kDouble) : torch::rand(attention.sizes(), torch::kDouble);
      if (k.sizes() != attention.sizes()) throw InvalidArgument("loss: permutation keys must be [B, T] like the attention");
      at::Tensor out = torch::zeros_like(a);
      for (int64_t b = 0; b < a.size(0); ++b) {
        const at::Tensor pos = token_mask[b].nonzero().squeeze(1);
        if (pos.numel() == 0) continue;
        const at::Tensor order = k[b].index_select(0, pos).argsort();
        out[b].index_put_({pos}, a[b].index_select(0, pos.index_select(0, order)));
      }
      return out;
    }
  }
  throw InvalidArgument("loss: unknown counterfactual");
}

at::Tensor TrainingLoss::faithfulness_reward(const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& decoder,
                                             const models::ModelOutput& out, const at::Tensor& token_mask, double cap,
                                             const std::array<double, 3>& lambdas, const at::Tensor& keys) {
  if (!decoder) throw InvalidArgument("loss: the faithfulness reward needs the model's decoder");
  if (!out.pooling_attention.defined() || !out.states.defined())
    throw InvalidArgument("loss: the faithfulness reward needs a pooling attention (pooling=attention) and the states");
  if (!(cap > 0)) throw InvalidArgument("loss: the faithfulness cap must be > 0");
  const at::Tensor decision = out.logits.detach().argmax(1);
  const at::Tensor enough = token_mask.sum(1).ge(2).to(out.logits.scalar_type());
  at::Tensor reward = torch::zeros({out.logits.size(0)}, out.logits.options());
  const Counterfactual kinds[3] = {Counterfactual::kZeroMax, Counterfactual::kPermute, Counterfactual::kUniform};
  for (int k = 0; k < 3; ++k) {
    if (lambdas[k] == 0) continue;
    const at::Tensor alpha = counterfactual_attention(out.pooling_attention, token_mask, kinds[k], keys).to(out.states.scalar_type());
    const at::Tensor context = (alpha.unsqueeze(2) * out.states).sum(1);
    const at::Tensor logp = torch::log_softmax(decoder(context, out.query), 1);
    const at::Tensor nll = -logp.gather(1, decision.unsqueeze(1)).squeeze(1);
    reward = reward + lambdas[k] * nll.clamp(0, cap);
  }
  return reward * enough;
}

at::Tensor TrainingLoss::auxiliary(const models::ModelOutput& out, const data::Batch& batch) const {
  at::Tensor aux = torch::zeros({out.logits.size(0)}, out.logits.options());
  if (diversity_weight > 0) {
    if (!out.states.defined()) throw InvalidArgument("loss: the diversity penalty needs the encoder states");
    aux = aux + diversity_weight * conicity_penalty(out.states, batch.token_mask);
  }
  if (rationale_weight > 0) {
    if (!out.pooling_attention.defined())
      throw InvalidArgument("loss: rationale supervision needs a pooling attention (pooling=attention)");
    aux = aux + rationale_weight * rationale_penalty(out.pooling_attention, batch.rationale);
  }
  if (faithfulness_weight > 0)
    aux = aux - faithfulness_weight * faithfulness_reward(decoder, out, batch.token_mask, faithfulness_cap);
  return aux;
}

at::Tensor TrainingLoss::batch_objective(const models::ModelOutput& out, const data::Batch& batch) const {
  at::Tensor per = per_example(out.logits, batch.labels);
  if (has_auxiliary()) per = per + auxiliary(out, batch);
  return per.mean();
}

at::Tensor adversarial_loss(const models::ModelOutput& out, const models::ModelOutput& base, const data::Batch& batch,
                            double lambda) {
  if (!out.pooling_attention.defined() || !base.pooling_attention.defined())
    throw InvalidArgument("loss: the adversarial objective needs the pooling attention of both models");
  const at::Tensor p = torch::softmax(out.logits, 1), q = torch::softmax(base.logits, 1).to(p.scalar_type());
  const at::Tensor tvd = 0.5 * (p - q).abs().sum(1);
  const at::Tensor a = out.pooling_attention, b = base.pooling_attention.to(a.scalar_type());
  const at::Tensor tokens = batch.token_mask.to(a.scalar_type());
  const at::Tensor kl = (tokens * a * (torch::log(a.clamp_min(1e-10)) - torch::log(b.clamp_min(1e-10)))).sum(1);
  return tvd - lambda * kl;
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
  Json j = {{"class_weights", w}, {"weight_decay", weight_decay}};
  if (diversity_weight > 0) j["diversity_weight"] = diversity_weight;
  if (rationale_weight > 0) j["rationale_weight"] = rationale_weight;
  if (faithfulness_weight > 0) j["faithfulness_weight"] = faithfulness_weight;
  return j;
}

}  // namespace lumen::train
