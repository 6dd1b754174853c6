#include "analysis/jain_wallace.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <array>
#include <map>
#include <numeric>

#include "analysis/conicity.h"
#include "analysis/explanation_evaluation.h"
#include "analysis/gradient_importance.h"
#include "analysis/leave_one_out.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/batch_plan.h"
#include "models/effective_attention.h"
#include "models/eval_guard.h"
#include "data/encoded_set.h"

namespace lumen::analysis {

void AnalysisOptions::validate() const {
  if (limit < 0) throw InvalidArgument("analyze: --limit must be >= 0");
  if (permutations < 1) throw InvalidArgument("analyze: --permutations must be >= 1");
  if (batch_size < 1) throw InvalidArgument("analyze: batch size must be >= 1");
  if (!(alpha > 0 && alpha < 1)) throw InvalidArgument("analyze: alpha must be in (0, 1)");
  if (attention_layer < -1) throw InvalidArgument("analyze: attention layer must be >= -1, got " + std::to_string(attention_layer));
  if (effective_attention && attention_layer < 0)
    throw InvalidArgument("analyze: effective attention is a Transformer self-attention layer's; give --attention-layer K");
  if (attention_head < -1) throw InvalidArgument("analyze: attention head must be >= -1, got " + std::to_string(attention_head));
  adversarial_options.validate();
}

Json AnalysisOptions::to_json() const {
  const auto& a = adversarial_options;
  return {{"gradient", gradient},
          {"loo", loo},
          {"permutation", permutation},
          {"adversarial", adversarial},
          {"erasure", erasure},
          {"limit", limit},
          {"permutations", permutations},
          {"adversarial_options",
           {{"candidates", a.candidates},
            {"steps", a.steps},
            {"lr", a.lr},
            {"penalty", a.penalty},
            {"margin", a.margin},
            {"epsilon", a.epsilon},
            {"more_epsilons", a.more_epsilons},
            {"init_std", a.init_std}}},
          {"seed", seed},
          {"fast", fast},
          {"attention", attention_layer < 0 ? Json("pooling")
                                            : Json({{"layer", attention_layer},
                                                    {"head", attention_head},
                                                    {"kind", effective_attention ? "effective" : "raw"}})},
          {"alpha", alpha}};
}

Json PhaseSeconds::to_json() const {
  return {{"gradient", gradient},       {"loo", loo},
          {"permutation", permutation}, {"adversarial", adversarial},
          {"erasure", erasure},         {"statistics", statistics},
          {"total", total()}};
}

uint64_t instance_seed(uint64_t seed, int64_t index, uint64_t stream) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(index) * 0xBF58476D1CE4E5B9ULL + stream;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Json vec(const std::vector<double>& v) {
  Json j = Json::array();
  for (double x : v) j.push_back(std::isfinite(x) ? Json(x) : Json(nullptr));
  return j;
}

// The attention each real token receives in one layer (models::received_attention, as
// `lumen explain --methods attention --layer` reads it); with `effective`, of the layer's
// effective attention (enc must then hold the value maps).
std::vector<std::vector<double>> layer_attention(const models::Encoded& enc, const data::Batch& batch,
                                                 int64_t layer, int64_t head, bool effective = false) {
  if (layer >= static_cast<int64_t>(enc.self_attentions.size()))
    throw InvalidArgument("analyze: the model has " + std::to_string(enc.self_attentions.size()) +
                          " self-attention layers; layer " + std::to_string(layer) + " does not exist");
  const at::Tensor a = enc.self_attentions[layer];  // [B, H, T, T]
  if (head >= a.size(1))
    throw InvalidArgument("analyze: layer " + std::to_string(layer) + " has " + std::to_string(a.size(1)) +
                          " heads; head " + std::to_string(head) + " does not exist");
  const at::Tensor shown = effective ? models::effective_attention(a, enc.value_maps.at(layer), batch.mask) : a;
  return per_token(models::received_attention(shown, batch, head), batch.token_mask);
}

// tau-b, undefined (not an error) where a vector has an undefined entry (leave-one-out of a
// one-token text).
KendallResult tau_or_undefined(const std::vector<double>& x, const std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      KendallResult r;
      r.n = static_cast<int64_t>(x.size());
      return r;
    }
  return kendall_tau_b(x, y);
}

}  // namespace

