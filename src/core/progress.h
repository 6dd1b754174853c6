// A progress bar for long work: drawn on stderr when it is a terminal, silent otherwise
// (pipes, CI logs) or when disabled with --quiet. Under a ProgressScope (a server job) every
// Progress of the thread also reports to the scope's sink and stops the work with Cancelled
// when the scope's flag is set.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"

namespace lumen {

// Long work stopped at the caller's request (ProgressScope's flag).
class Cancelled : public Error {
 public:
  using Error::Error;
};

struct ProgressReport {
  std::string label;
  int64_t done = 0, total = 0;
};

// For its lifetime on this thread: every Progress created on the thread sends its state to
// `sink` (at its start and at each advance), and each advance throws Cancelled once `*cancel`
// is true. Scopes nest (the innermost wins).
class ProgressScope {
 public:
  using Sink = std::function<void(const ProgressReport&)>;
  ProgressScope(Sink sink, const std::atomic<bool>* cancel);
  ~ProgressScope();
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;
  // Throws Cancelled when the current scope's flag is set (for loops without a Progress).
  static void check_cancelled();

 private:
  friend class Progress;
  Sink sink_;
  const std::atomic<bool>* cancel_;
  ProgressScope* outer_;
};

class Progress {
 public:
  // `total` units of work labelled `label`; `enabled` false silences it whatever stderr is.
  Progress(std::string label, int64_t total, bool enabled = true);
  ~Progress();
  // Advances by `n` units; `suffix` (e.g. "loss 0.31") is shown after the bar.
  void advance(int64_t n = 1, const std::string& suffix = "");
  // Draws the final state and a newline.
  void finish(const std::string& suffix = "");

  // Whether progress is drawn at all: stderr is a terminal and not globally silenced.
  static bool terminal_output();
  static void set_quiet(bool quiet);

 private:
  void draw(const std::string& suffix);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace lumen
