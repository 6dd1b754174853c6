// `lumen influence`: the most helpful and most harmful training examples for test texts or a
// dataset split, by one data-influence method (influence/influence.h), with the training set's
// self-influence on request; JSON (--json, --out DIR/influence.json) and an HTML view
// (--out DIR/influence.html).
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "app/influence.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"

namespace lumen::cli {

void register_influence(CLI::App& app) {
  struct Options {
    std::string run, test_data, split = "test", out, explain = "auto";
    std::vector<std::string> texts;
    int64_t limit = 10;
    bool resume = false;
    influence::InfluenceOptions o;
  };
  auto o = std::make_shared<Options>();
  std::string methods;
  for (const auto& m : influence::influence_methods()) methods += (methods.empty() ? "" : " | ") + m;
  auto* cmd = app.add_subcommand("influence", "Which training examples made a prediction (data influence), with an HTML view");
  cmd->add_option("--run", o->run, "Run directory")->required();
  cmd->add_option("--method", o->o.method, methods)->capture_default_str();
  cmd->add_option("--params", o->o.params, "Parameters: all | last | decoder | attention | encoder | embedding (comma list)")
      ->capture_default_str();
  cmd->add_option("--test", o->texts, "Test texts (pairs as 'FIRST<TAB>SECOND'); their predicted class is explained")->take_all();
  cmd->add_option("--test-data", o->test_data, "Test examples from a dataset split instead (spec, or 'run' for the run's data)");
  cmd->add_option("--split", o->split, "train | dev | test (with --test-data)")->capture_default_str();
  cmd->add_option("--limit", o->limit, "With --test-data: the first N examples (0 = all)")->capture_default_str();
  cmd->add_option("--explain", o->explain, "Loss explained: auto (gold label when known, else predicted) | gold | predicted")
      ->capture_default_str();
  cmd->add_option("--top", o->o.top, "Proponents and opponents listed per test example")->capture_default_str();
  cmd->add_flag("--self-influence", o->o.self_influence, "Also rank the training set by self-influence (likely mislabels first)");
  cmd->add_flag("--keep-scores", o->o.keep_scores, "Write the whole test x train score matrix into the JSON");
  cmd->add_option("--damping", o->o.solve.damping, "Influence functions: lambda added to the Hessian")->capture_default_str();
  cmd->add_option("--cg-iterations", o->o.solve.cg_max_iterations, "if-cg: iteration limit")->capture_default_str();
  cmd->add_option("--cg-tolerance", o->o.solve.cg_tolerance, "if-cg: relative residual")->capture_default_str();
  cmd->add_option("--lissa-scale", o->o.solve.lissa_scale, "if-lissa: scale (must exceed the Hessian's largest eigenvalue)")
      ->capture_default_str();
  cmd->add_option("--lissa-depth", o->o.solve.lissa_depth, "if-lissa: recursion depth")->capture_default_str();
  cmd->add_option("--lissa-repeats", o->o.solve.lissa_repeats, "if-lissa: repeats averaged")->capture_default_str();
  cmd->add_option("--hessian-samples", o->o.hessian_samples, "Influence functions beyond the last layer: training rows of the Hessian (0 = all)")
      ->capture_default_str();
  cmd->add_option("--candidates", o->o.fastif_candidates, "fastif: nearest training points scored per test point")
      ->capture_default_str();
  cmd->add_option("--checkpoints", o->o.checkpoints, "tracin: epochs to use (default: every saved checkpoint)")->delimiter(',');
  cmd->add_option("--projection", o->o.projection, "tracin: CountSketch dimensions (0 = exact gradients)")->capture_default_str();
  cmd->add_option("--shapley", o->o.shapley, "shapley: exact | tmc | g-shapley")->capture_default_str();
  cmd->add_option("--shapley-points", o->o.shapley_points, "shapley: training points valued (drawn with --seed)")->capture_default_str();
  cmd->add_option("--shapley-permutations", o->o.shapley_permutations, "shapley: permutation budget")->capture_default_str();
  cmd->add_option("--shapley-tolerance", o->o.shapley_tolerance, "shapley (tmc): truncation tolerance")->capture_default_str();
  cmd->add_option("--shapley-lr", o->o.shapley_lr, "shapley (g-shapley): SGD step")->capture_default_str();
  cmd->add_option("--representer-l2", o->o.representer_l2, "representer: lambda of the L2 fine-tuning")->capture_default_str();
  cmd->add_option("--seed", o->o.seed, "Seed of sampling and projections")->capture_default_str();
  cmd->add_option("--out", o->out, "Write influence.json and influence.html into this directory");
  cmd->add_flag("--resume", o->resume,
                "With --out: reuse a finished run of the same request, or the finished parts (OUT/partial) of an interrupted one");
  cmd->callback([o] {
    setup_runtime();
    app::InfluenceRequest q;
    q.options = o->o;
    q.texts = o->texts;
    q.test_data = o->test_data;
    q.split = o->split;
    q.limit = o->limit;
    q.explain = o->explain;
    q.out = o->out;
    q.resume = o->resume;
    q.validate();
    models::Run run = models::load_run(o->run);
    const bool show = !globals().quiet && !globals().json;
    std::unique_ptr<Progress> bar;
    std::string stage;
    int64_t shown = 0;
    q.progress = [&](const std::string& s, int64_t done, int64_t total) {
      if (!show) return;
      if (s != stage || !bar || done < shown) {
        if (bar) bar->finish();
        bar = std::make_unique<Progress>(s, total, true);
        stage = s;
        shown = 0;
      }
      bar->advance(done - shown);
      shown = done;
    };
    q.note = [&](const std::string& message, bool warning) {
      if (bar) {
        bar->finish();
        bar.reset();
      }
      if (warning) warn(message);
      else info(message);
    };
    const app::InfluenceOutcome outcome = app::run_influence(run, q);
    if (bar) bar->finish();
    const Json& doc = outcome.doc;
    if (outcome.reused) {
      if (globals().json) print_json(doc);
      return;
    }
    const influence::InfluenceResult& result = outcome.result;
    const bool converged = outcome.converged;
    if (globals().json) {
      print_json(doc);
    } else {
      std::printf("%s on %s (%lld values); %s\n", result.method.c_str(), doc["parameters"]["spec"].get<std::string>().c_str(),
                  static_cast<long long>(doc["parameters"]["count"].get<int64_t>()), result.sign.c_str());
      if (!converged) std::printf("NOT CONVERGED: %s\n", result.diagnostics.value("diagnosis", std::string()).c_str());
      for (const auto& t : doc["tests"]) {
        std::printf("test %lld: explained %s, predicted %s: %s\n", static_cast<long long>(t["test"].get<int64_t>()),
                    t["label_name"].get<std::string>().c_str(), t["predicted_name"].get<std::string>().c_str(),
                    t.value("text", std::string()).substr(0, 100).c_str());
        for (const char* side : {"proponents", "opponents"})
          for (const auto& e : t[side])
            std::printf("  %-10s %+.4e  [%s] %s\n", side, e["score"].get<double>(), e["label_name"].get<std::string>().c_str(),
                        e.value("text", std::string()).substr(0, 90).c_str());
      }
      if (doc.contains("values")) {
        const auto& v = doc["values"];
        std::vector<size_t> order(v["value"].size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v["value"][a].get<double>() > v["value"][b].get<double>(); });
        std::printf("Data Shapley values (%zu points; highest and lowest):\n", order.size());
        for (size_t k = 0; k < order.size(); ++k) {
          if (k >= static_cast<size_t>(o->o.top) && k + o->o.top < order.size()) continue;
          const size_t i = order[k];
          const int64_t row = v["train"][i].get<int64_t>();
          std::printf("  train %-6lld %+.4e (se %.1e) [%s]\n", static_cast<long long>(row), v["value"][i].get<double>(),
                      v["standard_error"][i].get<double>(), run.label_names.at(outcome.train_labels.at(row)).c_str());
        }
      }
      if (doc.contains("self_influence_ranking")) {
        std::printf("highest self-influence:\n");
        int k = 0;
        for (const auto& e : doc["self_influence_ranking"]) {
          if (++k > o->o.top) break;
          std::printf("  train %-6lld %.4e  [%s] %s\n", static_cast<long long>(e["train"].get<int64_t>()), e["score"].get<double>(),
                      e.value("label_name", std::string()).c_str(), e.value("text", std::string()).substr(0, 90).c_str());
        }
      }
    }
    if (!converged) throw ModelError("influence: " + outcome.diagnosis);
  });
}

}  // namespace lumen::cli
