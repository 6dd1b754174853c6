#include "app/influence_check.h"

#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "train/train_run.h"

namespace lumen::app {

void InfluenceCheckRequest::validate() const {
  options.validate();
  if (resume && out.empty()) throw InvalidArgument("influence-check: --resume needs --out");
}

Json run_influence_check(models::Run& run, const InfluenceCheckRequest& q) {
  q.validate();
  data::Dataset ds = train::load_dataset_for_run(run, "");
  const data::EncodedSet train = data::EncodedSet::from(ds.train, run.vocab, ds.pair);
  const data::EncodedSet dev = data::EncodedSet::from(ds.dev, run.vocab, ds.pair);
  const data::EncodedSet test = data::EncodedSet::from(ds.test, run.vocab, ds.pair);
  influence::CheckInputs in;
  in.run = &run;
  in.train = &train;
  in.dev = &dev;
  in.test = &test;
  in.log = q.log ? q.log : [](const std::string&) {};
  // Finished retrainings go to OUT.partial/ as they finish (a new check without --resume
  // starts from nothing; a finished one leaves none behind).
  const std::string partial_dir = q.out.empty() ? "" : q.out + ".partial";
  if (!partial_dir.empty() && !q.resume) std::filesystem::remove_all(partial_dir);
  in.partial = influence::PartialStore(partial_dir, {{"run", run.dir}, {"options", q.options.to_json()}, {"test", test.size()}});
  const Json result = influence::check_influence(in, q.options);
  if (!q.out.empty()) {
    write_file_atomic(q.out, result.dump(1) + "\n");
    std::filesystem::remove_all(partial_dir);
  }
  return result;
}

}  // namespace lumen::app
