#include "server/jobs.h"

#include <algorithm>

#include "core/error.h"

namespace lumen::server {

JobQueue::JobQueue(int threads, size_t keep) : keep_(std::max<size_t>(keep, 1)) {
  if (threads < 1) throw InvalidArgument("jobs: threads must be >= 1");
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
}

JobQueue::~JobQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) job->cancel = true;
    queue_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

std::string JobQueue::submit(const std::string& kind, const Json& request, std::function<Json()> work) {
  auto job = std::make_shared<Job>();
  job->kind = kind;
  job->request = request;
  job->work = std::move(work);
  job->submitted = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job->id = "job-" + std::to_string(next_++);
    jobs_[job->id] = job;
    order_.push_back(job->id);
    // Forget the oldest finished jobs beyond `keep`.
    while (order_.size() > keep_) {
      auto it = std::find_if(order_.begin(), order_.end(), [&](const std::string& id) {
        const auto& s = jobs_.at(id)->state;
        return s == "done" || s == "failed" || s == "cancelled";
      });
      if (it == order_.end()) break;
      jobs_.erase(*it);
      order_.erase(it);
    }
    queue_.push_back(job);
  }
  ready_.notify_one();
  return job->id;
}

void JobQueue::worker() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      if (job->cancel) {
        job->state = "cancelled";
        job->finished = std::chrono::steady_clock::now();
        continue;
      }
      job->state = "running";
      job->started = std::chrono::steady_clock::now();
    }
    Json result;
    std::string state = "done", error;
    try {
      ProgressScope scope(
          [this, job](const ProgressReport& r) {
            std::lock_guard<std::mutex> lock(mutex_);
            job->progress = r;
          },
          &job->cancel);
      result = job->work();
    } catch (const Cancelled&) {
      state = "cancelled";
    } catch (const std::exception& e) {
      state = "failed";
      error = e.what();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    job->state = state;
    job->error = error;
    job->result = std::move(result);
    job->work = nullptr;
    job->finished = std::chrono::steady_clock::now();
  }
}

Json JobQueue::describe(const Job& job, bool with_result) const {
  const auto now = std::chrono::steady_clock::now();
  double seconds = 0;
  if (job.state == "running") seconds = std::chrono::duration<double>(now - job.started).count();
  else if (job.state != "queued" && job.started.time_since_epoch().count() != 0)
    seconds = std::chrono::duration<double>(job.finished - job.started).count();
  Json j = {{"id", job.id},
            {"kind", job.kind},
            {"state", job.state},
            {"progress", {{"label", job.progress.label}, {"done", job.progress.done}, {"total", job.progress.total}}},
            {"seconds", seconds},
            {"request", job.request}};
  if (job.state == "failed") j["error"] = job.error;
  if (with_result && job.state == "done") j["result"] = job.result;
  return j;
}

Json JobQueue::status(const std::string& id, bool with_result) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return nullptr;
  return describe(*it->second, with_result);
}

Json JobQueue::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Json out = Json::array();
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) out.push_back(describe(*jobs_.at(*it), false));
  return out;
}

bool JobQueue::cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  Job& job = *it->second;
  if (job.state != "queued" && job.state != "running") return false;
  job.cancel = true;
  return true;
}

}  // namespace lumen::server
