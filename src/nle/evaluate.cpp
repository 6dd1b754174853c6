#include "nle/evaluate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "perturb/stop_words.h"

namespace lumen::nle {
namespace {

bool content_word(const std::string& w) { return perturb::has_letter(w) && !perturb::english_stop_words().count(w); }

bool contains(const std::vector<std::string>& v, const std::string& w) { return std::find(v.begin(), v.end(), w) != v.end(); }

int64_t argmax(const std::vector<float>& p) { return std::max_element(p.begin(), p.end()) - p.begin(); }

ErasureResult erasure(const std::vector<std::string>& cited, const NleOutput& before, const NleOutput& after) {
  ErasureResult r;
  r.cited = cited;
  r.drop = before.probs[before.label] - after.probs[before.label];
  r.flipped = after.label != before.label;
  return r;
}

ArrangementEvaluation::Erasure summarise(const std::vector<NleRecord>& records, ErasureResult NleRecord::*field) {
  ArrangementEvaluation::Erasure s;
  for (const auto& r : records) {
    const auto& e = r.*field;
    if (e.cited.empty()) continue;
    ++s.n;
    s.mean_drop += e.drop;
    s.flip_rate += e.flipped;
  }
  if (s.n) {
    s.mean_drop /= s.n;
    s.flip_rate /= s.n;
  }
  return s;
}

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt(const std::optional<bool>& v) { return v ? Json(*v) : Json(nullptr); }

// Simulator inputs: x <sep> <sep> e, x <sep> <sep>, <sep> <sep> e.
std::vector<int64_t> sim_ids(const TokenSpace& sp, const NleInput* x, const std::vector<std::string>* e, int64_t max_in, int64_t max_e) {
  std::vector<int64_t> ids;
  if (x) ids = sp.encode_input(*x, max_in);
  ids.push_back(sp.sep());
  ids.push_back(sp.sep());
  if (e) {
    auto ei = sp.vocab.encode(*e);
    if (static_cast<int64_t>(ei.size()) > max_e) ei.resize(max_e);
    ids.insert(ids.end(), ei.begin(), ei.end());
  }
  return ids;
}

}  // namespace

void NleEvalOptions::validate() const {
  if (limit < 0) throw InvalidArgument("nle evaluation: limit must be >= 0");
  if (insertion_candidates < 0) throw InvalidArgument("nle evaluation: insertion candidates must be >= 0");
  if (bootstrap < 0) throw InvalidArgument("nle evaluation: bootstrap must be >= 0");
}

Json NleEvalOptions::to_json() const {
  return {{"limit", limit}, {"insertion_candidates", insertion_candidates}, {"las", las}, {"bootstrap", bootstrap}, {"seed", seed}};
}

Json ErasureResult::to_json() const { return {{"cited", cited}, {"drop", drop}, {"flipped", flipped}}; }

Json NleRecord::to_json(const std::vector<std::string>& labels) const {
  auto name = [&](int64_t k) { return k >= 0 && k < static_cast<int64_t>(labels.size()) ? Json(labels[k]) : Json(nullptr); };
  Json j = {{"index", index},
            {"gold", name(gold)},
            {"predicted", name(predicted)},
            {"explanation", explanation},
            {"gold_explanation", gold_explanation},
            {"rationale_named", opt(rationale_named)},
            {"token_f1", token_f1},
            {"erasure", erasure.to_json()},
            {"shuffled_erasure", shuffled.to_json()},
            {"random_erasure", random.to_json()},
            {"insertion", {{"tried", insertions}, {"flips", insertion_flips}, {"unmentioned", insertion_unmentioned}}},
            {"simulator", {{"input_and_explanation", opt(sim_xe)}, {"input_only", opt(sim_x)}, {"explanation_only", opt(sim_e)}}}};
  return j;
}

Json ArrangementEvaluation::Erasure::to_json() const { return {{"n", n}, {"mean_drop", mean_drop}, {"flip_rate", flip_rate}}; }

Json ArrangementEvaluation::summary_json() const {
  return {{"arrangement", to_string(arrangement)},
          {"n", n},
          {"accuracy", accuracy},
          {"rationale_named", opt(rationale_named)},
          {"exact_match", exact_match},
          {"token_f1", token_f1},
          {"erasure", {{"faithful", faithful.to_json()}, {"shuffled", shuffled.to_json()}, {"random", random.to_json()},
                       {"separation", separation}, {"separation_ci95", {separation_low, separation_high}}}},
          {"insertion", {{"instances_flipped", insertion_instances_flipped},
                         {"instances_unfaithful", insertion_instances_unfaithful},
                         {"flips", insertion_flips},
                         {"unmentioned", insertion_unmentioned},
                         {"unfaithfulness", insertion_instances_flipped ? Json(static_cast<double>(insertion_instances_unfaithful) / insertion_instances_flipped) : Json(nullptr)}}},
          {"las", {{"las", opt(las)}, {"leaking", opt(las_leaking)}, {"nonleaking", opt(las_nonleaking)},
                   {"n_leaking", leaking}, {"shuffled", opt(las_shuffled)}}}};
}

Json NleEvaluation::summary_json() const {
  Json arr = Json::array();
  for (const auto& a : arrangements) arr.push_back(a.summary_json());
  return {{"data", data},
          {"test_examples", test_examples},
          {"accuracy_without_explanations", accuracy_without_explanations},
          {"accuracy_reader_on_gold_explanations", opt(accuracy_reader_on_gold)},
          {"arrangements", arr}};
}

std::string NleEvaluation::table() const {
  std::ostringstream o;
  char buf[512];
  auto pct = [](const std::optional<double>& v) {
    if (!v) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.1f%%", 100 * *v);
    return std::string(b);
  };
  auto num = [](const std::optional<double>& v) {
    if (!v) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%+.3f", *v);
    return std::string(b);
  };
  std::snprintf(buf, sizeof buf, "%lld test examples; accuracy without explanations %.1f%%", static_cast<long long>(test_examples),
                100 * accuracy_without_explanations);
  o << buf;
  if (accuracy_reader_on_gold) o << "; from the human explanations alone " << pct(accuracy_reader_on_gold);
  o << "\n\n| arrangement | accuracy | names rationale | token F1 | erasure drop: faithful / shuffled / random | separation (95% CI) | insertion unfaithful | LAS (shuffled) |\n"
    << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& a : arrangements) {
    std::snprintf(buf, sizeof buf, "| %s | %s | %s | %.3f | %.3f / %.3f / %.3f | %+.3f (%+.3f, %+.3f) | %s | %s (%s) |\n",
                  to_string(a.arrangement).c_str(), pct(a.accuracy).c_str(), pct(a.rationale_named).c_str(), a.token_f1,
                  a.faithful.mean_drop, a.shuffled.mean_drop, a.random.mean_drop, a.separation, a.separation_low, a.separation_high,
                  a.insertion_instances_flipped
                      ? (std::to_string(a.insertion_instances_unfaithful) + "/" + std::to_string(a.insertion_instances_flipped)).c_str()
                      : "-",
                  num(a.las).c_str(), num(a.las_shuffled).c_str());
    o << buf;
  }
  return o.str();
}