AnalysisResult analyze(models::TextClassifier& model, const std::vector<data::Example>& examples,
                       const data::Vocab& vocab, bool pair, const AnalysisOptions& o) {
  o.validate();
  if (!model->has_pooling_attention())
    throw InvalidArgument("analyze: the model has no pooling attention (a Transformer trained with pooling=cls); "
                          "train it with --pooling attention");
  models::EvalGuard eval(model);
  const int64_t total = o.limit > 0 ? std::min<int64_t>(o.limit, static_cast<int64_t>(examples.size()))
                                    : static_cast<int64_t>(examples.size());
  const std::vector<data::Example> chosen(examples.begin(), examples.begin() + total);
  const data::EncodedSet set = data::EncodedSet::from(chosen, vocab, pair);
  AnalysisResult result;
  auto& recs = result.records;
  recs.resize(total);
  for (int64_t i = 0; i < total; ++i) {
    recs[i].index = i;
    recs[i].tokens = chosen[i].tokens;
    recs[i].rationale = chosen[i].rationale;
    recs[i].label = chosen[i].label;
  }
  // Length-sorted batches: little padding, similar work per batch. The later phases take spans
  // of the same order.
  const std::vector<int64_t> lengths = set.lengths();
  const std::vector<int64_t> order = data::length_order(lengths);
  auto spans = [&](int64_t rows) { return data::plan_batches(order, lengths, {/*max_rows=*/rows, /*max_tokens=*/0}); };
  const auto batches = spans(o.batch_size);

  std::vector<Decision> decisions(total);
  // Phase 1: one encoder pass per batch, with the gradient importance when asked.
  {
    auto t0 = Clock::now();
    Progress bar("attention+gradients", total, o.progress);
    for (const auto& rows : batches) {
      data::Batch batch = set.batch(rows);
      models::Encoded enc;
      if (o.gradient) {
        GradientPass g = gradient_importance(model, batch);
        for (size_t r = 0; r < rows.size(); ++r) recs[rows[r]].gradient = std::move(g.importance[r]);
        enc = std::move(g.encoded);
      } else {
        torch::NoGradGuard ng;
        enc = model->encode(model->embed(batch.ids), batch, {});
      }
      std::vector<Decision> ds = make_decisions(model, enc, batch);
      std::vector<std::vector<double>> shown;
      if (o.attention_layer >= 0 && o.effective_attention) {
        torch::NoGradGuard ng;
        models::ForwardOptions keep;
        keep.keep_value_maps = true;
        const models::Encoded full = model->encode(model->embed(batch.ids), batch, keep);
        shown = layer_attention(full, batch, o.attention_layer, o.attention_head, true);
      } else if (o.attention_layer >= 0) {
        shown = layer_attention(enc, batch, o.attention_layer, o.attention_head);
      }
      const at::Tensor states = enc.states.detach();
      for (size_t r = 0; r < rows.size(); ++r) {
        InstanceRecord& rec = recs[rows[r]];
        rec.conicity = conicity(states[r].index({batch.token_mask[r]}));
        rec.probs = ds[r].probs;
        rec.prediction = std::max_element(rec.probs.begin(), rec.probs.end()) - rec.probs.begin();
        rec.attention = o.attention_layer >= 0 ? shown[r] : ds[r].attention;
        decisions[rows[r]] = std::move(ds[r]);
      }
      bar.advance(static_cast<int64_t>(rows.size()));
    }
    bar.finish();
    result.seconds.gradient = since(t0);
  }
  if (o.loo) {
    auto t0 = Clock::now();
    Progress bar("leave-one-out", total, o.progress);
    LooOptions lo;
    lo.fast = o.fast;
    // Spans of several batches: leave-one-out splits each span's deletions over the cores.
    for (const auto& rows : spans(std::max<int64_t>(o.batch_size, 256))) {
      std::vector<std::vector<double>> original;
      for (int64_t r : rows) original.push_back(recs[r].probs);
      auto imp = leave_one_out(model, set, rows, original, lo);
      for (size_t r = 0; r < rows.size(); ++r) recs[rows[r]].loo = std::move(imp[r]);
      bar.advance(static_cast<int64_t>(rows.size()));
    }
    bar.finish();
    result.seconds.loo = since(t0);
  }
  if (o.permutation) {
    auto t0 = Clock::now();
    Progress bar("permutations", total, o.progress);
    torch::NoGradGuard ng;
    for (int64_t i = 0; i < total; ++i) {
      recs[i].permutation = permutation_test(model, decisions[i], o.permutations, instance_seed(o.seed, i, 1));
      if (i % 64 == 63) bar.advance(64);
    }
    bar.finish();
    result.seconds.permutation = since(t0);
  }
  if (o.adversarial) {
    auto t0 = Clock::now();
    Progress bar("adversarial", total, o.progress);
    AdversarialOptions ao = o.adversarial_options;
    ao.fast = o.fast;
    for (const auto& rows : spans(std::max<int64_t>(o.batch_size, 128))) {
      std::vector<Decision> ds;
      std::vector<uint64_t> seeds;
      for (int64_t i : rows) {
        ds.push_back(decisions[i]);
        seeds.push_back(instance_seed(o.seed, i, 2));
      }
      auto res = adversarial_attention(model, ds, seeds, ao);
      for (size_t k = 0; k < rows.size(); ++k) recs[rows[k]].adversarial = std::move(res[k]);
      bar.advance(static_cast<int64_t>(rows.size()));
    }
    bar.finish();
    result.seconds.adversarial = since(t0);
  }
  if (o.erasure) {
    auto t0 = Clock::now();
    Progress bar("erasure", total, o.progress);
    torch::NoGradGuard ng;
    for (int64_t i = 0; i < total; ++i) {
      recs[i].erasure = erasure_test(model, decisions[i], recs[i].loo, instance_seed(o.seed, i, 3), o.fast);
      if (i % 16 == 15) bar.advance(16);
    }
    bar.finish();
    result.seconds.erasure = since(t0);
  }
  {
    auto t0 = Clock::now();
    for (auto& r : recs) {
      if (o.gradient) r.tau_att_grad = tau_or_undefined(r.attention, r.gradient);
      if (o.loo) r.tau_att_loo = tau_or_undefined(r.attention, r.loo);
      if (o.gradient && o.loo) r.tau_grad_loo = tau_or_undefined(r.gradient, r.loo);
    }
    result.seconds.statistics = since(t0);
  }
  return result;
}

