#include "influence/check.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include <unistd.h>

#include "analysis/explanation_evaluation.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "influence/methods.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace lumen::influence {

namespace {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2) return 0;
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

// Spearman (average ranks for ties) as the explanation evaluation computes it; 0 where it is
// undefined (a constant side), so that averages stay finite.
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const double r = analysis::spearman(a, b);
  return std::isfinite(r) ? r : 0.0;
}

// Pearson and Spearman with bootstrap 95% intervals. The pairs come in `groups` of equal size
// (one group per retrained point: its pairs share that retraining's noise), so the bootstrap
// resamples whole groups; groups = 1 resamples pairs.
Json correlation(const std::vector<double>& predicted, const std::vector<double>& actual, uint64_t seed, size_t groups = 0) {
  Rng rng(seed ^ 0xB007ULL);
  std::vector<double> ps, ss;
  const size_t n = predicted.size();
  if (groups == 0 || n % groups != 0) groups = n;
  const size_t per = groups > 0 ? n / groups : 1;
  for (int b = 0; b < 500 && n > 2 && groups > 1; ++b) {
    std::vector<double> x, y;
    for (size_t g = 0; g < groups; ++g) {
      const size_t k = rng.uniform_int(groups);
      for (size_t i = 0; i < per; ++i) {
        x.push_back(predicted[k * per + i]);
        y.push_back(actual[k * per + i]);
      }
    }
    ps.push_back(pearson(x, y));
    ss.push_back(spearman(x, y));
  }
  auto interval = [](std::vector<double> v) {
    if (v.empty()) return Json::array({nullptr, nullptr});
    std::sort(v.begin(), v.end());
    return Json::array({v[static_cast<size_t>(0.025 * (v.size() - 1))], v[static_cast<size_t>(0.975 * (v.size() - 1))]});
  };
  return {{"pearson", pearson(predicted, actual)},
          {"pearson_95", interval(ps)},
          {"spearman", spearman(predicted, actual)},
          {"spearman_95", interval(ss)},
          {"pairs", static_cast<int64_t>(n)},
          {"bootstrap_groups", static_cast<int64_t>(groups)}};
}

data::EncodedSet subset(const data::EncodedSet& s, const std::vector<int64_t>& rows) {
  data::EncodedSet out;
  out.pair = s.pair;
  for (int64_t r : rows) {
    out.ids.push_back(s.ids[r]);
    if (s.pair) out.ids_b.push_back(s.ids_b[r]);
    out.labels.push_back(s.labels[r]);
    out.tokens += static_cast<int64_t>(s.ids[r].size() + (s.pair ? s.ids_b[r].size() : 0));
  }
  return out;
}

struct Retrained {
  models::TextClassifier model{nullptr};
  std::vector<models::CheckpointInfo> checkpoints;
  // For the models that are scored: the training order and the kept epoch (sgd replays them)
  // and the run with this model in it.
  Json order;
  int64_t best_epoch = 0;
  std::shared_ptr<models::Run> as_run;
};

// Trains a fresh model of the run's configuration on `train`; with `checkpoint_dir`, keeps a
// checkpoint per epoch there (for TracIn).
Retrained retrain(const models::Run& run, const data::EncodedSet& train, const data::EncodedSet& dev, train::TrainOptions o,
                  uint64_t seed, const std::string& checkpoint_dir = "") {
  o.seed = seed;
  o.progress = false;
  Retrained r;
  {
    static std::mutex seeding;
    std::lock_guard<std::mutex> lock(seeding);
    torch::manual_seed(seed);
    r.model = models::TextClassifier(run.model_config);
  }
  o.record_order = !checkpoint_dir.empty();
  const train::TrainResult result = train::fit(r.model, train, dev, o, [&](int64_t epoch) {
    if (checkpoint_dir.empty()) return;
    const std::string path = join_path(checkpoint_dir, "epoch-" + std::to_string(epoch) + ".pt");
    models::save_weights(r.model, path);
    r.checkpoints.push_back({epoch, path, o.lr});
  });
  if (o.record_order) {
    r.order = {{"train_size", train.size()}, {"epochs", result.order}};
    r.best_epoch = result.best_epoch;
    r.as_run = std::make_shared<models::Run>(run);
    r.as_run->model = r.model;
    r.as_run->config["train"]["seed"] = seed;
  }
  return r;
}

