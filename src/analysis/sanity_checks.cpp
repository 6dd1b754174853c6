// Sanity checks of attributions (Adebayo et al. 2018): the model's parameter groups re-drawn at
// random, cascading from the output down (decoder, attention, encoder, embedding) and each group
// alone, and a model trained on permuted labels; Spearman rank correlation of each method's
// scores (signed and absolute) with the original model's. Decorrelation = 1 - mean Spearman of
// |scores| with everything randomised (0: the explanation ignores the model).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "analysis/explanation_metrics.h"
#include "train/trainer.h"

namespace lumen::analysis {
namespace {

using Group = models::TextClassifierImpl::ParameterGroup;

// Restores every parameter of a model when it goes out of scope.
class ParameterSnapshot {
 public:
  explicit ParameterSnapshot(models::TextClassifier& model) : model_(model) {
    for (const auto& p : model->parameters()) saved_.push_back(p.detach().clone());
  }
  ~ParameterSnapshot() {
    torch::NoGradGuard no_grad;
    auto params = model_->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved_[i]);
  }
  ParameterSnapshot(const ParameterSnapshot&) = delete;
  ParameterSnapshot& operator=(const ParameterSnapshot&) = delete;

 private:
  models::TextClassifier model_;
  std::vector<at::Tensor> saved_;
};

// The model's parameter groups from the output down, without the empty ones.
std::vector<std::pair<std::string, std::vector<at::Tensor>>> parameter_groups(models::TextClassifier& model) {
  std::vector<std::pair<std::string, std::vector<at::Tensor>>> groups;
  for (const auto& [name, g] : {std::pair{"decoder", Group::kDecoder}, std::pair{"attention", Group::kAttention},
                                std::pair{"encoder", Group::kEncoder}, std::pair{"embedding", Group::kEmbedding}}) {
    auto params = model->parameters_of(g);
    if (!params.empty()) groups.emplace_back(name, std::move(params));
  }
  return groups;
}

// Re-draws `params` from N(0, sd^2) with sd the parameter's own standard deviation (0.1 where
// it is 0), from a generator of its own (LibTorch's global stream is untouched).
void randomise(const std::vector<at::Tensor>& params, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (at::Tensor p : params) {
    double sd = p.numel() > 1 ? p.to(torch::kDouble).std().item<double>() : 0.0;
    if (!(sd > 0)) sd = 0.1;
    p.copy_(at::normal(0.0, sd, p.sizes(), gen, p.options()));
  }
}

}  // namespace

SanityResult sanity_checks(models::TextClassifier& model, const std::vector<data::Example>& examples,
                           const data::Vocab& vocab, const std::vector<NamedExplainer>& methods, const Attributions& A,
                           const std::vector<int64_t>& targets, const EvaluationOptions& o) {
  const size_t M = methods.size(), N = examples.size();
  SanityResult r;
  r.decorrelation.assign(M, std::nan(""));
  explain::ExplainOptions eo = o.explain;
  eo.targets = targets;
  // Per method: mean Spearman of the signed and of the absolute scores against the original.
  auto compare = [&](const Attributions& R) {
    Json j = Json::object();
    std::vector<double> abs_means(M);
    for (size_t m = 0; m < M; ++m) {
      std::vector<double> sgn, ab;
      for (size_t i = 0; i < N; ++i) {
        sgn.push_back(spearman(A[m][i], R[m][i]));
        std::vector<double> x, y;
        for (double v : A[m][i]) x.push_back(std::abs(v));
        for (double v : R[m][i]) y.push_back(std::abs(v));
        ab.push_back(spearman(x, y));
      }
      abs_means[m] = finite_mean(ab);
      j[methods[m].name] = {{"spearman", number_or_null(finite_mean(sgn))},
                            {"spearman_abs", number_or_null(abs_means[m])}};
    }
    return std::make_pair(j, abs_means);
  };
  auto attribute_again = [&](models::TextClassifier& m) {
    return attribute(m, examples, vocab, methods, eo, o.batch_size);
  };
  const auto groups = parameter_groups(model);
  Json cascading = Json::array(), independent = Json::array();
  std::vector<at::Tensor> through;
  for (size_t g = 0; g < groups.size(); ++g) {
    ParameterSnapshot restore(model);
    through.insert(through.end(), groups[g].second.begin(), groups[g].second.end());
    randomise(through, o.seed + 101 + g);
    auto [j, abs_means] = compare(attribute_again(model));
    if (g + 1 == groups.size())
      for (size_t m = 0; m < M; ++m) r.decorrelation[m] = 1.0 - abs_means[m];
    cascading.push_back({{"randomised_through", groups[g].first}, {"methods", j}});
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    ParameterSnapshot restore(model);
    randomise(groups[g].second, o.seed + 201 + g);
    independent.push_back({{"randomised", groups[g].first}, {"methods", compare(attribute_again(model)).first}});
  }
  r.sanity = {{"cascading", cascading}, {"independent", independent}};
  if (o.permuted_train) {
    torch::manual_seed(o.seed + 301);
    models::TextClassifier shuffled(model->config());
    if (model->parameters()[0].scalar_type() != torch::kFloat) shuffled->to(model->parameters()[0].scalar_type());
    train::TrainOptions to;
    to.epochs = o.permuted_epochs;
    to.progress = false;
    to.seed = o.seed + 301;
    train::fit(shuffled, *o.permuted_train, *o.permuted_dev, to);
    shuffled->eval();
    r.sanity["label_permuted"] = {{"epochs", o.permuted_epochs},
                                  {"methods", compare(attribute_again(shuffled)).first}};
  }
  Json d = Json::object();
  for (size_t m = 0; m < M; ++m) d[methods[m].name] = number_or_null(r.decorrelation[m]);
  r.sanity["decorrelation"] = d;
  return r;
}

}  // namespace lumen::analysis