Json InstanceRecord::to_json(const std::vector<std::string>& names) const {
  auto name = [&](int64_t c) { return c >= 0 && c < static_cast<int64_t>(names.size()) ? Json(names[c]) : Json(nullptr); };
  Json j = {{"index", index},           {"tokens", tokens},        {"label", name(label)},
            {"prediction", name(prediction)}, {"probs", vec(probs)}, {"attention", vec(attention)},
            {"conicity", conicity}};
  if (!rationale.empty()) j["rationale"] = rationale;
  if (!gradient.empty()) j["gradient"] = vec(gradient);
  if (!loo.empty()) j["loo"] = vec(loo);
  Json taus = Json::object();
  if (tau_att_grad.n) taus["attention_gradient"] = tau_att_grad.to_json();
  if (tau_att_loo.n) taus["attention_loo"] = tau_att_loo.to_json();
  if (tau_grad_loo.n) taus["gradient_loo"] = tau_grad_loo.to_json();
  j["kendall"] = taus;
  if (permutation)
    j["permutation"] = {{"median_tvd", permutation->median_tvd},
                        {"mean_tvd", permutation->mean_tvd},
                        {"max_attention", permutation->max_attention},
                        {"tvds", vec(permutation->tvds)}};
  if (erasure) j["erasure"] = erasure->to_json();
  if (adversarial) {
    j["adversarial"] = {{"attention", vec(adversarial->attention)},
                        {"jsd", adversarial->jsd},
                        {"tvd", adversarial->tvd},
                        {"within_epsilon", adversarial->within_epsilon}};
    if (adversarial->by_epsilon.size() > 1) {
      Json b = Json::array();
      for (const auto& [e, js, tv] : adversarial->by_epsilon) b.push_back({{"epsilon", e}, {"jsd", js}, {"tvd", tv}});
      j["adversarial"]["by_epsilon"] = b;
    }
  }
  return j;
}

