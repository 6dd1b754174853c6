#include "data/batch_plan.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/error.h"

namespace lumen::data {

void BatchLimits::validate() const {
  if (max_rows < 0) throw InvalidArgument("batches: max_rows must be >= 0, got " + std::to_string(max_rows));
  if (max_tokens < 0) throw InvalidArgument("batches: max_tokens must be >= 0, got " + std::to_string(max_tokens));
}

std::vector<int64_t> length_order(const std::vector<int64_t>& lengths) {
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
  return order;
}

std::vector<std::vector<int64_t>> plan_batches(const std::vector<int64_t>& order, const std::vector<int64_t>& lengths,
                                               const BatchLimits& limits, const std::vector<int64_t>& rows) {
  limits.validate();
  if (!rows.empty() && rows.size() != lengths.size())
    throw InvalidArgument("batches: rows must give one count per item");
  auto rows_of = [&](int64_t i) { return rows.empty() ? int64_t{1} : rows[i]; };
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> current;
  int64_t current_rows = 0, longest = 0;
  for (int64_t i : order) {
    const int64_t r = rows_of(i), len = std::max(longest, lengths.at(i));
    const bool fits = (limits.max_rows == 0 || current_rows + r <= limits.max_rows) &&
                      (limits.max_tokens == 0 || (current_rows + r) * len <= limits.max_tokens);
    if (!current.empty() && !fits) {
      batches.push_back(std::move(current));
      current.clear();
      current_rows = 0;
      longest = 0;
    }
    current.push_back(i);
    current_rows += r;
    longest = std::max(longest, lengths[i]);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

std::vector<std::vector<int64_t>> length_sorted_batches(const std::vector<int64_t>& lengths, const BatchLimits& limits,
                                                        const std::vector<int64_t>& rows) {
  return plan_batches(length_order(lengths), lengths, limits, rows);
}

std::vector<std::vector<int64_t>> consecutive_batches(int64_t n, int64_t max_rows) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  return plan_batches(order, std::vector<int64_t>(n, 1), {/*max_rows=*/max_rows, /*max_tokens=*/0});
}

int64_t copies_per_pass(int64_t chunk, int64_t max_tokens, int64_t rows, int64_t row_positions) {
  if (chunk > 0) return chunk;
  return std::max<int64_t>(1, max_tokens / std::max<int64_t>(1, rows * row_positions));
}

}  // namespace lumen::data