std::vector<std::string> cited_words(const std::vector<std::string>& explanation, const NleInput& input) {
  std::vector<std::string> out;
  for (const auto& w : explanation) {
    if (!content_word(w) || contains(out, w)) continue;
    if (contains(input.tokens, w) || contains(input.tokens_b, w)) out.push_back(w);
  }
  return out;
}

NleInput erase_words(const NleInput& input, const std::vector<std::string>& words) {
  NleInput out;
  for (const auto& t : input.tokens)
    if (!contains(words, t)) out.tokens.push_back(t);
  for (const auto& t : input.tokens_b)
    if (!contains(words, t)) out.tokens_b.push_back(t);
  return out;
}

double token_f1(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() && b.empty()) return 1;
  if (a.empty() || b.empty()) return 0;
  std::map<std::string, int64_t> ca, cb;
  for (const auto& w : a) ++ca[w];
  for (const auto& w : b) ++cb[w];
  int64_t common = 0;
  for (const auto& [w, n] : ca)
    if (auto it = cb.find(w); it != cb.end()) common += std::min(n, it->second);
  if (!common) return 0;
  const double p = static_cast<double>(common) / a.size(), r = static_cast<double>(common) / b.size();
  return 2 * p * r / (p + r);
}

LasResult leakage_adjusted_simulatability(const std::vector<bool>& xe, const std::vector<bool>& x, const std::vector<bool>& e) {
  LasResult r;
  double sum[2] = {0, 0};
  int64_t n[2] = {0, 0};
  for (size_t i = 0; i < xe.size(); ++i) {
    const int bin = e[i] ? 1 : 0;
    sum[bin] += static_cast<double>(xe[i]) - static_cast<double>(x[i]);
    ++n[bin];
  }
  r.n_leaking = n[1];
  if (n[1]) r.leaking = sum[1] / n[1];
  if (n[0]) r.nonleaking = sum[0] / n[0];
  if (r.leaking && r.nonleaking) r.las = (*r.leaking + *r.nonleaking) / 2;
  else if (r.leaking || r.nonleaking) r.las = r.leaking ? *r.leaking : *r.nonleaking;
  return r;
}

