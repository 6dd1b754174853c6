// A (bi)directional LSTM over padded batches with all input projections in one matrix product
// and its own backward pass (BPTT), so that a step costs one small batched product plus
// vectorised gate arithmetic instead of LibTorch's per-operation autograd graph.
// Gate order i, f, g, o as in torch::nn::LSTM; the reverse direction of each row starts at its
// own last real token, so results equal running torch::nn::LSTM on each sequence alone.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <vector>

namespace lumen::models {

struct LstmResult {
  // [B, T, D * H]: forward states, then reverse states; 0 at t >= length.
  at::Tensor output;
  // [B, D * H]: final state of each direction (forward at length-1, reverse at 0), as h_n.
  at::Tensor final_h;
};

// x [B, T, E] float/double; lengths [B] int64 (CPU, 1..T); w_ih [D*4H, E]; w_hh [D*4H, H];
// bias [D*4H] (b_ih + b_hh); directions D = 1 or 2. Differentiable in x, w_ih, w_hh, bias.
LstmResult fused_lstm(const at::Tensor& x, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                      const at::Tensor& bias, int64_t directions);

// The same as fused_lstm(embedding[ids], ...) for training: the kernel reads embedding rows
// itself, so the input projections and both of their gradients are computed once per distinct
// token of the batch rather than once per position. embedding [V, E]; ids [B, T] int64.
// Differentiable in embedding, w_ih, w_hh, bias.
LstmResult fused_lstm_from_ids(const at::Tensor& embedding, const at::Tensor& ids, const at::Tensor& lengths,
                               const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& bias, int64_t directions);

// The same recurrence from per-position input projections proj [B, T, D*4H] = x W_ih^T + bias
// (each direction's 4H values together, as w_ih's rows), for attributions that move along a path
// of inputs: the projections are linear in the input, so gradient x input and integrated
// gradients need only the gradient with respect to proj (no input product per path point).
// Differentiable in proj and w_hh. Equal to fused_lstm(x, ...) (tested).
LstmResult fused_lstm_projected(const at::Tensor& proj, const at::Tensor& lengths, const at::Tensor& w_hh,
                                int64_t directions);

// Encoder states of edited copies of the sequences, for the evaluation of perturbed texts
// (attacks, leave-one-out, occlusion, LIME), without autograd. Variant v of row rows[v] has its
// own tokens ids_v[v] (lengths_v[v] positions, each variant a different edit) whose first
// prefix[v] and last suffix[v] positions equal the original's. Its forward states before the
// prefix's end are the original's, and so are its reverse states over the suffix; only the
// forward direction from the first changed position (started from the original state there) and
// the reverse direction from the last changed position (started from the original reverse state
// after it) are run again. Input projections are computed once per distinct token. embedding
// [N, E]; ids [B, T], lengths [B]: the originals; ids_v [V, Tv], lengths_v [V]: the variants;
// requires prefix[v] + suffix[v] <= min(lengths[row], lengths_v[v]). Returns [V, Tv, D*H], 0 past
// each variant's length; equal to fused_lstm(embedding[ids_v]) (tested).
struct LstmEditPlan {
  std::vector<int64_t> rows, prefix, suffix;
};
at::Tensor fused_lstm_edits(const at::Tensor& embedding, const at::Tensor& ids, const at::Tensor& lengths,
                            const at::Tensor& ids_v, const at::Tensor& lengths_v, const at::Tensor& w_ih,
                            const at::Tensor& w_hh, const at::Tensor& bias, int64_t directions, const LstmEditPlan& plan);

// The plain twin: the same function step by step with LibTorch operations and autograd.
LstmResult plain_lstm(const at::Tensor& x, const at::Tensor& lengths, const at::Tensor& w_ih, const at::Tensor& w_hh,
                      const at::Tensor& bias, int64_t directions);

}  // namespace lumen::models