namespace {

struct Moments {
  std::vector<double> v;
  Json to_json() const {
    if (v.empty()) return {{"n", 0}, {"mean", nullptr}, {"std", nullptr}, {"median", nullptr}};
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return {{"n", v.size()}, {"mean", mean}, {"std", std::sqrt(ss / v.size())}, {"median", median(v)}};
  }
};

Json tau_summary(const std::vector<const InstanceRecord*>& rs, KendallResult InstanceRecord::*field, double alpha) {
  Moments m;
  int64_t significant = 0, undefined = 0, measured = 0;
  for (const auto* r : rs) {
    const KendallResult& k = r->*field;
    if (k.n == 0) continue;
    ++measured;
    if (!k.tau) {
      ++undefined;
      continue;
    }
    m.v.push_back(*k.tau);
    if (*k.p_value <= alpha) ++significant;
  }
  Json j = m.to_json();
  j["undefined"] = undefined;
  j["significant_fraction"] = m.v.empty() ? Json(nullptr) : Json(static_cast<double>(significant) / m.v.size());
  if (measured == 0) return nullptr;
  return j;
}

Json group_summary(const std::vector<const InstanceRecord*>& rs, const AnalysisOptions& o) {
  Json j = {{"instances", rs.size()}};
  Json taus = Json::object();
  if (o.gradient) taus["attention_gradient"] = tau_summary(rs, &InstanceRecord::tau_att_grad, o.alpha);
  if (o.loo) taus["attention_loo"] = tau_summary(rs, &InstanceRecord::tau_att_loo, o.alpha);
  if (o.gradient && o.loo) taus["gradient_loo"] = tau_summary(rs, &InstanceRecord::tau_grad_loo, o.alpha);
  j["kendall"] = taus;
  {
    Moments c;
    for (const auto* r : rs) c.v.push_back(r->conicity);
    j["conicity"] = c.to_json();
  }
  {
    // Plausibility against known rationales (synthetic tasks, a JSONL field): token F1 of the
    // top-|rationale| tokens and the average precision, for attention and the importances.
    std::map<std::string, std::array<Moments, 2>> pl;
    int64_t with = 0;
    for (const auto* r : rs) {
      if (r->rationale.empty()) continue;
      ++with;
      auto add = [&](const std::string& name, const std::vector<double>& scores) {
        if (scores.size() != r->tokens.size() || scores.empty()) return;
        std::vector<double> magnitude;
        for (double v : scores) magnitude.push_back(std::abs(v));
        pl[name][0].v.push_back(rationale_token_f1(scores, r->rationale));
        pl[name][1].v.push_back(average_precision(magnitude, r->rationale));
      };
      add("attention", r->attention);
      if (o.gradient) add("gradient", r->gradient);
      if (o.loo) add("loo", r->loo);
    }
    if (with > 0) {
      Json p = {{"instances", with}};
      for (const auto& [name, m] : pl) p[name] = {{"token_f1", m[0].to_json()}, {"auprc", m[1].to_json()}};
      j["plausibility"] = p;
    }
  }
  if (o.permutation) {
    Moments med;
    int64_t small = 0;
    for (const auto* r : rs)
      if (r->permutation) {
        med.v.push_back(r->permutation->median_tvd);
        small += r->permutation->median_tvd < 0.01;
      }
    j["permutation"] = {{"median_tvd", med.to_json()},
                        {"fraction_below_0.01", med.v.empty() ? Json(nullptr) : Json(double(small) / med.v.size())}};
  }
  if (o.adversarial) {
    Moments js;
    int64_t far = 0;
    for (const auto* r : rs)
      if (r->adversarial) {
        js.v.push_back(r->adversarial->jsd);
        far += r->adversarial->jsd > 0.4;
      }
    j["adversarial"] = {{"max_jsd", js.to_json()},
                        {"fraction_jsd_above_0.4", js.v.empty() ? Json(nullptr) : Json(double(far) / js.v.size())}};
    // The same candidates selected at every requested epsilon.
    const size_t ne = o.adversarial_options.more_epsilons.size() + 1;
    if (ne > 1) {
      Json b = Json::array();
      for (size_t e = 0; e < ne; ++e) {
        Moments m;
        int64_t far_e = 0;
        for (const auto* r : rs)
          if (r->adversarial && r->adversarial->by_epsilon.size() == ne) {
            m.v.push_back(r->adversarial->by_epsilon[e][1]);
            far_e += r->adversarial->by_epsilon[e][1] > 0.4;
          }
        b.push_back({{"epsilon", e == 0 ? o.adversarial_options.epsilon : o.adversarial_options.more_epsilons[e - 1]},
                     {"max_jsd", m.to_json()},
                     {"fraction_jsd_above_0.4", m.v.empty() ? Json(nullptr) : Json(double(far_e) / m.v.size())}});
      }
      j["adversarial"]["by_epsilon"] = b;
    }
  }
  if (o.erasure) {
    // Single weight: JS(p, p without i*) - JS(p, p without r), and which erasure flips.
    Moments delta;
    int64_t positive = 0, top_only = 0, random_only = 0, both = 0, neither = 0;
    std::map<std::string, std::array<Moments, 2>> removed;  // ranking -> fraction, mass (flipped only)
    std::map<std::string, int64_t> flipped;
    std::vector<std::string> rankings;
    for (const auto* r : rs) {
      if (!r->erasure) continue;
      const ErasureResult& e = *r->erasure;
      if (e.random >= 0) {
        delta.v.push_back(e.delta_jsd());
        positive += e.delta_jsd() > 0;
        if (e.flip_top && e.flip_random) ++both;
        else if (e.flip_top) ++top_only;
        else if (e.flip_random) ++random_only;
        else ++neither;
      }
      for (const auto& ord : e.orders) {
        if (!flipped.count(ord.ranking)) {
          rankings.push_back(ord.ranking);
          flipped[ord.ranking] = 0;
        }
        if (!ord.removed) continue;
        ++flipped[ord.ranking];
        removed[ord.ranking][0].v.push_back(ord.fraction);
        removed[ord.ranking][1].v.push_back(ord.mass);
      }
    }
    Json orders = Json::object();
    const double measured = static_cast<double>(std::count_if(rs.begin(), rs.end(), [](const InstanceRecord* r) { return r->erasure.has_value(); }));
    for (const auto& name : rankings)
      orders[name] = {{"flip_rate", measured > 0 ? Json(flipped[name] / measured) : Json(nullptr)},
                      {"fraction_removed", removed[name][0].to_json()},
                      {"mass_removed", removed[name][1].to_json()}};
    j["erasure"] = {{"delta_jsd", delta.to_json()},
                    {"fraction_delta_jsd_positive", delta.v.empty() ? Json(nullptr) : Json(double(positive) / delta.v.size())},
                    {"single_flips", {{"top_only", top_only}, {"random_only", random_only}, {"both", both}, {"neither", neither}}},
                    {"orders", orders}};
  }
  return j;
}

}  // namespace

Json summarize(const std::vector<InstanceRecord>& records, const std::vector<std::string>& label_names,
               const AnalysisOptions& o) {
  std::vector<const InstanceRecord*> all;
  std::map<int64_t, std::vector<const InstanceRecord*>> by_class;
  for (const auto& r : records) {
    all.push_back(&r);
    by_class[r.prediction].push_back(&r);
  }
  Json classes = Json::object();
  for (const auto& [c, rs] : by_class)
    classes[c < static_cast<int64_t>(label_names.size()) ? label_names[c] : std::to_string(c)] = group_summary(rs, o);
  int64_t correct = 0, labelled = 0;
  for (const auto& r : records)
    if (r.label >= 0) {
      ++labelled;
      correct += r.label == r.prediction;
    }
  return {{"overall", group_summary(all, o)},
          {"by_predicted_class", classes},
          {"accuracy", labelled ? Json(double(correct) / labelled) : Json(nullptr)},
          {"options", o.to_json()}};
}

}  // namespace lumen::analysis
