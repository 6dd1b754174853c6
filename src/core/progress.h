// A progress bar for long work: drawn on stderr when it is a terminal, silent otherwise
// (pipes, CI logs) or when disabled with --quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace lumen {

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
