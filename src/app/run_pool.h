// A run opened for concurrent callers (the server, issue #13): one model replica per worker,
// leased for the length of a request, so that no request sees another's state (the eval-mode
// guard, autograd on the parameters, attention edits are all per replica or per call). The
// run's data splits are loaded once, on first use, and shared read-only.
#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "models/checkpoint.h"

namespace lumen::app {

class RunPool {
 public:
  // Loads `dir` `replicas` times (>= 1). `name` is how requests refer to it. Throws IoError /
  // ModelError from models::load_run.
  RunPool(std::string name, const std::string& dir, int replicas);
  const std::string& name() const { return name_; }
  // Replica 0: for metadata only (vocabulary, labels, config); compute on a lease.
  const models::Run& info() const { return *replicas_.front(); }

  // Exclusive use of one replica until destroyed; waits while every replica is leased.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), index_(other.index_) { other.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    const models::Run& run() const { return *pool_->replicas_[index_]; }

   private:
    friend class RunPool;
    Lease(RunPool* pool, size_t index) : pool_(pool), index_(index) {}
    RunPool* pool_;
    size_t index_;
  };
  Lease acquire();

  // What a client needs to know about the run: name, directory, labels, pair, the model's
  // config, its attention (pooling attention, self-attention layers and heads), the methods it
  // supports, the data spec it was trained on, whether it has an editor and the attack recipes
  // it serves (app::served_recipes).
  Json summary() const;

  // The examples of a split of the run's own data ("train" | "dev" | "test"), loaded once.
  // Throws InvalidArgument for an unknown split name and DataError when the data can't be read.
  std::shared_ptr<const std::vector<data::Example>> examples(const std::string& split);

  // The run's `lumen analyze` results (DIR/analysis/records.jsonl and summary.json), loaded
  // once; `available` false when the run has not been analysed. Records are found by their
  // tokens (the first text's).
  struct Analysis {
    bool available = false;
    std::string split;
    Json summary;
    std::map<std::string, Json> records;  // tokens joined by '\x1f' -> record
  };
  std::shared_ptr<const Analysis> analysis();
  // Joins an analysis computed in this process (the server's analyze job) to what analysis()
  // answers: records of the same split join the run's (a record with the same tokens is
  // replaced) and the summary becomes the job's; another split's replace them. Nothing is
  // written to the run directory.
  void add_analysis(const std::string& split, const Json& summary, const Json& records);

 private:
  std::shared_ptr<const Analysis> load_analysis_locked();
  std::string name_;
  std::vector<std::unique_ptr<models::Run>> replicas_;
  std::vector<size_t> free_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::mutex data_mutex_;
  std::map<std::string, std::shared_ptr<const std::vector<data::Example>>> splits_;
  std::shared_ptr<const Analysis> analysis_;
};

// The analysis record of `text` (typed as for predict; tokenized as the run was): {"found",
// "available", "split", "record" (InstanceRecord's JSON) and "overall" (the summary's) when
// found, "hint" otherwise}.
Json find_analysis(RunPool& pool, const std::string& text);

// Examples of `pool`'s split whose text (or second text) contains `query` (case-insensitive;
// empty: every example), from `offset`, at most `limit`: {"split", "total", "matched",
// "examples": [{"index", "text", "text_b"?, "label"?}]}.
Json find_examples(RunPool& pool, const std::string& split, const std::string& query, int64_t offset, int64_t limit);

}  // namespace lumen::app
