// `lumen influence-check`: influence methods validated against retraining (influence/check.h):
// mislabel detection, leave-one-out correlation and the linear datamodeling score, one table
// per validation with a row per method.
#include <cstdio>

#include "app/influence_check.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"

namespace lumen::cli {

void register_influence_check(CLI::App& app) {
  struct Options {
    std::string run, methods = "if-exact,tracin,representer", out;
    bool resume = false;
    influence::CheckOptions c;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("influence-check", "Validate influence methods against retraining (mislabels, leave-one-out, LDS)");
  cmd->add_option("--run", o->run, "Run directory")->required();
  cmd->add_option("--methods", o->methods, "Methods compared (comma list; name:params picks a group per method, e.g. ekfac:all)")->capture_default_str();
  cmd->add_option("--params", o->c.base.params, "Parameters of every method: all | last | GROUP")->capture_default_str();
  cmd->add_option("--damping", o->c.base.solve.damping, "Influence functions: damping")->capture_default_str();
  cmd->add_option("--hessian-samples", o->c.base.hessian_samples, "Influence functions beyond the last layer: Hessian rows")
      ->capture_default_str();
  cmd->add_option("--mislabel", o->c.mislabel, "Flip this fraction of training labels, retrain, rank by self-influence")
      ->capture_default_str();
  cmd->add_option("--loo-points", o->c.loo_points, "Leave-one-out: points removed one at a time")->capture_default_str();
  cmd->add_option("--loo-seeds", o->c.loo_seeds, "Leave-one-out: seeds per retraining")->capture_default_str();
  cmd->add_option("--lds-subsets", o->c.lds_subsets, "Linear datamodeling score: random subsets retrained")->capture_default_str();
  cmd->add_option("--lds-seeds", o->c.lds_seeds, "Linear datamodeling score: retrainings per subset (seeds), averaged")->capture_default_str();
  cmd->add_option("--lds-fraction", o->c.lds_fraction, "Linear datamodeling score: subset size as a fraction")->capture_default_str();
  cmd->add_flag("--shapley-removal", o->c.shapley_removal, "Data Shapley removal curve: high value first vs random");
  cmd->add_option("--shapley-points", o->c.base.shapley_points, "Data Shapley: training points valued")->capture_default_str();
  cmd->add_option("--shapley-permutations", o->c.base.shapley_permutations, "Data Shapley: permutation budget")
      ->capture_default_str();
  cmd->add_option("--test-points", o->c.test_points, "Test examples for LOO and LDS")->capture_default_str();
  cmd->add_flag("!--sequential", o->c.parallel, "Retrain one model at a time on every core (default: one per core at once)");
  cmd->add_flag("--recompute-class-weights", o->c.recompute_class_weights,
                "LOO/LDS: recompute the class weights from each retrained subset (default: keep the full set's)");
  cmd->add_option("--epochs", o->c.epochs, "Epochs of every retraining (0 = the run's)")->capture_default_str();
  cmd->add_option("--seed", o->c.seed, "Seed of flips and subsets")->capture_default_str();
  cmd->add_option("--out", o->out, "Write the JSON here");
  cmd->add_flag("--resume", o->resume,
                "With --out: reuse the retrainings an interrupted check of the same request finished (kept in OUT.partial/)");
  cmd->callback([o] {
    setup_runtime();
    o->c.methods = split_list(o->methods);
    app::InfluenceCheckRequest request;
    request.options = o->c;
    request.out = o->out;
    request.resume = o->resume;
    request.log = info;
    request.validate();
    models::Run run = models::load_run(o->run);
    const Json result = app::run_influence_check(run, request);
    if (globals().json) {
      print_json(result);
      return;
    }
    if (result.contains("mislabel")) {
      std::printf("mislabel detection: %lld of %lld labels flipped; share of them found in the top x%% by self-influence\n",
                  static_cast<long long>(result["mislabel"]["flipped"].get<int64_t>()),
                  static_cast<long long>(result["train_size"].get<int64_t>()));
      std::printf("  %-14s", "method");
      for (double s : o->c.inspect) std::printf(" %6.0f%%", 100 * s);
      std::printf("   AUC    seconds\n");
      for (const auto& r : result["mislabel"]["table"]) {
        std::printf("  %-14s", r["method"].get<std::string>().c_str());
        if (!r.contains("found")) {
          std::printf(" not converged\n");
          continue;
        }
        for (double s : o->c.inspect) std::printf(" %6.3f ", r["found"][influence::share_key(s)].get<double>());
        std::printf("  %.3f  %7.1f\n", r["auc"].get<double>(), r["seconds"].get<double>());
      }
    }
    if (result.contains("leave_one_out")) {
      std::printf("leave-one-out: predicted vs actual change in test loss (%zu points x %lld test points, %lld seeds)\n",
                  result["leave_one_out"]["points"].size(), static_cast<long long>(result["leave_one_out"]["test_points"].get<int64_t>()),
                  static_cast<long long>(result["leave_one_out"]["seeds"].get<int64_t>()));
      for (const auto& r : result["leave_one_out"]["table"])
        std::printf("  %-14s pearson %+.3f [%+.3f, %+.3f]  spearman %+.3f [%+.3f, %+.3f]\n", r["method"].get<std::string>().c_str(),
                    r["pearson"].get<double>(), r["pearson_95"][0].get<double>(), r["pearson_95"][1].get<double>(),
                    r["spearman"].get<double>(), r["spearman_95"][0].get<double>(), r["spearman_95"][1].get<double>());
    }
    if (result.contains("shapley_removal")) {
      const auto& s = result["shapley_removal"];
      std::printf("Data Shapley removal curve (%lld players; test accuracy of the last-layer learner)\n",
                  static_cast<long long>(s["players"].get<int64_t>()));
      std::printf("  removed   high value first   random\n");
      for (size_t i = 0; i < s["removed_share_of_players"].size(); ++i)
        std::printf("  %5.0f%%   %.4f             %.4f\n", 100 * s["removed_share_of_players"][i].get<double>(),
                    s["accuracy_high_value_first"][i].get<double>(), s["accuracy_random"][i].get<double>());
    }
    if (result.contains("linear_datamodeling")) {
      const Json& l = result["linear_datamodeling"];
      std::printf("linear datamodeling score (%lld subsets of %.0f%%, %lld seed%s each)\n",
                  static_cast<long long>(l["subsets"].get<int64_t>()), 100 * l["fraction"].get<double>(),
                  static_cast<long long>(l["seeds"].get<int64_t>()), l["seeds"].get<int64_t>() > 1 ? "s" : "");
      for (const auto& r : result["linear_datamodeling"]["table"]) {
        const Json& ci = r["lds_95"];
        if (ci[0].is_null())
          std::printf("  %-14s LDS %+.3f\n", r["method"].get<std::string>().c_str(), r["lds"].get<double>());
        else
          std::printf("  %-14s LDS %+.3f [%+.3f, %+.3f] (se %.3f, resampling subsets)\n", r["method"].get<std::string>().c_str(),
                      r["lds"].get<double>(), ci[0].get<double>(), ci[1].get<double>(), r["standard_error"].get<double>());
      }
    }
  });
}

}  // namespace lumen::cli
