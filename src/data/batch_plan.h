// The one batch planner: which items go together into a padded batch. Every batched pass of
// Lumen (training, evaluation, the analyses, the attribution methods, the evaluation of their
// perturbed inputs) plans its batches here, so that "length-sorted, bounded in rows and padded
// positions" means the same everywhere.
#pragma once
#include <cstdint>
#include <vector>

namespace lumen::data {

struct BatchLimits {
  // Rows per batch, counting each item as `rows[i]` rows (1 when not given); 0 = no bound.
  int64_t max_rows = 0;
  // Padded positions per batch: its rows times the length of its longest item; 0 = no bound.
  int64_t max_tokens = 0;
  // Throws InvalidArgument for a negative bound.
  void validate() const;
};

// Item indices ordered by length, shortest first; equal lengths keep their order.
std::vector<int64_t> length_order(const std::vector<int64_t>& lengths);

// Cuts `order` (a visiting order of item indices) into consecutive batches within `limits`.
// An item that exceeds a bound alone still forms a batch of its own, so every item is placed
// exactly once. lengths[i]: padded length of item i; rows[i] (optional): rows item i stands for
// (e.g. its deletions in leave-one-out).
std::vector<std::vector<int64_t>> plan_batches(const std::vector<int64_t>& order, const std::vector<int64_t>& lengths,
                                               const BatchLimits& limits, const std::vector<int64_t>& rows = {});

// plan_batches over length_order(lengths): little padding, similar work per batch.
std::vector<std::vector<int64_t>> length_sorted_batches(const std::vector<int64_t>& lengths, const BatchLimits& limits,
                                                        const std::vector<int64_t>& rows = {});

// Items 0..n-1 in their order, at most max_rows per batch (the passes whose results are listed
// in input order: explanation documents, per-instance outputs).
std::vector<std::vector<int64_t>> consecutive_batches(int64_t n, int64_t max_rows);

// Copies of a batch to evaluate per pass when a method repeats it (integrated-gradients and
// AttAttr path points, SmoothGrad samples): `chunk` when > 0, else as many as keep
// copies x rows x row_positions within max_tokens (at least one).
int64_t copies_per_pass(int64_t chunk, int64_t max_tokens, int64_t rows, int64_t row_positions);

}  // namespace lumen::data
