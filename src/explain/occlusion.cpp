// Occlusion of n-grams (Zeiler & Fergus 2014 for images; sliding windows over tokens): every
// window of `ngram` consecutive tokens is removed (deleted, <pad> or <unk>), and a token's score
// is the mean drop p(target | x) - p(target | x without the window) over the windows that cover
// it. With ngram = 1 it is leave-one-out. Pairs: windows over each text separately.
#include <algorithm>

#include "core/error.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {

BatchAttribution window_drops(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o,
                              int64_t ngram, std::vector<double>* full_probs) {
  if (ngram < 1) throw InvalidArgument("occlusion: ngram must be >= 1, got " + std::to_string(ngram));
  EvalGuard eval(model);
  BatchAttribution out;
  out.targets = resolve_targets(model, batch, o);
  const int64_t B = batch.size();
  const bool pair = batch.pair();
  const auto a = real_ids(batch.ids, batch.token_mask);
  const auto b = pair ? real_ids(batch.ids_b, batch.token_mask_b) : std::vector<std::vector<int64_t>>(B);
  auto windows = [&](int64_t n) { return std::max<int64_t>(1, n - ngram + 1); };
  std::vector<Variant> variants;
  auto add = [&](int64_t r, const std::vector<int64_t>& ids, bool second) {
    const int64_t n = static_cast<int64_t>(ids.size());
    for (int64_t w = 0; w < windows(n); ++w) {
      std::vector<char> rm(n, 0);
      for (int64_t t = w; t < std::min(n, w + ngram); ++t) rm[t] = 1;
      auto v = remove_tokens(ids, rm, o.removal);
      variants.push_back(second ? Variant{r, a[r], v} : Variant{r, v, b[r]});
    }
  };
  // The variant evaluator reuses a fused BiLSTM's unchanged prefix and suffix states (o.fast).
  for (int64_t r = 0; r < B; ++r) {
    variants.push_back({r, a[r], b[r]});
    add(r, a[r], false);
    if (pair) add(r, b[r], true);
  }
  const auto p = variant_probabilities(model, batch_texts(batch), variants, out.targets, o);
  std::vector<std::vector<double>> sa(B), sb(B);
  size_t k = 0;
  auto collect = [&](int64_t n, double full, std::vector<double>& s) {
    s.assign(n, 0.0);
    std::vector<int64_t> cover(n, 0);
    for (int64_t w = 0; w < windows(n); ++w) {
      const double drop = full - p[k++];
      for (int64_t t = w; t < std::min(n, w + ngram); ++t) {
        s[t] += drop;
        ++cover[t];
      }
    }
    for (int64_t t = 0; t < n; ++t) s[t] /= std::max<int64_t>(1, cover[t]);
  };
  for (int64_t r = 0; r < B; ++r) {
    const double full = p[k++];
    collect(static_cast<int64_t>(a[r].size()), full, sa[r]);
    if (pair) collect(static_cast<int64_t>(b[r].size()), full, sb[r]);
    if (full_probs) full_probs->push_back(full);
  }
  out.scores = scatter_rows(sa, batch.token_mask);
  if (pair) out.scores_b = scatter_rows(sb, batch.token_mask_b);
  return out;
}

namespace {

class Occlusion : public Explainer {
 public:
  std::string name() const override { return "occlusion"; }
  std::string description() const override {
    return "n-gram occlusion: mean drop of p(target) over the removed windows covering the token; signed";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    o.occlusion.validate();
    BatchAttribution out = window_drops(model, batch, o, o.occlusion.ngram, nullptr);
    for (int64_t r = 0; r < batch.size(); ++r)
      out.details.push_back({{"removal", to_string(o.removal)}, {"ngram", o.occlusion.ngram}});
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_occlusion_explainer() { return std::make_unique<Occlusion>(); }

}  // namespace lumen::explain