// Per-example test losses (plain cross-entropy of the gold labels).
std::vector<double> test_losses(models::TextClassifier& model, const data::EncodedSet& test) {
  const auto p = train::predict_proba(model, test);
  std::vector<double> out(test.size());
  for (int64_t i = 0; i < test.size(); ++i) out[i] = -std::log(std::max(p[i][test.labels[i]], 1e-300));
  return out;
}

InfluenceInputs inputs_for(const models::Run& run, const Retrained& m, const data::EncodedSet& train, const data::EncodedSet& test) {
  InfluenceInputs in;
  in.model = m.model;
  in.config = run.model_config;
  in.train = &train;
  in.test = &test;
  in.loss = training_loss_of(run, train);
  in.test_labels = test.labels;
  in.checkpoints = m.checkpoints;
  in.run = m.as_run.get();
  in.order = m.order;
  in.best_epoch = m.best_epoch;
  return in;
}

struct Job {
  std::vector<int64_t> keep;  // training rows
  uint64_t seed;
  std::string label;
};

// Retrains for every job and returns its test losses. With `parallel`, the jobs are split over
// the cores (parallel_chunks: each retraining then runs on one core); a model's seeding and
// construction are serialised because LibTorch's generator is global.
std::vector<std::vector<double>> run_jobs(const models::Run& run, const data::EncodedSet& train, const data::EncodedSet& dev,
                                          const data::EncodedSet& test, const train::TrainOptions& topt,
                                          const std::vector<Job>& jobs, bool parallel,
                                          const std::function<void(const std::string&)>& log, const PartialStore& partial) {
  std::vector<std::vector<double>> out(jobs.size());
  std::mutex log_mutex;
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      // Each retraining's test losses are a unit of partial results (--resume).
      double sum = 0, squares = 0;
      for (int64_t r : jobs[j].keep) {
        sum += static_cast<double>(r);
        squares += static_cast<double>(r) * static_cast<double>(r);
      }
      const Json unit{{"retrain", jobs[j].label}, {"seed", jobs[j].seed}, {"keep", {jobs[j].keep.size(), sum, squares}},
                      {"train", topt.to_json()}};
      if (auto done = partial.load(unit)) {
        out[j] = done->info.get<std::vector<double>>();
        std::lock_guard<std::mutex> lock(log_mutex);
        log(jobs[j].label + " (resumed)");
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(log_mutex);
        log(jobs[j].label);
      }
      Retrained m = retrain(run, subset(train, jobs[j].keep), dev, topt, jobs[j].seed);
      out[j] = test_losses(m.model, test);
      partial.save(unit, {}, out[j]);
    }
  };
  if (parallel) parallel_chunks(static_cast<int64_t>(jobs.size()), 1, work);
  else work(0, static_cast<int64_t>(jobs.size()));
  return out;
}