NleEvaluation evaluate_nle(NleSystem& s, const NleDataset& ds, const NleEvalOptions& o) {
  o.validate();
  NleEvaluation ev;
  ev.data = ds.name;
  std::vector<const NleExample*> test;
  for (const auto& e : ds.test)
    if (o.limit == 0 || static_cast<int64_t>(test.size()) < o.limit) test.push_back(&e);
  if (test.empty()) throw DataError("nle evaluation: the test split is empty");
  ev.test_examples = static_cast<int64_t>(test.size());
  const int64_t n = ev.test_examples;
  std::vector<NleInput> inputs;
  for (const auto* e : test) inputs.push_back(input_of(e->example));
  // Without explanations: the classifier alone.
  {
    std::vector<std::vector<int64_t>> ids;
    for (const auto& in : inputs) ids.push_back(s.space.encode_input(in, s.options.max_input_length));
    const auto probs = classify_ids(s.classifier, ids, 256);
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i) correct += argmax(probs[i]) == test[i]->example.label;
    ev.accuracy_without_explanations = static_cast<double>(correct) / n;
  }
  if (s.etp_reader) {
    std::vector<std::vector<std::string>> gold;
    for (const auto* e : test) gold.push_back(e->explanation);
    const auto read = read_explanations(s, gold);
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i) correct += read[i].label == test[i]->example.label;
    ev.accuracy_reader_on_gold = static_cast<double>(correct) / n;
  }
  // Content words of the vocabulary, the insertion test's candidates.
  std::vector<std::string> candidates;
  for (const auto& w : s.space.vocab.tokens())
    if (w.front() != '<' && content_word(w)) candidates.push_back(w);
  Rng rng(o.seed);
  // A derangement for the shuffled control: a rotation by 1..n-1.
  const int64_t shift = n > 1 ? 1 + static_cast<int64_t>(rng.uniform_int(n - 1)) : 0;
  const auto arrangements = s.options.arrangements;
  Progress bar("evaluating explanations", static_cast<int64_t>(arrangements.size()), o.progress);
  std::vector<std::vector<NleOutput>> outputs;  // per evaluated arrangement, on the test inputs
  for (const Arrangement a : arrangements) {
    if (!s.has(a)) continue;
    ArrangementEvaluation ae;
    ae.arrangement = a;
    ae.n = n;
    const auto out = nle_predict(s, a, inputs);
    ae.records.resize(n);
    int64_t correct = 0, named = 0, exact = 0;
    bool any_rationale = false;
    std::vector<NleInput> erased, erased_shuffled, erased_random;
    for (int64_t i = 0; i < n; ++i) {
      auto& r = ae.records[i];
      const auto& ex = test[i]->example;
      r.index = i;
      r.gold = ex.label;
      r.predicted = out[i].label;
      r.explanation = out[i].explanation;
      r.gold_explanation = test[i]->explanation;
      correct += r.predicted == r.gold;
      exact += r.explanation == r.gold_explanation;
      r.token_f1 = token_f1(r.explanation, r.gold_explanation);
      ae.token_f1 += r.token_f1;
      if (!ex.rationale.empty()) {
        any_rationale = true;
        bool all = true;
        for (const auto& w : rationale_words(ex)) all = all && contains(r.explanation, w);
        r.rationale_named = all;
        named += all;
      }
      r.erasure.cited = cited_words(out[i].explanation, inputs[i]);
      r.shuffled.cited = cited_words(out[(i + shift) % n].explanation, inputs[i]);
      // As many random content words of the input, none of them cited.
      std::vector<std::string> pool;
      for (const auto* side : {&inputs[i].tokens, &inputs[i].tokens_b})
        for (const auto& w : *side)
          if (content_word(w) && !contains(r.erasure.cited, w) && !contains(pool, w)) pool.push_back(w);
      rng.shuffle(pool);
      pool.resize(std::min(pool.size(), r.erasure.cited.size()));
      r.random.cited = pool;
      erased.push_back(erase_words(inputs[i], r.erasure.cited));
      erased_shuffled.push_back(erase_words(inputs[i], r.shuffled.cited));
      erased_random.push_back(erase_words(inputs[i], r.random.cited));
    }
    ae.accuracy = static_cast<double>(correct) / n;
    ae.exact_match = static_cast<double>(exact) / n;
    ae.token_f1 /= n;
    if (any_rationale) ae.rationale_named = static_cast<double>(named) / n;
    {
      const auto o1 = nle_predict(s, a, erased), o2 = nle_predict(s, a, erased_shuffled), o3 = nle_predict(s, a, erased_random);
      for (int64_t i = 0; i < n; ++i) {
        auto& r = ae.records[i];
        r.erasure = erasure(r.erasure.cited, out[i], o1[i]);
        r.shuffled = erasure(r.shuffled.cited, out[i], o2[i]);
        r.random = erasure(r.random.cited, out[i], o3[i]);
      }
    }
    ae.faithful = summarise(ae.records, &NleRecord::erasure);
    ae.shuffled = summarise(ae.records, &NleRecord::shuffled);
    ae.random = summarise(ae.records, &NleRecord::random);
    // Paired difference (an explanation citing nothing in the input moves nothing: drop 0).
    {
      std::vector<double> diff(n);
      for (int64_t i = 0; i < n; ++i) {
        const auto& r = ae.records[i];
        diff[i] = (r.erasure.cited.empty() ? 0 : r.erasure.drop) - (r.shuffled.cited.empty() ? 0 : r.shuffled.drop);
      }
      ae.separation = std::accumulate(diff.begin(), diff.end(), 0.0) / n;
      std::vector<double> means;
      Rng boot(o.seed + 1);
      for (int64_t b = 0; b < o.bootstrap; ++b) {
        double m = 0;
        for (int64_t k = 0; k < n; ++k) m += diff[boot.uniform_int(n)];
        means.push_back(m / n);
      }
      std::sort(means.begin(), means.end());
      if (!means.empty()) {
        ae.separation_low = means[static_cast<size_t>(0.025 * (means.size() - 1))];
        ae.separation_high = means[static_cast<size_t>(0.975 * (means.size() - 1))];
      } else {
        ae.separation_low = ae.separation_high = ae.separation;
      }
    }
    // Insertion test.
    if (o.insertion_candidates > 0 && !candidates.empty()) {
      std::vector<NleInput> variants;
      std::vector<std::pair<int64_t, std::string>> what;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < o.insertion_candidates; ++c) {
          NleInput v = inputs[i];
          const std::string& w = candidates[rng.uniform_int(candidates.size())];
          auto& side = (!v.tokens_b.empty() && rng.uniform_int(2)) ? v.tokens_b : v.tokens;
          side.insert(side.begin() + static_cast<int64_t>(rng.uniform_int(side.size() + 1)), w);
          variants.push_back(std::move(v));
          what.emplace_back(i, w);
        }
      const auto vo = nle_predict(s, a, variants);
      for (size_t k = 0; k < variants.size(); ++k) {
        auto& r = ae.records[what[k].first];
        ++r.insertions;
        if (vo[k].label == out[what[k].first].label) continue;
        ++r.insertion_flips;
        if (!contains(vo[k].explanation, what[k].second)) ++r.insertion_unmentioned;
      }
      for (const auto& r : ae.records) {
        ae.insertion_flips += r.insertion_flips;
        ae.insertion_unmentioned += r.insertion_unmentioned;
        ae.insertion_instances_flipped += r.insertion_flips > 0;
        ae.insertion_instances_unfaithful += r.insertion_unmentioned > 0;
      }
    }
    outputs.push_back(out);
    ev.arrangements.push_back(std::move(ae));
    bar.advance();
  }
  bar.finish();
  // LAS: per arrangement, a simulator of its labels trained on its training-split outputs
  // (the simulators train on parallel threads).
  if (o.las) {
    const int64_t mi = s.options.max_input_length, me = s.options.max_explanation_length;
    auto make = [&](Arrangement a, const std::vector<NleExample>& split) {
      std::vector<NleInput> in;
      for (const auto& e : split) in.push_back(input_of(e.example));
      const auto so = nle_predict(s, a, in);
      std::vector<ClassifierItem> items;
      for (size_t i = 0; i < in.size(); ++i) {
        items.push_back({sim_ids(s.space, &in[i], &so[i].explanation, mi, me), so[i].label});
        items.push_back({sim_ids(s.space, &in[i], nullptr, mi, me), so[i].label});
        items.push_back({sim_ids(s.space, nullptr, &so[i].explanation, mi, me), so[i].label});
      }
      return items;
    };
    const int64_t k_arr = static_cast<int64_t>(ev.arrangements.size());
    std::vector<std::vector<ClassifierItem>> sim_train(k_arr), sim_dev(k_arr);
    for (int64_t k = 0; k < k_arr; ++k) {
      sim_train[k] = make(ev.arrangements[k].arrangement, ds.train);
      sim_dev[k] = make(ev.arrangements[k].arrangement, ds.dev);
    }
    NleTrainOptions so = s.options;
    so.progress = false;
    std::vector<Seq2Seq> sims(k_arr, Seq2Seq(nullptr));
    {
      Progress sim_bar("training " + std::to_string(k_arr) + " simulators", k_arr, o.progress);
      std::mutex m;
      run_tasks(k_arr, [&](int64_t k) {
        NleTrainOptions ko = so;
        ko.seed = so.seed + 101 * (k + 1);
        sims[k] = train_classifier(sim_train[k], sim_dev[k], s.space.size(), s.space.labels, ko,
                                   "simulator (" + to_string(ev.arrangements[k].arrangement) + ")", nullptr);
        std::lock_guard<std::mutex> g(m);
        sim_bar.advance();
      });
      sim_bar.finish();
    }
    for (int64_t k = 0; k < k_arr; ++k) {
      auto& ae = ev.arrangements[k];
      const auto& out = outputs[k];
      Seq2Seq& sim = sims[k];
      auto simulate = [&](bool shuffled) {
        std::vector<std::vector<int64_t>> xe, x, e;
        for (int64_t i = 0; i < n; ++i) {
          const auto& expl = out[shuffled ? (i + shift) % n : i].explanation;
          xe.push_back(sim_ids(s.space, &inputs[i], &expl, mi, me));
          x.push_back(sim_ids(s.space, &inputs[i], nullptr, mi, me));
          e.push_back(sim_ids(s.space, nullptr, &expl, mi, me));
        }
        const auto pxe = classify_ids(sim, xe, 256), px = classify_ids(sim, x, 256), pe = classify_ids(sim, e, 256);
        std::vector<bool> bxe(n), bx(n), be(n);
        for (int64_t i = 0; i < n; ++i) {
          bxe[i] = argmax(pxe[i]) == out[i].label;
          bx[i] = argmax(px[i]) == out[i].label;
          be[i] = argmax(pe[i]) == out[i].label;
        }
        return std::make_tuple(bxe, bx, be);
      };
      const auto [bxe, bx, be] = simulate(false);
      for (int64_t i = 0; i < n; ++i) {
        ae.records[i].sim_xe = bxe[i];
        ae.records[i].sim_x = bx[i];
        ae.records[i].sim_e = be[i];
      }
      const LasResult las = leakage_adjusted_simulatability(bxe, bx, be);
      ae.las = las.las;
      ae.las_leaking = las.leaking;
      ae.las_nonleaking = las.nonleaking;
      ae.leaking = las.n_leaking;
      const auto [sxe, sx, se] = simulate(true);
      ae.las_shuffled = leakage_adjusted_simulatability(sxe, sx, se).las;
    }
  }
  return ev;
}

}  // namespace lumen::nle
