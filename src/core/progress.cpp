#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace lumen {
namespace {
bool g_quiet = false;
thread_local ProgressScope* t_scope = nullptr;
}  // namespace

ProgressScope::ProgressScope(Sink sink, const std::atomic<bool>* cancel)
    : sink_(std::move(sink)), cancel_(cancel), outer_(t_scope) {
  t_scope = this;
}
ProgressScope::~ProgressScope() { t_scope = outer_; }

void ProgressScope::check_cancelled() {
  if (t_scope && t_scope->cancel_ && t_scope->cancel_->load()) throw Cancelled("cancelled");
}

bool Progress::terminal_output() { return !g_quiet && ::isatty(STDERR_FILENO); }
void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && terminal_output()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (t_scope && t_scope->sink_) t_scope->sink_({label_, 0, total_});
}

Progress::~Progress() {
  if (enabled_ && !finished_) std::fputc('\n', stderr);
}

void Progress::advance(int64_t n, const std::string& suffix) {
  done_ += n;
  if (t_scope) {
    if (t_scope->sink_) t_scope->sink_({label_, done_, total_});
    ProgressScope::check_cancelled();
  }
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(suffix);
}

void Progress::finish(const std::string& suffix) {
  if (!enabled_ || finished_) return;
  done_ = total_;
  draw(suffix);
  std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(const std::string& suffix) {
  const int width = 30;
  const double frac = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const int filled = static_cast<int>(frac * width);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1fs %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), secs, suffix.c_str());
  std::fflush(stderr);
}

}  // namespace lumen