class ScratchDir {
 public:
  ScratchDir() {
    path_ = (std::filesystem::temp_directory_path() / ("lumen-check-" + std::to_string(::getpid()) + "-" +
                                                       std::to_string(counter_++)))
                .string();
    std::filesystem::remove_all(path_);
    make_dirs(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  static inline int counter_ = 0;
};

}  // namespace

std::string share_key(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", share);
  return buf;
}

InfluenceOptions CheckOptions::method_options(const std::string& m) const {
  InfluenceOptions o = base;
  const size_t colon = m.find(':');
  o.method = m.substr(0, colon);
  if (colon != std::string::npos) o.params = m.substr(colon + 1);
  return o;
}

void CheckOptions::validate() const {
  if (methods.empty()) throw InvalidArgument("influence-check: no methods");
  for (const auto& m : methods) method_options(m).validate();
  if (!(mislabel >= 0 && mislabel < 1)) throw InvalidArgument("influence-check: --mislabel must be in [0, 1)");
  if (loo_points < 0 || loo_seeds < 1) throw InvalidArgument("influence-check: --loo-points >= 0 and --loo-seeds >= 1");
  if (lds_seeds < 1) throw InvalidArgument("influence-check: --lds-seeds >= 1");
  if (lds_subsets < 0 || !(lds_fraction > 0 && lds_fraction < 1))
    throw InvalidArgument("influence-check: --lds-subsets >= 0 and --lds-fraction in (0, 1)");
  if (test_points < 1) throw InvalidArgument("influence-check: --test-points must be >= 1");
  if (epochs < 0) throw InvalidArgument("influence-check: --epochs must be >= 0");
  if (mislabel == 0 && loo_points == 0 && lds_subsets == 0 && !shapley_removal)
    throw InvalidArgument("influence-check: nothing to check: give --mislabel, --loo-points, --lds-subsets or --shapley-removal");
}

Json CheckOptions::to_json() const {
  return {{"methods", methods},       {"base", base.to_json()}, {"mislabel", mislabel},   {"inspect", inspect},
          {"loo_points", loo_points}, {"loo_seeds", loo_seeds}, {"lds_subsets", lds_subsets}, {"lds_seeds", lds_seeds}, {"lds_fraction", lds_fraction},
          {"test_points", test_points}, {"epochs", epochs},     {"seed", seed}, {"shapley_removal", shapley_removal}, {"parallel", parallel},
          {"recompute_class_weights", recompute_class_weights}};
}

train::TrainOptions train_options_of(const models::Run& run) {
  train::TrainOptions o;
  const Json& t = run.config.at("train");
  o.epochs = t.value("epochs", o.epochs);
  o.batch_size = t.value("batch_size", o.batch_size);
  o.lr = t.value("lr", o.lr);
  o.weight_decay = t.value("weight_decay", o.weight_decay);
  o.amsgrad = t.value("amsgrad", o.amsgrad);
  o.class_weight = t.value("class_weight", o.class_weight);
  o.select = t.value("select", o.select);
  o.seed = t.value("seed", o.seed);
  o.progress = false;
  return o;
}

train::TrainingLoss training_loss_of(const models::Run& run, const data::EncodedSet& train) {
  const train::TrainOptions o = train_options_of(run);
  const Json& t = run.config.at("train");
  const double diversity = t.value("diversity_weight", 0.0), rationale = t.value("rationale_weight", 0.0),
               faithfulness = t.value("faithfulness_weight", 0.0);
  if (run.config.contains("adversary"))
    throw InvalidArgument("influence: this run is an adversarial model (Wiegreffe & Pinter), trained on TVD to its base minus "
                          "lambda KL, not on the cross-entropy the influence methods differentiate");
  if (run.config.contains("init_from"))
    throw InvalidArgument("influence: this run was fine-tuned from " + run.config["init_from"].get<std::string>() +
                          "; the influence methods and their retraining checks assume training from initialisation");
  if (diversity > 0 || rationale > 0 || faithfulness > 0)
    throw InvalidArgument("influence: this run was trained with an auxiliary loss (diversity_weight " + std::to_string(diversity) +
                          ", rationale_weight " + std::to_string(rationale) + ", faithfulness_weight " + std::to_string(faithfulness) +
                          "); the influence methods differentiate the cross-entropy objective only (train/loss.h) and "
                          "would attribute a different objective than the one trained");
  return train::TrainingLoss::make(train, run.model_config.num_classes, run.model_config.pair, o.class_weight, o.weight_decay);
}

Json check_influence(const CheckInputs& in, const CheckOptions& o) {
  o.validate();
  const models::Run& run = *in.run;
  auto log = [&](const std::string& s) {
    if (in.log) in.log(s);
  };
  train::TrainOptions topt = train_options_of(run);
  if (o.epochs > 0) topt.epochs = o.epochs;
  const data::EncodedSet& train = *in.train;
  const int64_t n = train.size();
  Json out{{"lumen", "influence-check-v1"}, {"options", o.to_json()}, {"train_size", n}};
  const auto t0 = std::chrono::steady_clock::now();

  if (o.mislabel > 0) {
    Rng rng(o.seed ^ 0xF11FULL);
    std::vector<int64_t> rows(n);
    std::iota(rows.begin(), rows.end(), 0);
    rng.shuffle(rows);
    const int64_t k = std::max<int64_t>(1, std::llround(o.mislabel * n));
    data::EncodedSet noisy = train;
    std::vector<int64_t> flipped(n, 0);
    const int64_t C = run.model_config.num_classes;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t r = rows[j];
      noisy.labels[r] = C == 2 ? 1 - noisy.labels[r] : (noisy.labels[r] + 1 + static_cast<int64_t>(rng.uniform_int(C - 1))) % C;
      flipped[r] = 1;
    }
    log("mislabel: retraining on " + std::to_string(n) + " examples with " + std::to_string(k) + " labels flipped");
    ScratchDir dir;
    Retrained m = retrain(run, noisy, *in.dev, topt, topt.seed, dir.path());
    static const data::EncodedSet empty;
    Json table = Json::array();
    auto score_ranking = [&](const std::string& name, const std::vector<double>& s, double seconds, const Json& extra) {
      std::vector<int64_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
      Json found = Json::object();
      for (double share : o.inspect) {
        const int64_t top = std::llround(share * n);
        int64_t hit = 0;
        for (int64_t j = 0; j < top; ++j) hit += flipped[order[j]];
        found[share_key(share)] = static_cast<double>(hit) / k;
      }
      Json row{{"method", name}, {"found", found}, {"auc", train::roc_auc(s, flipped)}, {"seconds", seconds}};
      if (!extra.is_null()) row["diagnostics"] = extra;
      table.push_back(row);
    };
    {  // baseline: the retrained model's training loss on the (noisy) labels
      const auto c0 = std::chrono::steady_clock::now();
      const auto p = train::predict_proba(m.model, noisy);
      std::vector<double> s(n);
      for (int64_t i = 0; i < n; ++i) s[i] = -std::log(std::max(p[i][noisy.labels[i]], 1e-300));
      score_ranking("training-loss", s, std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count(), nullptr);
    }
    for (const auto& method : o.methods) {
      InfluenceOptions mo = o.method_options(method);
      mo.self_influence = true;
      InfluenceInputs ii = inputs_for(run, m, noisy, empty);
      log("mislabel: self-influence by " + method);
      const auto c0 = std::chrono::steady_clock::now();
      InfluenceResult r = compute_influence(ii, mo);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
      if (r.self_influence.empty()) {
        table.push_back({{"method", method}, {"converged", false}, {"diagnostics", r.diagnostics}});
        continue;
      }
      score_ranking(method, r.self_influence, secs, r.parameters);
    }
    out["mislabel"] = {{"flipped", k}, {"fraction", o.mislabel}, {"table", table}};
  }

