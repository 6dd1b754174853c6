// Long work for the explorer (a split's explanations): submitted, polled for progress, and
// cancelled (core/progress.h's ProgressScope carries both). A fixed number of job threads run
// the queue in order; finished jobs are kept (the newest `keep`) until read.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "core/progress.h"

namespace lumen::server {

class JobQueue {
 public:
  explicit JobQueue(int threads = 1, size_t keep = 32);
  // Cancels the running jobs, drops the queued ones and joins the threads.
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Queues `work` (it may throw; Cancelled marks the job cancelled); returns the job's id.
  std::string submit(const std::string& kind, const Json& request, std::function<Json()> work);
  // {"id", "kind", "state": queued | running | done | failed | cancelled, "progress":
  // {"label", "done", "total"}, "seconds", "request", "result" (done), "error" (failed)};
  // null for an unknown id. `with_result` false leaves the result out (listings).
  Json status(const std::string& id, bool with_result = true) const;
  // Every kept job, newest first, without results.
  Json list() const;
  // Asks a queued or running job to stop; false for an unknown or finished one.
  bool cancel(const std::string& id);

 private:
  struct Job {
    std::string id, kind, state = "queued", error;
    Json request, result;
    ProgressReport progress;
    std::atomic<bool> cancel{false};
    std::function<Json()> work;
    std::chrono::steady_clock::time_point submitted, started, finished;
  };
  void worker();
  Json describe(const Job& job, bool with_result) const;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::string> order_;  // ids, oldest first
  size_t keep_;
  int64_t next_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lumen::server
