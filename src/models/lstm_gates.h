// The fused BiLSTM kernel's element work on one row of one step (internal to src/models): every
// gate's activation, the cell and the state in one pass forward, and the pre-activation
// gradients in one pass backward. Each has an AVX2/FMA version (vectorised exp, chosen at run
// time when the CPU has it) and a portable one; both compute the same function.
#pragma once
#include <cstdint>

namespace lumen::models::lstm_internal {

// One forward step of one row. g [4H] holds h_{t-1} W_hh^T (+ the input projection when x is
// null); x [4H], when given, is the input projection x_t W_ih^T + bias, added here. On return
// g holds the activated gates i, f, g~, o (what the backward pass reads), cnext = f c + i g~,
// tc = tanh(cnext), h = o tc, and out (when not null) a copy of h.
template <typename T>
void cell_forward(T* g, const T* x, const T* cprev, T* cnext, T* tc, T* h, T* out, int64_t H);

// One backward step of one row: from the activated gates gr [4H], the previous cell cprev, tanh
// of this cell t, the state gradient dh (+ the output's gradient gout), and the cell gradient
// dc (updated in place to the previous cell's), fills dgr [4H] with the pre-activation
// gradients.
template <typename T>
void cell_backward(const T* gr, const T* cprev, const T* t, const T* dh, const T* gout, T* dc, T* dgr, int64_t H);

// Whether the AVX2/FMA versions run: true when the CPU has AVX2 and FMA, unless
// use_portable_cells(true) (the tests that hold the two versions equal) switched them off.
bool cell_simd();
void use_portable_cells(bool portable);

}  // namespace lumen::models::lstm_internal