  if (o.loo_points > 0 || o.lds_subsets > 0) {
    // The retrainings keep the full training set's class weights unless asked otherwise: with
    // weights recomputed per subset (#neg/#pos), removing a positive also raises the weight of
    // every other positive, which offsets most of the removal, and the check would measure that
    // instead of the point's own effect.
    train::TrainOptions ropt = topt;
    if (!o.recompute_class_weights) {
      const at::Tensor w = training_loss_of(run, train).class_weights.to(torch::kDouble).contiguous();
      ropt.class_weights.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
    }
    const data::EncodedSet test = subset(*in.test, all_rows(std::min<int64_t>(o.test_points, in.test->size())));
    const int64_t nt = test.size();
    ScratchDir dir;
    log("retraining the base model (seed " + std::to_string(ropt.seed) + ")");
    Retrained base = retrain(run, train, *in.dev, ropt, ropt.seed, dir.path());
    const std::vector<double> base_loss = test_losses(base.model, test);
    std::vector<at::Tensor> scores;  // per method [nt, n]
    Json failed = Json::array();
    for (const auto& method : o.methods) {
      InfluenceOptions mo = o.method_options(method);
      log("scoring with " + method);
      InfluenceResult r = compute_influence(inputs_for(run, base, train, test), mo);
      if (!r.scores.defined()) failed.push_back({{"method", method}, {"diagnostics", r.diagnostics}});
      scores.push_back(r.scores);
    }
    if (!failed.empty()) out["not_converged"] = failed;
    if (o.loo_points > 0) {
      // Points: the strongest of each method by total |score| (half) and random ones (half).
      Rng rng(o.seed ^ 0x100ULL);
      std::set<int64_t> chosen;
      const int64_t per_method = std::max<int64_t>(1, o.loo_points / (2 * static_cast<int64_t>(o.methods.size())));
      for (const auto& s : scores) {
        if (!s.defined()) continue;
        const at::Tensor total = s.abs().sum(0);
        const at::Tensor idx = std::get<1>(total.topk(std::min<int64_t>(n, per_method * 4)));
        int64_t added = 0;
        for (int64_t j = 0; j < idx.numel() && added < per_method && static_cast<int64_t>(chosen.size()) < o.loo_points; ++j)
          if (chosen.insert(idx[j].item<int64_t>()).second) ++added;
      }
      while (static_cast<int64_t>(chosen.size()) < std::min(o.loo_points, n)) chosen.insert(static_cast<int64_t>(rng.uniform_int(n)));
      const std::vector<int64_t> points(chosen.begin(), chosen.end());
      // Actual change: mean over seeds of loss(without i, seed) - loss(full, seed). Jobs: the
      // extra seeds' base models, then every (point, seed), run in parallel (run_jobs).
      std::vector<Job> jobs;
      for (int64_t s = 1; s < o.loo_seeds; ++s) jobs.push_back({all_rows(n), ropt.seed + s, "leave-one-out: base model, seed " + std::to_string(ropt.seed + s)});
      for (size_t p = 0; p < points.size(); ++p) {
        std::vector<int64_t> keep;
        for (int64_t i = 0; i < n; ++i)
          if (i != points[p]) keep.push_back(i);
        for (int64_t s = 0; s < o.loo_seeds; ++s)
          jobs.push_back({keep, ropt.seed + s, "leave-one-out: without training row " + std::to_string(points[p]) + " (" +
                                                   std::to_string(p + 1) + "/" + std::to_string(points.size()) + "), seed " +
                                                   std::to_string(ropt.seed + s)});
      }
      const auto losses = run_jobs(run, train, *in.dev, test, ropt, jobs, o.parallel, log, in.partial);
      std::vector<std::vector<double>> full_loss(o.loo_seeds);
      full_loss[0] = base_loss;
      for (int64_t s = 1; s < o.loo_seeds; ++s) full_loss[s] = losses[s - 1];
      std::vector<std::vector<double>> actual(points.size(), std::vector<double>(nt, 0.0));
      size_t j = static_cast<size_t>(o.loo_seeds - 1);
      for (size_t p = 0; p < points.size(); ++p)
        for (int64_t s = 0; s < o.loo_seeds; ++s, ++j)
          for (int64_t t = 0; t < nt; ++t) actual[p][t] += (losses[j][t] - full_loss[s][t]) / o.loo_seeds;
      Json table = Json::array();
      for (size_t mi = 0; mi < o.methods.size(); ++mi) {
        if (!scores[mi].defined()) continue;
        std::vector<double> pred, act;
        for (size_t p = 0; p < points.size(); ++p)
          for (int64_t t = 0; t < nt; ++t) {
            pred.push_back(scores[mi][t][points[p]].item<double>());
            act.push_back(actual[p][t]);
          }
        Json row = correlation(pred, act, o.seed, points.size());
        row["method"] = o.methods[mi];
        table.push_back(row);
      }
      out["leave_one_out"] = {{"points", points}, {"seeds", o.loo_seeds}, {"test_points", nt}, {"table", table}};
    }
    if (o.lds_subsets > 0) {
      Rng rng(o.seed ^ 0x1D5ULL);
      const int64_t keep_n = std::max<int64_t>(1, std::llround(o.lds_fraction * n));
      const int64_t M = o.lds_subsets;
      std::vector<std::vector<int64_t>> removed(M);
      std::vector<Job> jobs;
      for (int64_t j = 0; j < M; ++j) {
        std::vector<int64_t> rows = all_rows(n);
        rng.shuffle(rows);
        std::vector<int64_t> keep(rows.begin(), rows.begin() + keep_n);
        removed[j].assign(rows.begin() + keep_n, rows.end());
        std::sort(keep.begin(), keep.end());
        for (int64_t s = 0; s < o.lds_seeds; ++s)
          jobs.push_back({keep, ropt.seed + s,
                          "linear datamodeling: subset " + std::to_string(j + 1) + "/" + std::to_string(M) +
                              (o.lds_seeds > 1 ? ", seed " + std::to_string(ropt.seed + s) : "")});
      }
      const auto losses = run_jobs(run, train, *in.dev, test, ropt, jobs, o.parallel, log, in.partial);
      // The actual loss of a subset: the mean over its seeds.
      std::vector<std::vector<double>> actual(M, std::vector<double>(nt, 0.0));
      for (int64_t j = 0; j < M; ++j)
        for (int64_t s = 0; s < o.lds_seeds; ++s)
          for (int64_t t = 0; t < nt; ++t) actual[j][t] += losses[j * o.lds_seeds + s][t] / o.lds_seeds;
      Json table = Json::array();
      for (size_t mi = 0; mi < o.methods.size(); ++mi) {
        if (!scores[mi].defined()) continue;
        // pred[t][j]: the summed scores of subset j's removed points (removing proponents raises
        // the loss), against actual[j][t].
        std::vector<std::vector<double>> pred(nt, std::vector<double>(M));
        for (int64_t t = 0; t < nt; ++t) {
          const at::Tensor row = scores[mi][t].contiguous();
          const double* sc = row.data_ptr<double>();
          for (int64_t j = 0; j < M; ++j) {
            double sum = 0;
            for (int64_t i : removed[j]) sum += sc[i];
            pred[t][j] = sum;
          }
        }
        auto lds_of = [&](const std::vector<int64_t>& pick, std::vector<double>* per_test) {
          double total = 0;
          for (int64_t t = 0; t < nt; ++t) {
            std::vector<double> p, a;
            for (int64_t j : pick) {
              p.push_back(pred[t][j]);
              a.push_back(actual[j][t]);
            }
            const double r = spearman(p, a);
            if (per_test) per_test->push_back(r);
            total += r;
          }
          return total / nt;
        };
        std::vector<double> per_test;
        const double mean = lds_of(all_rows(M), &per_test);
        // Every test point is scored on the same subsets, so their correlations share the subsets'
        // noise: the interval resamples subsets, not test points.
        Rng boot(o.seed ^ 0xB0075ULL);
        std::vector<double> reps;
        for (int b = 0; b < 500 && M > 2; ++b) {
          std::vector<int64_t> pick(M);
          for (auto& j : pick) j = static_cast<int64_t>(boot.uniform_int(M));
          reps.push_back(lds_of(pick, nullptr));
        }
        std::sort(reps.begin(), reps.end());
        const Json interval = reps.empty() ? Json::array({nullptr, nullptr})
                                           : Json::array({reps[static_cast<size_t>(0.025 * (reps.size() - 1))],
                                                          reps[static_cast<size_t>(0.975 * (reps.size() - 1))]});
        double rm = 0, rv = 0;
        for (double v : reps) rm += v / reps.size();
        for (double v : reps) rv += (v - rm) * (v - rm);
        const double se = reps.size() > 1 ? std::sqrt(rv / (reps.size() - 1)) : 0.0;
        table.push_back({{"method", o.methods[mi]}, {"lds", mean}, {"lds_95", interval}, {"standard_error", se}, {"per_test", per_test}});
      }
      out["linear_datamodeling"] = {{"subsets", M},
                                    {"seeds", o.lds_seeds},
                                    {"fraction", o.lds_fraction},
                                    {"test_points", nt},
                                    {"class_weights", ropt.class_weights.empty() ? Json("recomputed per subset") : Json(ropt.class_weights)},
                                    {"base_test_loss", base_loss},
                                    {"subset_test_loss", actual},
                                    {"table", table}};
    }
  }
  if (o.shapley_removal) {
    InfluenceOptions so = o.base;
    so.method = "shapley";
    InfluenceInputs ii;
    ii.model = run.model;
    ii.config = run.model_config;
    ii.train = &train;
    ii.dev = in.dev;
    ii.loss = training_loss_of(run, train);
    log("Data Shapley of " + std::to_string(std::min(so.shapley_points, n)) + " training points (the run's model)");
    const InfluenceResult r = compute_influence(ii, so);
    std::vector<size_t> idx(r.values.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return r.values[a] > r.values[b]; });
    std::vector<int64_t> by_value, random;
    for (size_t i : idx) by_value.push_back(r.value_rows[i]);
    random = r.value_rows;
    Rng rng(o.seed ^ 0x4A4DULL);
    rng.shuffle(random);
    const auto high = last_layer_removal_curve(ii, by_value, o.removal, *in.test);
    const auto rand = last_layer_removal_curve(ii, random, o.removal, *in.test);
    out["shapley_removal"] = {{"players", static_cast<int64_t>(r.values.size())},
                              {"removed_share_of_players", o.removal},
                              {"accuracy_high_value_first", high},
                              {"accuracy_random", rand},
                              {"shapley", r.diagnostics["shapley"]}};
  }
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lumen::influence
