// `lumen compare`: runs side by side under the same analyses (the "Attention is not Explanation"
// suite and Serrano & Smith's erasure), with what each encoder or fix changes against the first
// run; compare.json and compare.html.
#include <cmath>
#include <cstdio>

#include "app/compare.h"
#include "cli/common.h"

namespace lumen::cli {

void register_compare(CLI::App& app) {
  struct Options {
    app::CompareRequest q;
    std::string out = "compare";
  };
  auto o = std::make_shared<Options>();
  auto& a = o->q.options;
  a.limit = 200;
  auto* cmd = app.add_subcommand("compare", "Runs side by side: accuracy and every test of attention, against the first run");
  cmd->add_option("--runs", o->q.runs, "Run directories; the first is the baseline")->required()->take_all();
  cmd->add_option("--names", o->q.names, "A display name per run (default: the directories' names)")->take_all();
  cmd->add_option("--data", o->q.data, "Dataset spec for every run (default: each run's own data)");
  cmd->add_option("--split", o->q.split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", a.limit, "The first N instances of the split (0 = all)")->capture_default_str();
  cmd->add_option("--permutations", a.permutations, "Random permutations per instance")->capture_default_str();
  cmd->add_option("--adversaries", a.adversarial_options.candidates, "Adversarial candidates K per instance")->capture_default_str();
  cmd->add_option("--epsilon", a.adversarial_options.epsilon, "Adversarial selection: output TVD at most epsilon")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed of permutations and adversarial initialisation")->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->callback([o] {
    setup_runtime();
    o->q.out = o->out;
    if (!globals().quiet && !globals().json) o->q.log = [](const std::string& s) { info(s); };
    const Json d = app::compare_runs(o->q);
    if (globals().json) {
      print_json(d);
      return;
    }
    auto num = [](const Json& v) { return v.is_number() ? v.get<double>() : NAN; };
    std::printf("%lld %s instances per run; changes against %s\n", static_cast<long long>(d["instances"].get<int64_t>()),
                o->q.split.c_str(), d["baseline"].get<std::string>().c_str());
    std::printf("%-16s %-26s %6s %7s %7s %7s %7s %7s %7s %7s\n", "run", "fix", "acc", "tau_g", "tau_loo", "perm", "adv_jsd",
                "erase", "flips", "F1");
    for (const auto& r : d["rows"])
      std::printf("%-16s %-26s %6.3f %+7.3f %+7.3f %7.4f %7.3f %7.3f %7.3f %7.3f\n", r["name"].get<std::string>().c_str(),
                  r["fix"].get<std::string>().c_str(), num(r["test_accuracy"]), num(r["tau_attention_gradient"]),
                  num(r["tau_attention_loo"]), num(r["permutation_median_tvd"]), num(r["adversarial_max_jsd"]),
                  num(r["erasure_fraction"]), num(r["erasure_flip_rate"]), num(r["plausibility_f1"]));
    std::printf("wrote %s/compare.json and compare.html\n", o->q.out.c_str());
  });
}

}  // namespace lumen::cli
